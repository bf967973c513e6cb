// The rootless BuildKit builder: user 1000, but unconfined by seccomp and AppArmor, so its pod needs Pod
// Security 'privileged'.
import { BUILDKIT_SCRIPT } from "../scripts.js";
import { dockerfilePath, pairs } from "../strategy/plan.js";
import type { Builder } from "./index.js";

/** The tag BuildKit's cache manifest gets in the cache repository (buildah and kaniko tag by step). */
export const BUILDKIT_CACHE_TAG = "buildcache";

export const buildkit: Builder = {
  name: "buildkit",
  image: "moby/buildkit:v0.33.0-rootless@sha256:80b15f0735e87bab7bf59ec4d695dfb4a7cfb25521cf56dc75d6f256285b63ef",
  // moby/buildkit's rootless example: user 1000, no seccomp or AppArmor confinement, no process sandbox.
  securityContext: {
    allowPrivilegeEscalation: false, privileged: false, runAsUser: 1000, runAsGroup: 1000, runAsNonRoot: true,
    seccompProfile: { type: "Unconfined" }, appArmorProfile: { type: "Unconfined" },
  },
  // 'baseline' refuses an Unconfined seccomp or AppArmor profile.
  podSecurity: "privileged",
  // The dockerfile frontend's RUN --mount=type=secret, and --opt platform=.
  supports: { cache: true, secrets: true, platforms: true, annotations: true, registriesConf: false, separatePullSecret: false, provenance: false },
  nodeDaemon: false,
  caDirs: [],
  runProxy: "build-args",
  scratch: { "buildkit-state": "/home/user/.local/share/buildkit", "buildkit-tmp": "/tmp" },
  env: { BUILDKITD_FLAGS: "--oci-worker-no-process-sandbox" },
  container: (req, s) => {
    const file = dockerfilePath(req, s.dockerfile);
    const slash = file.lastIndexOf("/");
    const names = [req.output.image, ...req.output.tags].join(",");
    // The exporter's attributes are CSV: an annotation is one quoted field, its quotes doubled.
    const csv = (field: string) => `"${field.replace(/"/g, '""')}"`;
    const annotations = Object.keys(req.output.annotations).sort().map((k) => `,${csv(`annotation.${k}=${req.output.annotations[k]}`)}`);
    const output = `type=image,"name=${names}",push=${req.output.push},rewrite-timestamp=true${req.output.insecure ? ",registry.insecure=true" : ""}${annotations.join("")}`;
    return {
      command: ["/bin/sh", "-c", BUILDKIT_SCRIPT, "buildpod-build"],
      args: [
        ...pairs("--opt", prefixKeys("build-arg:", s.buildArgs)),
        ...pairs("--opt", prefixKeys("label:", req.output.labels)),
        ...(s.target ? ["--opt", `target=${s.target}`] : []),
        ...(req.output.platforms.length ? ["--opt", `platform=${req.output.platforms.join(",")}`] : []),
      ],
      env: {
        BUILDPOD_DOCKERFILE_DIR: file.slice(0, slash),
        BUILDPOD_DOCKERFILE_NAME: file.slice(slash + 1),
        BUILDPOD_OUTPUT: output,
        BUILDPOD_REGISTRY: req.output.ref.registry,
        // Configured like the output's registry (plain HTTP when insecure); named once if it is the same.
        BUILDPOD_CACHE_REGISTRY: req.cache && req.cache.registry !== req.output.ref.registry ? req.cache.registry : undefined,
      },
    };
  },
  // mode=max keeps the layers of every stage, not only the final image's, as buildah and kaniko do.
  cacheOptions: (c) => {
    const ref = `type=registry,ref=${c.repository}:${BUILDKIT_CACHE_TAG}`;
    return ["--import-cache", ref, ...(c.mode === "read-write" ? ["--export-cache", `${ref},mode=max`] : [])];
  },
};

function prefixKeys(prefix: string, values: Record<string, string>): Record<string, string> {
  return Object.fromEntries(Object.entries(values).map(([k, v]) => [`${prefix}${k}`, v]));
}
