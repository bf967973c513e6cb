# shellcheck shell=sh
# Start of the buildah scripts (buildah.sh, s2i.sh): the source date and the image labels it gives,
# registry search, storage. Included where a line reads `. ./buildah-prelude.sh`.
set -eu
epoch=$(cat /workspace/meta/source-date-epoch 2>/dev/null || echo 0)
export SOURCE_DATE_EPOCH="$epoch"
if [ "$epoch" != 0 ]; then set -- --label "org.opencontainers.image.created=$(date -u -d "@$epoch" +%Y-%m-%dT%H:%M:%SZ)" "$@"; fi
if [ -s /workspace/meta/commit ]; then set -- --label "org.opencontainers.image.revision=$(cat /workspace/meta/commit)" "$@"; fi
# The request's registries.conf (CONTAINERS_REGISTRIES_CONF, from its ConfigMap); else short names such as
# "FROM alpine" resolve on Docker Hub, as users of docker build expect.
if [ -z "${CONTAINERS_REGISTRIES_CONF:-}" ]; then
  printf 'unqualified-search-registries = ["docker.io"]\nshort-name-mode = "permissive"\n' > "$TMPDIR/registries.conf"
  export CONTAINERS_REGISTRIES_CONF="$TMPDIR/registries.conf"
fi
bah() { buildah --storage-driver=vfs "$@"; }
