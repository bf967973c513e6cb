// The shell scripts build containers run. They are constants: every value that comes from a request
// reaches them as an environment variable or as an argument ("$@"), always quoted, never spliced into the
// text. Tests check that no request value ever appears in a script.

/** Paths shared by every container of a build pod. */
export const PATHS = {
  workspace: "/workspace",
  source: "/workspace/source",
  meta: "/workspace/meta",
  pushConfig: "/var/run/buildpod/push",
  sourceSecret: "/var/run/buildpod/source-secret",
  dockerSocket: "/var/run/docker.sock",
  terminationLog: "/dev/termination-log",
  uploadDone: "/workspace/meta/upload-done",
  inlineDockerfile: "/workspace/meta/Dockerfile",
  incrementalDockerfile: "/workspace/meta/Dockerfile.incremental",
  sourceDateEpoch: "/workspace/meta/source-date-epoch",
} as const;

/**
 * The source container: clones a Git repository, or waits for a binary upload, then writes the inline
 * Dockerfiles and the source date. Its termination message reports the resolved commit.
 */
export const SOURCE_SCRIPT = `set -eu
fail() { printf 'buildpod: %s\\n' "$1" >&2; printf '%s' "$1" > /dev/termination-log; exit 1; }
mkdir -p /workspace/source /workspace/meta
epoch="\${BUILDPOD_SOURCE_DATE_EPOCH:-}"
commit=""
case "$BUILDPOD_SOURCE_MODE" in
git)
  export HOME=/tmp/buildpod-home GIT_TERMINAL_PROMPT=0
  mkdir -p "$HOME"
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
    git config --global credential.helper '!f() { test "$1" = get || exit 0; echo "username=$(cat /var/run/buildpod/source-secret/username 2>/dev/null || echo git)"; echo "password=$(cat /var/run/buildpod/source-secret/password)"; }; f'
  fi
  cd /workspace/source
  git init -q .
  git remote add origin "$BUILDPOD_GIT_URL"
  ref="\${BUILDPOD_GIT_REF:-HEAD}"
  printf 'buildpod: fetching %s from %s\\n' "$ref" "$BUILDPOD_GIT_URL"
  if git fetch -q --depth=1 origin "$ref" 2>/tmp/buildpod-fetch.err; then
    git checkout -q --detach FETCH_HEAD
  else
    # Servers that refuse a commit SHA in a shallow fetch: fetch all branches and tags, then look it up.
    git fetch -q --tags origin '+refs/heads/*:refs/remotes/origin/*' 2>>/tmp/buildpod-fetch.err || fail "could not fetch $ref from $BUILDPOD_GIT_URL: $(tail -n 3 /tmp/buildpod-fetch.err | tr '\\n' ' ')"
    target=$(git rev-parse -q --verify "$ref^{commit}" || git rev-parse -q --verify "origin/$ref^{commit}") || fail "$ref is not a branch, tag or commit of $BUILDPOD_GIT_URL"
    git checkout -q --detach "$target"
  fi
  if [ -f .gitmodules ]; then git submodule -q update --init --recursive --depth=1; fi
  commit=$(git rev-parse HEAD)
  [ -n "$epoch" ] || epoch=$(git log -1 --format=%ct HEAD)
  # The build sees the tree, not the clone's own state (which differs from run to run).
  rm -rf .git
  printf 'buildpod: checked out %s\\n' "$commit"
  ;;
upload)
  printf 'buildpod: waiting up to %ss for the upload\\n' "$BUILDPOD_UPLOAD_TIMEOUT"
  waited=0
  while [ ! -e /workspace/meta/upload-done ]; do
    [ "$waited" -lt "$BUILDPOD_UPLOAD_TIMEOUT" ] || fail "no upload arrived within \${BUILDPOD_UPLOAD_TIMEOUT}s; the client that started the build must upload the source"
    sleep 1
    waited=$((waited + 1))
  done
  printf 'buildpod: upload received\\n'
  ;;
none) ;;
*) fail "unknown source mode $BUILDPOD_SOURCE_MODE" ;;
esac
[ -n "$epoch" ] || epoch=0
if [ -n "\${BUILDPOD_DOCKERFILE_CONTENT+set}" ]; then printf '%s\\n' "$BUILDPOD_DOCKERFILE_CONTENT" > /workspace/meta/Dockerfile; fi
if [ -n "\${BUILDPOD_DOCKERFILE_INCREMENTAL_CONTENT+set}" ]; then printf '%s\\n' "$BUILDPOD_DOCKERFILE_INCREMENTAL_CONTENT" > /workspace/meta/Dockerfile.incremental; fi
[ -d "/workspace/source/$BUILDPOD_CONTEXT_DIR" ] || fail "the context directory $BUILDPOD_CONTEXT_DIR is not in the source"
if [ -n "\${BUILDPOD_DOCKERFILE_PATH:-}" ] && [ ! -f "$BUILDPOD_DOCKERFILE_PATH" ]; then fail "there is no Dockerfile at \${BUILDPOD_DOCKERFILE_PATH#/workspace/source/} in the source"; fi
printf '%s' "$epoch" > /workspace/meta/source-date-epoch
printf '%s' "$commit" > /workspace/meta/commit
printf '{"commit":"%s","commitTime":%s}' "$commit" "$epoch" > /dev/termination-log
`;

/**
 * The image's creation time and revision labels are the source's (its commit's time and hash), never the
 * clock; none for a source without them. They go before the build's own options, so that labels the
 * request gives, which come later, win. `opt` and `prefix`: how the builder takes a label.
 */
function sourceLabels(opt: string, prefix = ""): string {
  return `if [ "$epoch" != 0 ]; then set -- ${opt} "${prefix}org.opencontainers.image.created=$(date -u -d "@$epoch" +%Y-%m-%dT%H:%M:%SZ)" "$@"; fi
if [ -s /workspace/meta/commit ]; then set -- ${opt} "${prefix}org.opencontainers.image.revision=$(cat /workspace/meta/commit)" "$@"; fi
`;
}

/** Shared start of the buildah scripts: the source date, registry search, and storage settings. */
const BUILDAH_PRELUDE = `set -eu
epoch=$(cat /workspace/meta/source-date-epoch 2>/dev/null || echo 0)
export SOURCE_DATE_EPOCH="$epoch"
${sourceLabels("--label")}# Short names such as "FROM alpine" resolve on Docker Hub, as users of docker build expect.
printf 'unqualified-search-registries = ["docker.io"]\\nshort-name-mode = "permissive"\\n' > "$TMPDIR/registries.conf"
export CONTAINERS_REGISTRIES_CONF="$TMPDIR/registries.conf"
bah() { buildah --storage-driver=vfs "$@"; }
`;

/** Shared end of the buildah scripts: push the image and every extra tag, report the registry digest. */
const BUILDAH_PUSH = `bah push --tls-verify="$BUILDPOD_TLS_VERIFY" --digestfile "$TMPDIR/digest" "$BUILDPOD_IMAGE" "docker://$BUILDPOD_IMAGE"
digest=$(cat "$TMPDIR/digest")
printf '%s\\n' "\${BUILDPOD_TAGS:-}" | while IFS= read -r tag; do
  [ -n "$tag" ] || continue
  bah push --tls-verify="$BUILDPOD_TLS_VERIFY" "$BUILDPOD_IMAGE" "docker://$tag"
done
printf '{"digest":"%s"}' "$digest" > /dev/termination-log
printf 'buildpod: pushed %s@%s\\n' "$BUILDPOD_IMAGE" "$digest"
`;

/** docker strategy, buildah builder. "$@": --build-arg, --label, --target and the layer cache's options. */
export const BUILDAH_SCRIPT = `${BUILDAH_PRELUDE}bah bud --isolation=chroot --timestamp "$epoch" --tls-verify="$BUILDPOD_TLS_VERIFY" -f "$BUILDPOD_DOCKERFILE" -t "$BUILDPOD_IMAGE" "$@" "$BUILDPOD_CONTEXT"
${BUILDAH_PUSH}`;

/**
 * source strategy (S2I) with buildah: read the builder image's scripts location and user, pick the
 * incremental Dockerfile when the previous image exists, build, push.
 */
export const S2I_SCRIPT = `${BUILDAH_PRELUDE}builder="$BUILDPOD_S2I_BUILDER"
# An incremental build pulls the previous image while the builder image is pulled, not after it.
previous=
if [ "\${BUILDPOD_S2I_INCREMENTAL:-false}" = true ]; then
  bah pull --tls-verify="$BUILDPOD_TLS_VERIFY" -q "$BUILDPOD_IMAGE" >/dev/null 2>&1 &
  previous=$!
fi
bah pull --tls-verify="$BUILDPOD_TLS_VERIFY" -q "$builder" >/dev/null
# The builder's user and scripts label in one look (every buildah start costs time).
info=$(bah inspect --type image --format '{{ .OCIv1.Config.User }}|{{ index .OCIv1.Config.Labels "io.openshift.s2i.scripts-url" }}' "$builder")
user="\${info%%|*}"
[ -n "$user" ] || user=0
scripts="\${BUILDPOD_S2I_SCRIPTS_URL:-}"
[ -n "$scripts" ] || scripts="\${info#*|}"
case "$scripts" in ""|"<no value>") scripts=image:///usr/libexec/s2i ;; esac
case "$scripts" in
image://*) dir="\${scripts#image://}" ;;
*) printf 'buildpod: the builder image gives scripts at %s; only image:// locations are supported\\n' "$scripts" >&2; exit 2 ;;
esac
dockerfile=/workspace/meta/Dockerfile
set -- "$@" --build-arg "BUILDPOD_S2I_BUILDER=$builder" --build-arg "BUILDPOD_S2I_SCRIPTS=$dir" --build-arg "BUILDPOD_S2I_USER=$user" --build-arg "BUILDPOD_S2I_OWNER=\${user%%:*}:0"
if [ -n "$previous" ]; then
  if wait "$previous"; then
    printf 'buildpod: incremental build: restoring the artifacts saved by %s\\n' "$BUILDPOD_IMAGE"
    dockerfile=/workspace/meta/Dockerfile.incremental
    set -- "$@" --build-arg "BUILDPOD_S2I_PREVIOUS=$BUILDPOD_IMAGE"
  else
    printf 'buildpod: no previous image %s to restore artifacts from: building from scratch\\n' "$BUILDPOD_IMAGE"
  fi
fi
bah bud --isolation=chroot --timestamp "$epoch" --tls-verify="$BUILDPOD_TLS_VERIFY" -f "$dockerfile" -t "$BUILDPOD_IMAGE" "$@" "$BUILDPOD_CONTEXT"
${BUILDAH_PUSH}`;

/**
 * docker strategy, rootless BuildKit. "$@": --opt options and the cache's --import-cache/--export-cache;
 * the output spec comes in BUILDPOD_OUTPUT.
 */
export const BUILDKIT_SCRIPT = `set -eu
epoch=$(cat /workspace/meta/source-date-epoch 2>/dev/null || echo 0)
${sourceLabels("--opt", "label:")}if [ "$BUILDPOD_TLS_VERIFY" = false ]; then
  for host in "$BUILDPOD_REGISTRY" "\${BUILDPOD_CACHE_REGISTRY:-}"; do
    [ -z "$host" ] || printf '[registry."%s"]\\n  http = true\\n  insecure = true\\n' "$host"
  done > /tmp/buildkitd.toml
  export BUILDKITD_FLAGS="\${BUILDKITD_FLAGS:-} --config=/tmp/buildkitd.toml"
fi
buildctl-daemonless.sh build --frontend dockerfile.v0 \\
  --local "context=$BUILDPOD_CONTEXT" --local "dockerfile=$BUILDPOD_DOCKERFILE_DIR" \\
  --opt "filename=$BUILDPOD_DOCKERFILE_NAME" --opt "build-arg:SOURCE_DATE_EPOCH=$epoch" \\
  --output "$BUILDPOD_OUTPUT" --metadata-file /tmp/metadata.json "$@"
if [ "$(wc -c < /tmp/metadata.json)" -le 4000 ]; then
  cp /tmp/metadata.json /dev/termination-log
else
  digest=$(sed -n 's/.*"containerimage\\.digest": *"\\(sha256:[0-9a-f]*\\)".*/\\1/p' /tmp/metadata.json | head -n 1)
  printf '{"digest":"%s"}' "$digest" > /dev/termination-log
fi
`;

/** docker strategy through the node's Docker daemon (opt-in). "$@": --build-arg, --label, --target. */
export const DOCKER_SCRIPT = `set -eu
epoch=$(cat /workspace/meta/source-date-epoch 2>/dev/null || echo 0)
${sourceLabels("--label")}docker build --build-arg "SOURCE_DATE_EPOCH=$epoch" -f "$BUILDPOD_DOCKERFILE" -t "$BUILDPOD_IMAGE" "$@" "$BUILDPOD_CONTEXT"
push() { docker push "$1" > /tmp/push.log 2>&1 || { cat /tmp/push.log >&2; exit 1; }; cat /tmp/push.log; }
push "$BUILDPOD_IMAGE"
digest=$(sed -n 's/.*digest: \\(sha256:[0-9a-f]\\{64\\}\\).*/\\1/p' /tmp/push.log | tail -n 1)
printf '%s\\n' "\${BUILDPOD_TAGS:-}" | while IFS= read -r tag; do
  [ -n "$tag" ] || continue
  docker tag "$BUILDPOD_IMAGE" "$tag"
  push "$tag"
done
printf '{"digest":"%s"}' "$digest" > /dev/termination-log
`;

/** Every script, so tests can check none of them carries a request value. */
export const ALL_SCRIPTS = [SOURCE_SCRIPT, BUILDAH_SCRIPT, S2I_SCRIPT, BUILDKIT_SCRIPT, DOCKER_SCRIPT];
