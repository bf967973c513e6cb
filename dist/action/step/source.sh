# shellcheck shell=sh
# The source container: clones a Git repository, or waits for a binary upload, then writes the inline
# Dockerfiles and the source date. Its termination message reports the resolved commit.
set -eu
fail() { printf 'buildpod: %s\n' "$1" >&2; printf '%s' "$1" > /dev/termination-log; exit 1; }
mkdir -p /workspace/source /workspace/meta
date -u +%Y-%m-%dT%H:%M:%SZ > /workspace/meta/started
epoch="${BUILDPOD_SOURCE_DATE_EPOCH:-}"
commit=""
case "$BUILDPOD_SOURCE_MODE" in
git)
  export HOME=/tmp/buildpod-home GIT_TERMINAL_PROMPT=0
  mkdir -p "$HOME"
  if [ -n "${BUILDPOD_CA_BUNDLE:-}" ]; then
    # Git takes one CA file, which replaces the system's: the system's certificates and the bundle, together.
    for system in /etc/ssl/certs/ca-certificates.crt /etc/pki/tls/certs/ca-bundle.crt /etc/ssl/cert.pem; do
      if [ -f "$system" ]; then cat "$system" > "$HOME/ca.crt"; break; fi
    done
    cat "$BUILDPOD_CA_BUNDLE" >> "$HOME/ca.crt" || fail "cannot read the CA bundle: $BUILDPOD_CA_BUNDLE"
    export GIT_SSL_CAINFO="$HOME/ca.crt"
  fi
  secret=/var/run/buildpod/source-secret
  if [ -f "$secret/ssh-privatekey" ]; then
    mkdir -p "$HOME/.ssh"
    cp "$secret/ssh-privatekey" "$HOME/.ssh/id"
    chmod 600 "$HOME/.ssh/id"
    check=accept-new
    if [ -f "$secret/known_hosts" ]; then cp "$secret/known_hosts" "$HOME/.ssh/known_hosts"; check=yes; fi
    export GIT_SSH_COMMAND="ssh -i $HOME/.ssh/id -o IdentitiesOnly=yes -o StrictHostKeyChecking=$check"
  fi
  if [ -f "$secret/password" ]; then
    # shellcheck disable=SC2016 # single quotes on purpose: git runs the helper and expands it, this shell must not
    git config --global credential.helper '!f() { test "$1" = get || exit 0; echo "username=$(cat /var/run/buildpod/source-secret/username 2>/dev/null || echo git)"; echo "password=$(cat /var/run/buildpod/source-secret/password)"; }; f'
  fi
  cd /workspace/source
  git init -q .
  git remote add origin "$BUILDPOD_GIT_URL"
  ref="${BUILDPOD_GIT_REF:-HEAD}"
  # The commits to fetch: 1 by default (the tree alone); 0 for the full history and every tag.
  depth="${BUILDPOD_GIT_DEPTH:-1}"
  printf 'buildpod: fetching %s from %s\n' "$ref" "$BUILDPOD_GIT_URL"
  fetched() {
    if [ "$depth" = 0 ]; then git fetch -q --tags origin "$ref"; else git fetch -q --depth="$depth" origin "$ref"; fi
  }
  if fetched 2>/tmp/buildpod-fetch.err; then
    git checkout -q --detach FETCH_HEAD
  else
    # Servers that refuse a commit SHA in a shallow fetch: fetch all branches and tags, then look it up.
    git fetch -q --tags origin '+refs/heads/*:refs/remotes/origin/*' 2>>/tmp/buildpod-fetch.err || fail "could not fetch $ref from $BUILDPOD_GIT_URL: $(tail -n 3 /tmp/buildpod-fetch.err | tr '\n' ' ')"
    target=$(git rev-parse -q --verify "$ref^{commit}" || git rev-parse -q --verify "origin/$ref^{commit}") || fail "$ref is not a branch, tag or commit of $BUILDPOD_GIT_URL"
    git checkout -q --detach "$target"
  fi
  if [ -f .gitmodules ]; then git submodule -q update --init --recursive --depth=1; fi
  # Files kept in Git LFS were checked out as pointers: fetch their content, through the same credentials,
  # CA and proxy as the clone.
  if git grep -q -F 'filter=lfs' -- ':(glob).gitattributes' ':(glob)**/.gitattributes' 2>/dev/null; then
    git lfs version >/dev/null 2>&1 || fail "the repository keeps files in Git LFS, and the source image has no git-lfs; give --source-image an image with git and git-lfs (the default has both)"
    printf 'buildpod: fetching the Git LFS files\n'
    git lfs install --local >/dev/null
    git lfs pull 2>/tmp/buildpod-lfs.err || fail "could not fetch the Git LFS files from $BUILDPOD_GIT_URL: $(tail -n 3 /tmp/buildpod-lfs.err | tr '\n' ' ')"
  fi
  commit=$(git rev-parse HEAD)
  [ -n "$epoch" ] || epoch=$(git log -1 --format=%ct HEAD)
  # The build sees the tree, not the clone's own state (which differs from run to run), unless it asked for
  # history, which only .git holds (git describe, version stamps).
  if [ "$depth" = 1 ]; then rm -rf .git; fi
  printf 'buildpod: checked out %s\n' "$commit"
  ;;
upload)
  printf 'buildpod: waiting up to %ss for the upload\n' "$BUILDPOD_UPLOAD_TIMEOUT"
  deadline=$(($(date +%s) + BUILDPOD_UPLOAD_TIMEOUT))
  while [ ! -e /workspace/meta/upload-done ]; do
    [ "$(date +%s)" -le "$deadline" ] || fail "no upload arrived within ${BUILDPOD_UPLOAD_TIMEOUT}s; the client that started the build must upload the source"
    # Looked for every tenth of a second: the build starts as soon as the upload is in, where a whole
    # second's sleep held it back half a second on average. (A sleep without fractions sleeps a second.)
    sleep 0.1 2>/dev/null || sleep 1
  done
  printf 'buildpod: upload received\n'
  if [ "${BUILDPOD_INPUT_DIGEST:-}" = true ]; then
    # What the provenance records of an upload: in-toto's dirHash of the tree (the sha256 of the sorted
    # `sha256sum` lines of its files).
    (cd /workspace/source && find . -type f | cut -c3- | LC_ALL=C sort | tr '\n' '\0' | xargs -0 -r sha256sum | sha256sum | cut -d ' ' -f 1) > /workspace/meta/input-digest
  fi
  ;;
none) ;;
*) fail "unknown source mode $BUILDPOD_SOURCE_MODE" ;;
esac
[ -n "$epoch" ] || epoch=0
if [ -n "${BUILDPOD_DOCKERFILE_CONTENT+set}" ]; then printf '%s\n' "$BUILDPOD_DOCKERFILE_CONTENT" > /workspace/meta/Dockerfile; fi
if [ -n "${BUILDPOD_DOCKERFILE_INCREMENTAL_CONTENT+set}" ]; then printf '%s\n' "$BUILDPOD_DOCKERFILE_INCREMENTAL_CONTENT" > /workspace/meta/Dockerfile.incremental; fi
[ -d "/workspace/source/$BUILDPOD_CONTEXT_DIR" ] || fail "the context directory $BUILDPOD_CONTEXT_DIR is not in the source"
if [ -n "${BUILDPOD_DOCKERFILE_PATH:-}" ] && [ ! -f "$BUILDPOD_DOCKERFILE_PATH" ]; then fail "there is no Dockerfile at ${BUILDPOD_DOCKERFILE_PATH#/workspace/source/} in the source"; fi
printf '%s' "$epoch" > /workspace/meta/source-date-epoch
printf '%s' "$commit" > /workspace/meta/commit
printf '{"commit":"%s","commitTime":%s,"inputDigest":"%s"}' "$commit" "$epoch" "$(cat /workspace/meta/input-digest 2>/dev/null || true)" > /dev/termination-log
