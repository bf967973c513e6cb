# shellcheck shell=sh
# End of the buildah scripts: push the image and every extra tag, report the registry digest.
# Included where a line reads `. ./buildah-push.sh`.
bah push --tls-verify="$BUILDPOD_TLS_VERIFY" --digestfile "$TMPDIR/digest" "$BUILDPOD_IMAGE" "docker://$BUILDPOD_IMAGE"
digest=$(cat "$TMPDIR/digest")
printf '%s\n' "${BUILDPOD_TAGS:-}" | while IFS= read -r tag; do
  [ -n "$tag" ] || continue
  bah push --tls-verify="$BUILDPOD_TLS_VERIFY" "$BUILDPOD_IMAGE" "docker://$tag"
done
printf '{"digest":"%s"}' "$digest" > /dev/termination-log
printf 'buildpod: pushed %s@%s\n' "$BUILDPOD_IMAGE" "$digest"
