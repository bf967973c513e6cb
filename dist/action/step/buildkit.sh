# shellcheck shell=sh
# docker strategy, rootless BuildKit. "$@": --opt options and the cache's --import-cache/--export-cache;
# the output spec comes in BUILDPOD_OUTPUT.
set -eu
epoch=$(cat /workspace/meta/source-date-epoch 2>/dev/null || echo 0)
if [ "$epoch" != 0 ]; then set -- --opt "label:org.opencontainers.image.created=$(date -u -d "@$epoch" +%Y-%m-%dT%H:%M:%SZ)" "$@"; fi
if [ -s /workspace/meta/commit ]; then set -- --opt "label:org.opencontainers.image.revision=$(cat /workspace/meta/commit)" "$@"; fi
if [ "$BUILDPOD_TLS_VERIFY" = false ]; then
  for host in "$BUILDPOD_REGISTRY" "${BUILDPOD_CACHE_REGISTRY:-}"; do
    [ -z "$host" ] || printf '[registry."%s"]\n  http = true\n  insecure = true\n' "$host"
  done > /tmp/buildkitd.toml
  export BUILDKITD_FLAGS="${BUILDKITD_FLAGS:-} --config=/tmp/buildkitd.toml"
fi
buildctl-daemonless.sh build --frontend dockerfile.v0 \
  --local "context=$BUILDPOD_CONTEXT" --local "dockerfile=$BUILDPOD_DOCKERFILE_DIR" \
  --opt "filename=$BUILDPOD_DOCKERFILE_NAME" --opt "build-arg:SOURCE_DATE_EPOCH=$epoch" \
  --output "$BUILDPOD_OUTPUT" --metadata-file /tmp/metadata.json "$@"
digest=$(tr -d '\n' < /tmp/metadata.json | sed -n 's/.*"containerimage\.digest": *"\(sha256:[0-9a-f]*\)".*/\1/p' | head -n 1)
if [ "$(wc -c < /tmp/metadata.json)" -le 4000 ]; then
  cp /tmp/metadata.json /dev/termination-log
else
  config=$(tr -d '\n' < /tmp/metadata.json | sed -n 's/.*"containerimage\.config\.digest": *"\(sha256:[0-9a-f]*\)".*/\1/p' | head -n 1)
  printf '{"digest":"%s","imageId":"%s"}' "$digest" "$config" > /dev/termination-log
fi
# For the provenance container after this one (this image has no curl).
if [ -n "${BUILDPOD_DIGEST_FILE:-}" ]; then printf '%s' "$digest" > "$BUILDPOD_DIGEST_FILE"; fi
