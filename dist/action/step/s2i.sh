# shellcheck shell=sh
# source strategy (S2I) with buildah: read the builder image's scripts location and user, pick the
# incremental Dockerfile when the previous image exists, build, push.
. ./buildah-prelude.sh
builder="$BUILDPOD_S2I_BUILDER"
# An incremental build pulls the previous image while the builder image is pulled, not after it.
previous=
if [ "${BUILDPOD_S2I_INCREMENTAL:-false}" = true ]; then
  bah pull --tls-verify="$BUILDPOD_TLS_VERIFY" -q "$BUILDPOD_IMAGE" >/dev/null 2>&1 &
  previous=$!
fi
bah pull --tls-verify="$BUILDPOD_TLS_VERIFY" -q "$builder" >/dev/null
# The builder's user and scripts label in one look (every buildah start costs time).
info=$(bah inspect --type image --format '{{ .OCIv1.Config.User }}|{{ index .OCIv1.Config.Labels "io.openshift.s2i.scripts-url" }}' "$builder")
user="${info%%|*}"
[ -n "$user" ] || user=0
scripts="${BUILDPOD_S2I_SCRIPTS_URL:-}"
[ -n "$scripts" ] || scripts="${info#*|}"
case "$scripts" in ""|"<no value>") scripts=image:///usr/libexec/s2i ;; esac
case "$scripts" in
image://*) dir="${scripts#image://}" ;;
*) printf 'buildpod: the builder image gives scripts at %s; only image:// locations are supported\n' "$scripts" >&2; exit 2 ;;
esac
dockerfile=/workspace/meta/Dockerfile
set -- "$@" --build-arg "BUILDPOD_S2I_BUILDER=$builder" --build-arg "BUILDPOD_S2I_SCRIPTS=$dir" --build-arg "BUILDPOD_S2I_USER=$user" --build-arg "BUILDPOD_S2I_OWNER=${user%%:*}:0"
if [ -n "$previous" ]; then
  if wait "$previous"; then
    printf 'buildpod: incremental build: restoring the artifacts saved by %s\n' "$BUILDPOD_IMAGE"
    dockerfile=/workspace/meta/Dockerfile.incremental
    set -- "$@" --build-arg "BUILDPOD_S2I_PREVIOUS=$BUILDPOD_IMAGE"
  else
    printf 'buildpod: no previous image %s to restore artifacts from: building from scratch\n' "$BUILDPOD_IMAGE"
  fi
fi
bah bud --isolation=chroot --timestamp "$epoch" --tls-verify="$BUILDPOD_TLS_VERIFY" --iidfile "$TMPDIR/iid" -f "$dockerfile" -t "$BUILDPOD_IMAGE" "$@" "$BUILDPOD_CONTEXT"
. ./buildah-push.sh
