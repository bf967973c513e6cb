#!/usr/bin/env bash
# Installs the Debian packages the tests need (the test cluster's: the node's containerd and runc, the local
# registries and their passwords, image assembly, the git daemon, the forward proxy; the unit tests': shellcheck).
# Idempotent: when every package is already installed it returns at once without touching apt.
# Run as root on a Debian 12 machine. Never edits /etc beyond what the packages themselves install.
set -euo pipefail

PACKAGES=(
  containerd runc containernetworking-plugins       # the node: the kubelet's runtime, pod networks
  podman conmon                                     # assembling images
  docker-registry skopeo                            # the local registries and inspecting them
  apache2-utils                                     # htpasswd: bcrypt entries for the registries' users
  tinyproxy                                         # the forward proxy pods may be pointed at
  debootstrap busybox-static                        # assembling the builder and busybox images
  qemu-user-static                                  # the node runs linux/arm64 binaries under QEMU (test/cluster/kube/emulation.ts)
  git openssl ca-certificates curl                  # git daemon for test sources; curl: provenance.sh against a registry
  shellcheck                                        # the unit tests lint every .sh file (test/unit/shellcheck.test.ts)
)
# Not needed: uidmap and fuse-overlayfs (everything runs as root with native overlay storage).

missing=()
for p in "${PACKAGES[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done

if [ "${#missing[@]}" -eq 0 ]; then
  echo "install.sh: all packages present"
  exit 0
fi

if [ "$(id -u)" -ne 0 ]; then
  if command -v sudo >/dev/null 2>&1; then
    exec sudo bash "$0" "$@"
  fi
  echo "install.sh: missing packages (${missing[*]}); run this script as root" >&2
  exit 1
fi

echo "install.sh: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
# --no-install-recommends keeps it quick; policy-rc.d stops the docker-registry and tinyproxy packages from
# starting their system services (the tests run their own, each with its own config).
policy=/usr/sbin/policy-rc.d
created_policy=0
if [ ! -e "$policy" ]; then
  printf '#!/bin/sh\nexit 101\n' >"$policy"
  chmod +x "$policy"
  created_policy=1
fi
trap 'if [ "$created_policy" = 1 ]; then rm -f "$policy"; fi' EXIT
apt-get install -y -qq --no-install-recommends "${missing[@]}"
echo "install.sh: done"
