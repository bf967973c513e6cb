# shellcheck shell=sh
# The image index of a build for several platforms, once each platform's build has pushed its image: an OCI
# index listing them (read from the registry: their manifests and configs, no layers), pushed under the
# build's image and tags, with its provenance. BUILDPOD_MANIFESTS holds the platforms' images as lines of
# repository@digest, in the request's order, so the same images give the same index.
. ./buildah-prelude.sh
. ./provenance.sh
index_fail() {
  printf 'buildpod: %s\n' "$1" >&2
  printf '%s' "$1" > /dev/termination-log
  exit 1
}
# What the platforms' builds reported reaches the provenance only as hex digits and a time.
is_hex() { case $1 in '' | *[!0-9a-f]*) return 1 ;; esac; }
mkdir -p /workspace/meta
if is_hex "${BUILDPOD_INDEX_COMMIT:-}"; then printf '%s' "$BUILDPOD_INDEX_COMMIT" > /workspace/meta/commit; fi
if is_hex "${BUILDPOD_INDEX_INPUT:-}"; then printf '%s' "$BUILDPOD_INDEX_INPUT" > /workspace/meta/input-digest; fi
case ${BUILDPOD_INDEX_STARTED:-} in
  [0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]T[0-9][0-9]:[0-9][0-9]:[0-9][0-9]Z) printf '%s' "$BUILDPOD_INDEX_STARTED" > /workspace/meta/started ;;
esac
[ -n "${BUILDPOD_MANIFESTS:-}" ] || index_fail "no platform's image was given to the index"
bah manifest create buildpod-index >/dev/null
printf '%s\n' "$BUILDPOD_MANIFESTS" | while IFS= read -r ref; do
  [ -n "$ref" ] || continue
  case $ref in *@sha256:*) ;; *) index_fail "$ref is not an image pinned by its digest" ;; esac
  bah manifest add --tls-verify="$BUILDPOD_TLS_VERIFY" buildpod-index "docker://$ref" >/dev/null
  printf 'buildpod: added %s\n' "$ref"
done
# The index goes where the platforms' images are; under a tag of another repository with them (--all).
repo=${BUILDPOD_IMAGE%:*}
bah manifest push --all=false --format oci --tls-verify="$BUILDPOD_TLS_VERIFY" --digestfile "$TMPDIR/digest" buildpod-index "docker://$BUILDPOD_IMAGE"
digest=$(cat "$TMPDIR/digest")
printf '%s\n' "${BUILDPOD_TAGS:-}" | while IFS= read -r tag; do
  [ -n "$tag" ] || continue
  all=false
  [ "${tag%:*}" = "$repo" ] || all=true
  bah manifest push --all="$all" --format oci --tls-verify="$BUILDPOD_TLS_VERIFY" buildpod-index "docker://$tag"
done
report_pushed "$digest"
