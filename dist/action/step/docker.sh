# shellcheck shell=sh
# docker strategy through the node's Docker daemon (opt-in). "$@": --build-arg, --label, --target.
set -eu
epoch=$(cat /workspace/meta/source-date-epoch 2>/dev/null || echo 0)
if [ "$epoch" != 0 ]; then set -- --label "org.opencontainers.image.created=$(date -u -d "@$epoch" +%Y-%m-%dT%H:%M:%SZ)" "$@"; fi
if [ -s /workspace/meta/commit ]; then set -- --label "org.opencontainers.image.revision=$(cat /workspace/meta/commit)" "$@"; fi
docker build --build-arg "SOURCE_DATE_EPOCH=$epoch" --iidfile /tmp/iid -f "$BUILDPOD_DOCKERFILE" -t "$BUILDPOD_IMAGE" "$@" "$BUILDPOD_CONTEXT"
if [ "$BUILDPOD_PUSH" = false ]; then
  printf '{"imageId":"%s"}' "$(cat /tmp/iid)" > /dev/termination-log
  exit 0
fi
push() { docker push "$1" > /tmp/push.log 2>&1 || { cat /tmp/push.log >&2; exit 1; }; cat /tmp/push.log; }
push "$BUILDPOD_IMAGE"
digest=$(sed -n 's/.*digest: \(sha256:[0-9a-f]\{64\}\).*/\1/p' /tmp/push.log | tail -n 1)
printf '%s\n' "${BUILDPOD_TAGS:-}" | while IFS= read -r tag; do
  [ -n "$tag" ] || continue
  docker tag "$BUILDPOD_IMAGE" "$tag"
  push "$tag"
done
printf '{"digest":"%s"}' "$digest" > /dev/termination-log
# For the provenance container after this one (this image has no curl).
if [ -n "${BUILDPOD_DIGEST_FILE:-}" ]; then printf '%s' "$digest" > "$BUILDPOD_DIGEST_FILE"; fi
