# shellcheck shell=sh
# docker strategy, buildah builder. "$@": --build-arg, --label, --target and the layer cache's options.
. ./buildah-prelude.sh
bah bud --isolation=chroot --timestamp "$epoch" --tls-verify="$BUILDPOD_TLS_VERIFY" --iidfile "$TMPDIR/iid" -f "$BUILDPOD_DOCKERFILE" -t "$BUILDPOD_IMAGE" "$@" "$BUILDPOD_CONTEXT"
. ./buildah-push.sh
