# shellcheck shell=sh
# The provenance container, after a builder whose image has no curl (kaniko, BuildKit, the docker builder) or
# a custom builder asked for provenance: attaches the build's provenance to the image the builder pushed,
# whose digest it left in BUILDPOD_DIGEST_FILE, and reports both in its termination message.
set -eu
. ./provenance.sh
mkdir -p "$TMPDIR"
digest=$(cat "$BUILDPOD_DIGEST_FILE" 2>/dev/null || true)
case $digest in
  sha256:[0-9a-f]*) ;;
  *)
    printf 'buildpod: the build pushed %s but left no digest in %s; no provenance attached\n' "$BUILDPOD_IMAGE" "$BUILDPOD_DIGEST_FILE" >&2
    printf 'the build pushed %s but reported no digest, so no provenance was attached (--provenance false builds without it)' "$BUILDPOD_IMAGE" > /dev/termination-log
    exit 1
    ;;
esac
report_pushed "$digest"
