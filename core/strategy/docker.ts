// docker strategy: build a Dockerfile with a daemonless builder inside the pod (buildah by default,
// rootless BuildKit or kaniko by choice), or with the node's Docker daemon when explicitly allowed.
import type { V1Container, V1SecurityContext } from "@kubernetes/client-node";
import { BUILDER_IMAGES } from "../images.js";
import type { BuildRequest, BuilderName, DockerStrategy, LayerCache } from "../request/index.js";
import { BUILDAH_SCRIPT, BUILDKIT_SCRIPT, DOCKER_SCRIPT, PATHS } from "../scripts.js";
import { contextPath, dockerfilePath, emptyDir, env, outputEnv, pairs, type StrategyPlan } from "./plan.js";

/** Each builder as data: how it runs, what it may do, what storage it needs. */
interface BuilderSpec {
  securityContext: V1SecurityContext;
  /** emptyDir mounts: volume name -> path. */
  scratch: Record<string, string>;
  env: Record<string, string>;
  container(req: BuildRequest, s: DockerStrategy): Pick<V1Container, "command" | "args"> & { env?: Record<string, string | undefined> };
  /**
   * Options that reuse the registry layer cache, and update it in read-write mode. Absent for a builder
   * that has none (request validation refuses a cache there).
   */
  cache?(c: LayerCache, req: BuildRequest): string[];
}

/** The tag BuildKit's cache manifest gets in the cache repository (buildah and kaniko tag by step). */
export const BUILDKIT_CACHE_TAG = "buildcache";

const NO_ESCALATION = { allowPrivilegeEscalation: false, privileged: false } as const;

export const BUILDERS: Record<BuilderName, BuilderSpec> = {
  buildah: {
    // Shipwright's buildah strategy: root inside the container, not privileged, SETFCAP for file capabilities.
    // No seccomp profile of its own: without CAP_SYS_ADMIN, buildah runs RUN steps in a user namespace it
    // creates, and containerd's RuntimeDefault profile refuses unshare(CLONE_NEWUSER) to a container without
    // CAP_SYS_ADMIN (measured on the test cluster's containerd 1.6: "Error during unshare(CLONE_NEWUSER):
    // Operation not permitted"). The node's default applies: unconfined unless the kubelet sets seccompDefault.
    securityContext: { ...NO_ESCALATION, runAsUser: 0, capabilities: { add: ["SETFCAP"] } },
    scratch: { "buildah-storage": "/var/lib/containers", "buildah-tmp": "/var/tmp" },
    env: { TMPDIR: "/var/tmp", STORAGE_DRIVER: "vfs", BUILDAH_ISOLATION: "chroot" },
    container: (req, s) => ({
      command: ["/bin/sh", "-c", BUILDAH_SCRIPT, "buildpod-build"],
      args: [...dockerOptions(req, s)],
      env: { BUILDPOD_DOCKERFILE: dockerfilePath(req, s.dockerfile) },
    }),
    // --layers commits every step; --cache-from pulls a step's layer from the repository instead of running
    // it, --cache-to pushes the steps it ran (tagged by a key of the step and what precedes it).
    cache: (c) => ["--layers", "--cache-from", c.repository, ...(c.mode === "read-write" ? ["--cache-to", c.repository] : [])],
  },
  buildkit: {
    // moby/buildkit's rootless example: user 1000, no seccomp or AppArmor confinement, no process sandbox.
    securityContext: {
      ...NO_ESCALATION, runAsUser: 1000, runAsGroup: 1000, runAsNonRoot: true,
      seccompProfile: { type: "Unconfined" }, appArmorProfile: { type: "Unconfined" },
    },
    scratch: { "buildkit-state": "/home/user/.local/share/buildkit", "buildkit-tmp": "/tmp" },
    env: { BUILDKITD_FLAGS: "--oci-worker-no-process-sandbox" },
    container: (req, s) => {
      const file = dockerfilePath(req, s.dockerfile);
      const slash = file.lastIndexOf("/");
      const names = [req.output.image, ...req.output.tags].join(",");
      const output = `type=image,"name=${names}",push=true,rewrite-timestamp=true${req.output.insecure ? ",registry.insecure=true" : ""}`;
      return {
        command: ["/bin/sh", "-c", BUILDKIT_SCRIPT, "buildpod-build"],
        args: [
          ...pairs("--opt", prefixKeys("build-arg:", s.buildArgs)),
          ...pairs("--opt", prefixKeys("label:", req.output.labels)),
          ...(s.target ? ["--opt", `target=${s.target}`] : []),
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
    cache: (c) => {
      const ref = `type=registry,ref=${c.repository}:${BUILDKIT_CACHE_TAG}`;
      return ["--import-cache", ref, ...(c.mode === "read-write" ? ["--export-cache", `${ref},mode=max`] : [])];
    },
  },
  kaniko: {
    // kaniko unpacks base images over its own root: root with the file-ownership capabilities, no shell.
    securityContext: {
      ...NO_ESCALATION, runAsUser: 0,
      capabilities: { drop: ["ALL"], add: ["CHOWN", "DAC_OVERRIDE", "FOWNER", "SETGID", "SETUID", "SETFCAP", "KILL"] },
      seccompProfile: { type: "RuntimeDefault" },
    },
    scratch: {},
    env: {},
    container: (req, s) => ({
      command: ["/kaniko/executor"],
      args: [
        `--context=dir://${contextPath(req)}`,
        `--dockerfile=${dockerfilePath(req, s.dockerfile)}`,
        ...[req.output.image, ...req.output.tags].map((d) => `--destination=${d}`),
        `--digest-file=${PATHS.terminationLog}`,
        "--reproducible",
        ...Object.keys(s.buildArgs).sort().map((k) => `--build-arg=${k}=${s.buildArgs[k]}`),
        ...Object.keys(req.output.labels).sort().map((k) => `--label=${k}=${req.output.labels[k]}`),
        ...(s.target ? [`--target=${s.target}`] : []),
        ...(req.output.insecure ? ["--insecure", "--insecure-pull", "--skip-tls-verify", "--skip-tls-verify-pull"] : []),
      ],
    }),
    // Cache look-ups go by registry host: an insecure output makes the cache's registry insecure too.
    cache: (c, req) => [
      "--cache=true", `--cache-repo=${c.repository}`,
      ...(c.mode === "read" ? ["--no-push-cache"] : []),
      ...(req.output.insecure ? [`--insecure-registry=${c.registry}`, `--skip-tls-verify-registry=${c.registry}`] : []),
    ],
  },
  docker: {
    // The node's daemon does the work; the socket is root on the node, hence the explicit opt-in.
    securityContext: { ...NO_ESCALATION, runAsUser: 0 },
    scratch: {},
    env: { DOCKER_HOST: `unix://${PATHS.dockerSocket}` },
    container: (req, s) => ({
      command: ["/bin/sh", "-c", DOCKER_SCRIPT, "buildpod-build"],
      args: dockerOptions(req, s),
      env: { BUILDPOD_DOCKERFILE: dockerfilePath(req, s.dockerfile) },
    }),
  },
};

function prefixKeys(prefix: string, values: Record<string, string>): Record<string, string> {
  return Object.fromEntries(Object.entries(values).map(([k, v]) => [`${prefix}${k}`, v]));
}

/** docker-build-style options shared by buildah and the Docker CLI. */
function dockerOptions(req: BuildRequest, s: DockerStrategy): string[] {
  return [
    ...pairs("--build-arg", s.buildArgs),
    ...pairs("--label", req.output.labels),
    ...(s.target ? ["--target", s.target] : []),
  ];
}

export function dockerStrategy(req: BuildRequest, s: DockerStrategy): StrategyPlan {
  const spec = BUILDERS[s.builder];
  const { command, args: own, env: extra } = spec.container(req, s);
  const args = [...(own ?? []), ...(req.cache && spec.cache ? spec.cache(req.cache, req) : [])];
  const mounts = Object.entries(spec.scratch).map(([name, mountPath]) => ({ name, mountPath }));
  const volumes = Object.keys(spec.scratch).map((name) => emptyDir(name));
  if (s.builder === "docker") {
    mounts.push({ name: "docker-socket", mountPath: PATHS.dockerSocket });
    volumes.push({ name: "docker-socket", hostPath: { path: PATHS.dockerSocket, type: "Socket" } });
  }
  return {
    container: {
      name: "build",
      image: s.builderImage ?? req.images[s.builder] ?? BUILDER_IMAGES[s.builder],
      command, args,
      env: env({ ...spec.env, ...outputEnv(req), ...extra }),
      securityContext: spec.securityContext,
      volumeMounts: mounts,
    },
    volumes,
    sourceEnv: env({
      BUILDPOD_DOCKERFILE_CONTENT: req.source.dockerfile,
      BUILDPOD_DOCKERFILE_PATH: req.source.dockerfile === undefined ? dockerfilePath(req, s.dockerfile) : undefined,
    }),
  };
}
