#!/usr/bin/env bash
# Builds the test cluster's Kubernetes (cmd/kube: etcd, the control plane, the kubelet and kubectl at the
# release go.mod pins), the pod sandbox binary (cmd/pause), the fault proxy (cmd/faultproxy) and the HTTPS
# Git server (cmd/githttps), the flaky forwarder (cmd/flaky) and the virtual kubelet (cmd/virtualkubelet)
# into .cluster/bin of the repository.
# Cached: the key is the Go version and the hash of go.mod, go.sum and the sources, so a second run with
# nothing changed returns at once; Go's own build cache keeps a changed-source rebuild to a link. The
# *_test.go files are left out of the key: they are not in the binaries.
set -euo pipefail
here="$(cd "$(dirname "$0")/.." && pwd)"
out="$(cd "$here/../.." && pwd)/.cluster/bin"
mkdir -p "$out"
cd "$here"

key="$( { go version; cat go.mod go.sum; find cmd -name '*.go' ! -name '*_test.go' | sort | xargs cat; } | sha256sum | cut -c1-16)"
if [ -x "$out/kube" ] && [ -x "$out/pause" ] && [ -x "$out/faultproxy" ] && [ -x "$out/githttps" ] && [ -x "$out/flaky" ] && [ -x "$out/virtualkubelet" ] &&
   [ "$(cat "$out/key" 2>/dev/null)" = "$key" ]; then
  echo "test cluster binaries: up to date ($out)"
  exit 0
fi

release="$(go list -m -f '{{.Version}}' k8s.io/kubernetes)"
minor="$(echo "$release" | cut -d. -f2)"
pkg=k8s.io/component-base/version
ldflags="-s -w -X $pkg.gitVersion=$release -X $pkg.gitMajor=1 -X $pkg.gitMinor=$minor -X $pkg.gitTreeState=clean"
started=$(date +%s)
echo "test cluster binaries: building Kubernetes $release (the first build takes 10 to 15 minutes on 2 cores)"
go build -trimpath -ldflags "$ldflags" -o "$out/kube.new" ./cmd/kube
CGO_ENABLED=0 go build -trimpath -ldflags "-s -w" -o "$out/pause" ./cmd/pause
go build -trimpath -ldflags "-s -w" -o "$out/faultproxy" ./cmd/faultproxy
go build -trimpath -ldflags "-s -w" -o "$out/githttps" ./cmd/githttps
go build -trimpath -ldflags "-s -w" -o "$out/flaky" ./cmd/flaky
go build -trimpath -ldflags "-s -w" -o "$out/virtualkubelet" ./cmd/virtualkubelet
mv "$out/kube.new" "$out/kube"
ln -sf kube "$out/kubectl"
echo "$key" >"$out/key"
echo "test cluster binaries: built in $(( $(date +%s) - started )) s"
