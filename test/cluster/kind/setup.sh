#!/usr/bin/env bash
# Sets up a real cluster for the end-to-end suite on a hosted runner with Docker and kind: a registry that
# pods and the runner both reach as kind-registry:5000, the suite's images in it, a git daemon the pods
# reach through the kind network's gateway. Prints the BUILDPOD_E2E_* variables the suite reads.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
work="${RUNNER_TEMP:-/tmp}/buildpod-kind"
mkdir -p "$work/repos"

kind create cluster --name buildpod --config "$here/kind.yaml" --wait 120s >&2
docker run -d --restart=always --name kind-registry --network kind -p 5000:5000 registry:2 >&2
grep -q kind-registry /etc/hosts || echo "127.0.0.1 kind-registry" | sudo tee -a /etc/hosts >/dev/null

registry=kind-registry:5000
docker pull -q busybox:1.36 >&2
skopeo copy --dest-tls-verify=false docker-daemon:busybox:1.36 "docker://$registry/buildpod/busybox:1" >&2
docker build -q -t buildpod-builder -f "$here/builder.Dockerfile" "$here" >&2
skopeo copy --dest-tls-verify=false docker-daemon:buildpod-builder:latest "docker://$registry/buildpod/builder:1" >&2

gateway="$(docker network inspect kind -f '{{range .IPAM.Config}}{{if .Gateway}}{{.Gateway}} {{end}}{{end}}' | tr ' ' '\n' | grep -E '^[0-9.]+$' | head -n1)"
git daemon --reuseaddr --base-path="$work/repos" --export-all --enable=receive-pack \
  -c uploadpack.allowReachableSHA1InWant=true -c uploadpack.allowAnySHA1InWant=true \
  --listen=0.0.0.0 --port=9418 --detach --pid-file="$work/git.pid"

cat <<VARS
BUILDPOD_E2E_KUBECONFIG=$HOME/.kube/config
BUILDPOD_E2E_REGISTRY=$registry
BUILDPOD_E2E_BUSYBOX=$registry/buildpod/busybox:1
BUILDPOD_E2E_BUILDER=$registry/buildpod/builder:1
BUILDPOD_E2E_GIT_BASE=$work/repos
BUILDPOD_E2E_GIT_URL=git://$gateway:9418
VARS
