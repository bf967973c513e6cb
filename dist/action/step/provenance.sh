# shellcheck shell=sh
# The build's provenance attached to the image just pushed ($digest): an in-toto statement (SLSA provenance
# v1) that buildpod renders into BUILDPOD_PROVENANCE, with the values only the pod knows left as
# placeholders, pushed as an OCI 1.1 artifact whose subject is the image ($1), with the push credentials, into
# every repository in BUILDPOD_PROVENANCE_TARGETS (lines of "API-HOST REPOSITORY CREDENTIAL-KEY..."). A
# registry without the referrers API gets the referrers tag schema instead: an index tagged sha256-<hex>
# listing the image's referrers. Writes the artifact's digest to $TMPDIR/attestation. Every value it sends comes from
# the environment or from the registry, never from the script's text. Included where a line reads
# `. ./provenance.sh`.

# The media types of the referrer: an empty config, one in-toto layer.
OCI_MANIFEST=application/vnd.oci.image.manifest.v1+json
OCI_INDEX=application/vnd.oci.image.index.v1+json
IN_TOTO=application/vnd.in-toto+json
EMPTY_DIGEST=sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a

prov_fail() {
  printf 'buildpod: %s is pushed, but its provenance could not be attached: %s (--provenance false pushes without it)\n' "$BUILDPOD_IMAGE@$digest" "$1" >&2
  printf '%s is pushed, but its provenance could not be attached: %s' "$BUILDPOD_IMAGE@$digest" "$1" > /dev/termination-log
  exit 1
}

# curl with the current registry's credentials (a header file: no credential is in any process's
# arguments), its TLS settings and the proxy of the environment.
reg() {
  if [ -s "$TMPDIR/reg-auth" ]; then set -- -H "@$TMPDIR/reg-auth" "$@"; fi
  reg_anonymous "$@"
}
reg_anonymous() {
  if [ -n "${reg_direct:-}" ]; then set -- --noproxy '*' "$@"; fi
  if [ -n "${reg_cacert:-}" ]; then set -- --cacert "$reg_cacert" "$@"; fi
  if [ "$BUILDPOD_TLS_VERIFY" = false ]; then set -- -k "$@"; fi
  curl -sS --connect-timeout 30 --max-time 300 --retry 2 "$@"
}
# A response header's value ($1, lower case) from the headers file $2.
header() { tr -d '\r' < "$2" | sed -n "s/^$1: *//Ip" | tail -n 1; }
# A parameter ($1) of the authentication challenge in $challenge.
challenge_param() { printf '%s' "$challenge" | sed -n "s/.*[ ,]$1=\"\\([^\"]*\\)\".*/\\1/p"; }

# The "auth" value (base64 user:password) for the keys "$@" in the Docker config files the builder reads.
reg_credentials() {
  for file in "${REGISTRY_AUTH_FILE:-}" "${DOCKER_CONFIG:+$DOCKER_CONFIG/config.json}"; do
    if [ -z "$file" ] || [ ! -r "$file" ]; then continue; fi
    cfg=$(tr -d ' \t\r\n' < "$file")
    for key in "$@"; do
      case $cfg in
        *"\"$key\":{"*)
          entry=${cfg#*"\"$key\":{"}
          entry=${entry%%\}*}
          case $entry in *'"auth":"'*) entry=${entry#*'"auth":"'}; printf '%s' "${entry%%\"*}"; return 0 ;; esac
          ;;
      esac
    done
  done
  return 1
}

# Logs in to the registry at $base for pulling and pushing $1: basic credentials where it asks for them,
# else a bearer token from its token service.
reg_login() {
  : > "$TMPDIR/reg-auth"
  code=$(reg_anonymous -o /dev/null -D "$TMPDIR/reg-headers" -w '%{http_code}' "$base/v2/") || prov_fail "$base/v2/ did not answer"
  [ "$code" = 401 ] || return 0
  challenge=$(header www-authenticate "$TMPDIR/reg-headers")
  case $challenge in
    [Bb]asic*)
      [ -n "$basic" ] || prov_fail "$base asks for credentials and the push Secret has none for it"
      printf 'Authorization: Basic %s\n' "$basic" > "$TMPDIR/reg-auth"
      ;;
    [Bb]earer*)
      realm=$(challenge_param realm)
      [ -n "$realm" ] || prov_fail "$base's challenge names no token service: $challenge"
      if [ -n "$basic" ]; then printf 'Authorization: Basic %s\n' "$basic" > "$TMPDIR/reg-auth"; fi
      token=$(reg -G --data-urlencode "service=$(challenge_param service)" --data-urlencode "scope=repository:$1:pull,push" "$realm" |
        tr -d ' \r\n' | sed -n 's/.*"\(access_token\|token\)":"\([^"]*\)".*/\2/p') || prov_fail "the token service $realm did not answer"
      [ -n "$token" ] || prov_fail "the token service $realm gave no token for $1"
      printf 'Authorization: Bearer %s\n' "$token" > "$TMPDIR/reg-auth"
      ;;
    *) prov_fail "$base asks for an authentication scheme this script does not speak: $challenge" ;;
  esac
}

# Uploads the file $1 as the blob $2 into the repository $repo, unless the registry has it.
reg_blob() {
  code=$(reg -I -o /dev/null -w '%{http_code}' "$base/v2/$repo/blobs/$2") || prov_fail "$base did not answer"
  [ "$code" = 200 ] && return 0
  code=$(reg -X POST -o /dev/null -D "$TMPDIR/reg-headers" -w '%{http_code}' "$base/v2/$repo/blobs/uploads/") || prov_fail "$base did not answer"
  [ "$code" = 202 ] || prov_fail "starting an upload to $repo answered HTTP $code"
  location=$(header location "$TMPDIR/reg-headers")
  case $location in
    /*) location="$base$location" ;;
  esac
  case $location in *\?*) location="$location&digest=$2" ;; *) location="$location?digest=$2" ;; esac
  # The credentials go only to the registry itself: an upload may be sent on to another host.
  case $location in
    "$base"/*) code=$(reg -X PUT -o /dev/null -w '%{http_code}' -H 'Content-Type: application/octet-stream' --data-binary "@$1" "$location") ;;
    *) code=$(reg_anonymous -X PUT -o /dev/null -w '%{http_code}' -H 'Content-Type: application/octet-stream' --data-binary "@$1" "$location") ;;
  esac || prov_fail "uploading to $repo failed"
  [ "$code" = 201 ] || prov_fail "uploading a blob to $repo answered HTTP $code"
}

# Puts the manifest file $1 of media type $2 under the reference $3; its response headers go to reg-headers.
reg_manifest() {
  code=$(reg -X PUT -o "$TMPDIR/reg-body" -D "$TMPDIR/reg-headers" -w '%{http_code}' -H "Content-Type: $2" --data-binary "@$1" "$base/v2/$repo/manifests/$3") || prov_fail "$base did not answer"
  [ "$code" = 201 ] || prov_fail "pushing a manifest to $repo:$3 answered HTTP $code: $(head -c 300 "$TMPDIR/reg-body")"
}

sha256() { printf 'sha256:%s' "$(sha256sum "$1" | cut -d ' ' -f 1)"; }
size() { wc -c < "$1" | tr -d ' '; }

attach_provenance() {
  digest=$1
  command -v curl >/dev/null 2>&1 || prov_fail "the builder image has no curl; give an image with curl, or build with --provenance false"
  started=$(cat /workspace/meta/started 2>/dev/null || true)
  [ -n "$started" ] || started=$(date -u +%Y-%m-%dT%H:%M:%SZ)
  finished=$(date -u +%Y-%m-%dT%H:%M:%SZ)
  commit=$(cat /workspace/meta/commit 2>/dev/null || true)
  input=$(cat /workspace/meta/input-digest 2>/dev/null || true)
  # The placeholders are the statement's only "@" characters (core/provenance.ts); what goes in is hex
  # digits and times.
  printf '%s' "$BUILDPOD_PROVENANCE" | sed -e "s/\"@@SUBJECT@@\"/\"${digest#sha256:}\"/g" -e "s/\"@@COMMIT@@\"/\"$commit\"/g" -e "s/\"@@INPUT@@\"/\"$input\"/g" \
    -e "s/\"@@STARTED@@\"/\"$started\"/g" -e "s/\"@@FINISHED@@\"/\"$finished\"/g" > "$TMPDIR/provenance.json"
  printf '{}' > "$TMPDIR/empty.json"
  statement=$(sha256 "$TMPDIR/provenance.json")
  reg_cacert=""
  if [ -n "${BUILDPOD_CA_BUNDLE:-}" ]; then
    # curl takes one bundle: the system's with the request's added.
    reg_cacert="$TMPDIR/ca.pem"
    for f in /etc/pki/tls/certs/ca-bundle.crt /etc/ssl/certs/ca-certificates.crt /etc/ssl/cert.pem; do
      if [ -r "$f" ]; then cat "$f" > "$reg_cacert"; break; fi
    done
    cat "$BUILDPOD_CA_BUNDLE" >> "$reg_cacert"
  fi
  while read -r host repo keys; do
    [ -n "$host" ] || continue
    # NO_PROXY may name the registry as host:port, which the builders (Go) honour and curl does not.
    reg_direct=""
    case ",${NO_PROXY:-${no_proxy:-}}," in *",$host,"*) reg_direct=1 ;; esac
    base="https://$host"
    if [ "$BUILDPOD_TLS_VERIFY" = false ] && ! reg_anonymous -o /dev/null --retry 0 "$base/v2/" 2>/dev/null; then base="http://$host"; fi
    # shellcheck disable=SC2086 # the keys are words: host names and URLs
    basic=$(reg_credentials $keys || true)
    reg_login "$repo"
    # The subject as the registry serves it: its media type and size.
    code=$(reg -I -o /dev/null -D "$TMPDIR/reg-headers" -w '%{http_code}' \
      -H "Accept: $OCI_MANIFEST, application/vnd.docker.distribution.manifest.v2+json, $OCI_INDEX, application/vnd.docker.distribution.manifest.list.v2+json" \
      "$base/v2/$repo/manifests/$digest") || prov_fail "$base did not answer"
    [ "$code" = 200 ] || prov_fail "the image $repo@$digest is not in the registry (HTTP $code)"
    subject_type=$(header content-type "$TMPDIR/reg-headers")
    subject_size=$(header content-length "$TMPDIR/reg-headers")
    reg_blob "$TMPDIR/empty.json" "$EMPTY_DIGEST"
    reg_blob "$TMPDIR/provenance.json" "$statement"
    printf '{"schemaVersion":2,"mediaType":"%s","artifactType":"%s","config":{"mediaType":"application/vnd.oci.empty.v1+json","digest":"%s","size":2,"data":"e30="},"layers":[{"mediaType":"%s","digest":"%s","size":%s,"annotations":{"in-toto.io/predicate-type":"https://slsa.dev/provenance/v1"}}],"subject":{"mediaType":"%s","digest":"%s","size":%s},"annotations":{"org.opencontainers.image.created":"%s"}}' \
      "$OCI_MANIFEST" "$IN_TOTO" "$EMPTY_DIGEST" "$IN_TOTO" "$statement" "$(size "$TMPDIR/provenance.json")" "$subject_type" "$digest" "$subject_size" "$finished" > "$TMPDIR/attestation.json"
    artifact=$(sha256 "$TMPDIR/attestation.json")
    reg_manifest "$TMPDIR/attestation.json" "$OCI_MANIFEST" "$artifact"
    if [ -n "$(header oci-subject "$TMPDIR/reg-headers")" ]; then
      printf 'buildpod: attached the provenance %s to %s/%s@%s\n' "$artifact" "$host" "$repo" "$digest"
    else
      # No referrers API: the image's referrers are an index under the tag sha256-<hex>, this one added.
      fallback="sha256-${digest#sha256:}"
      descriptor=$(printf '{"mediaType":"%s","digest":"%s","size":%s,"artifactType":"%s","annotations":{"in-toto.io/predicate-type":"https://slsa.dev/provenance/v1","org.opencontainers.image.created":"%s"}}' \
        "$OCI_MANIFEST" "$artifact" "$(size "$TMPDIR/attestation.json")" "$IN_TOTO" "$finished")
      code=$(reg -o "$TMPDIR/referrers.json" -w '%{http_code}' -H "Accept: $OCI_INDEX" "$base/v2/$repo/manifests/$fallback") || prov_fail "$base did not answer"
      if [ "$code" = 200 ] && grep -q "\"$artifact\"" "$TMPDIR/referrers.json"; then
        cp "$TMPDIR/referrers.json" "$TMPDIR/index.json"
      elif [ "$code" = 200 ]; then
        tr -d '\r\n' < "$TMPDIR/referrers.json" | sed -e "s|\"manifests\"[[:space:]]*:[[:space:]]*\\[|&$descriptor,|" -e "s|$descriptor,[[:space:]]*\\]|$descriptor]|" > "$TMPDIR/index.json"
        grep -q "$artifact" "$TMPDIR/index.json" || prov_fail "the referrers index $repo:$fallback has no manifests list"
      elif [ "$code" = 404 ]; then
        printf '{"schemaVersion":2,"mediaType":"%s","manifests":[%s]}' "$OCI_INDEX" "$descriptor" > "$TMPDIR/index.json"
      else
        prov_fail "reading the referrers index $repo:$fallback answered HTTP $code"
      fi
      reg_manifest "$TMPDIR/index.json" "$OCI_INDEX" "$fallback"
      printf 'buildpod: attached the provenance %s to %s/%s@%s (referrers tag %s)\n' "$artifact" "$host" "$repo" "$digest" "$fallback"
    fi
    printf '%s' "$artifact" > "$TMPDIR/attestation"
  done <<TARGETS
$BUILDPOD_PROVENANCE_TARGETS
TARGETS
  rm -f "$TMPDIR/reg-auth"
}

# Says the image is pushed with the digest $1, attaches its provenance where the build asks for it, and
# reports both in the termination message.
report_pushed() {
  printf 'buildpod: pushed %s@%s\n' "$BUILDPOD_IMAGE" "$1"
  if [ -n "${BUILDPOD_PROVENANCE:-}" ]; then
    attach_provenance "$1"
    printf '{"digest":"%s","provenance":"%s"}' "$1" "$(cat "$TMPDIR/attestation")" > /dev/termination-log
  else
    printf '{"digest":"%s"}' "$1" > /dev/termination-log
  fi
}
