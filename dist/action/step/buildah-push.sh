# shellcheck shell=sh
# End of the buildah scripts: push the image and every extra tag, attach the build's provenance, report the
# registry digest; or, when BUILDPOD_PUSH is false, report the built image's ID. Included where a line reads
# `. ./buildah-push.sh`.
. ./provenance.sh
if [ "$BUILDPOD_PUSH" = false ]; then
  id=$(cat "$TMPDIR/iid")
  printf '{"imageId":"%s"}' "$id" > /dev/termination-log
  printf 'buildpod: built %s (image ID %s), not pushed\n' "$BUILDPOD_IMAGE" "$id"
  exit 0
fi
bah push --tls-verify="$BUILDPOD_TLS_VERIFY" --digestfile "$TMPDIR/digest" "$BUILDPOD_IMAGE" "docker://$BUILDPOD_IMAGE"
digest=$(cat "$TMPDIR/digest")
printf '%s\n' "${BUILDPOD_TAGS:-}" | while IFS= read -r tag; do
  [ -n "$tag" ] || continue
  bah push --tls-verify="$BUILDPOD_TLS_VERIFY" "$BUILDPOD_IMAGE" "docker://$tag"
done
report_pushed "$digest"
