// The buildah builder, the default: daemonless, root in the container but not privileged, so its pod fits
// Pod Security 'baseline'. The source strategy (S2I) builds with it too.
import { BUILDAH_SCRIPT } from "../scripts.js";
import { dockerBuildOptions, dockerfilePath } from "../strategy/plan.js";
import type { Builder } from "./index.js";

export const buildah: Builder = {
  name: "buildah",
  image: "quay.io/buildah/stable@sha256:56e6ebc9bb71c8303b1968fb51304d3512e14a1b8c730bd0b27ebdf772a34ceb",
  // Shipwright's buildah strategy: root inside the container, not privileged, SETFCAP for file capabilities.
  // No seccomp profile of its own: without CAP_SYS_ADMIN, buildah runs RUN steps in a user namespace it
  // creates, and containerd's RuntimeDefault profile refuses unshare(CLONE_NEWUSER) to a container without
  // CAP_SYS_ADMIN (measured on the test cluster's containerd 1.6: "Error during unshare(CLONE_NEWUSER):
  // Operation not permitted"). The node's default applies: unconfined unless the kubelet sets seccompDefault.
  securityContext: { allowPrivilegeEscalation: false, privileged: false, runAsUser: 0, capabilities: { add: ["SETFCAP"] } },
  // SETFCAP is among the capabilities 'baseline' allows.
  podSecurity: "baseline",
  // buildah bud --secret, --platform and --annotation.
  supports: { cache: true, secrets: true, platforms: true, annotations: true, registriesConf: true, separatePullSecret: true, provenance: true },
  nodeDaemon: false,
  caDirs: [],
  runProxy: "env",
  scratch: { "buildah-storage": "/var/lib/containers", "buildah-tmp": "/var/tmp" },
  env: { TMPDIR: "/var/tmp", STORAGE_DRIVER: "vfs", BUILDAH_ISOLATION: "chroot" },
  container: (req, s) => ({
    command: ["/bin/sh", "-c", BUILDAH_SCRIPT, "buildpod-build"],
    args: [...dockerBuildOptions(req, s)],
    env: { BUILDPOD_DOCKERFILE: dockerfilePath(req, s.dockerfile) },
  }),
  // --layers commits every step; --cache-from pulls a step's layer from the repository instead of running
  // it, --cache-to pushes the steps it ran (tagged by a key of the step and what precedes it).
  cacheOptions: (c) => ["--layers", "--cache-from", c.repository, ...(c.mode === "read-write" ? ["--cache-to", c.repository] : [])],
};
