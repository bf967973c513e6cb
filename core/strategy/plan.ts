// What a strategy contributes to the build pod: the build container and what it needs around it.
// Strategies are plain functions from a request to this data; render() assembles the pod.
import type { V1Container, V1EnvVar, V1SecurityContext, V1Volume, V1VolumeMount } from "@kubernetes/client-node";
import type { BuildRequest, DockerStrategy } from "../request/index.js";
import { PATHS } from "../scripts.js";

export interface StrategyPlan {
  /** The container that builds and pushes; named "build". */
  container: V1Container;
  /** Volumes only this strategy needs (builder storage, the Docker socket). */
  volumes: V1Volume[];
  /** Extra environment for the source container: Dockerfiles to write, paths to check. */
  sourceEnv: V1EnvVar[];
}

/** The user id of the unprivileged containers (source, provenance): any non-root id; 1000 is rootless BuildKit's. */
export const UNPRIVILEGED_UID = 1000;

/** The security context of a container that needs no privilege: non-root, no capabilities, the default seccomp. */
export function UNPRIVILEGED(): V1SecurityContext {
  return {
    runAsUser: UNPRIVILEGED_UID, runAsGroup: UNPRIVILEGED_UID, runAsNonRoot: true,
    allowPrivilegeEscalation: false, privileged: false,
    capabilities: { drop: ["ALL"] }, seccompProfile: { type: "RuntimeDefault" },
  };
}

export function env(values: Record<string, string | undefined>): V1EnvVar[] {
  return Object.entries(values)
    .filter((e): e is [string, string] => e[1] !== undefined)
    .map(([name, value]) => ({ name, value }));
}

/** Where the build context sits in the pod. */
export function contextPath(req: BuildRequest): string {
  return req.source.contextDir === "." ? PATHS.source : `${PATHS.source}/${req.source.contextDir}`;
}

/** Where the Dockerfile sits in the pod: the inline one, or a path in the source. */
export function dockerfilePath(req: BuildRequest, file: string): string {
  return req.source.dockerfile !== undefined ? PATHS.inlineDockerfile : `${PATHS.source}/${file}`;
}

/** The environment every pushing container gets: where to push, and how to authenticate. */
export function outputEnv(req: BuildRequest): Record<string, string | undefined> {
  return {
    BUILDPOD_IMAGE: req.output.image,
    BUILDPOD_TAGS: req.output.tags.length ? req.output.tags.join("\n") : undefined,
    BUILDPOD_TLS_VERIFY: req.output.insecure ? "false" : "true",
    BUILDPOD_PUSH: String(req.output.push),
    BUILDPOD_CONTEXT: contextPath(req),
    ...(req.output.pushSecret
      ? { DOCKER_CONFIG: PATHS.pushConfig, REGISTRY_AUTH_FILE: `${PATHS.pushConfig}/config.json` }
      : {}),
  };
}

/** "--flag", "K=V" pairs for every entry of a map, in a stable order. */
export function pairs(flag: string, values: Record<string, string>): string[] {
  return Object.keys(values)
    .sort()
    .flatMap((k) => [flag, `${k}=${values[k]}`]);
}

/** docker-build-style options, which buildah and the Docker CLI both take. */
export function dockerBuildOptions(req: BuildRequest, s: DockerStrategy): string[] {
  return [
    ...pairs("--build-arg", s.buildArgs),
    ...pairs("--label", req.output.labels),
    ...pairs("--annotation", req.output.annotations),
    ...(s.target ? ["--target", s.target] : []),
    ...req.output.platforms.flatMap((p) => ["--platform", p]),
  ];
}

/**
 * The node's Docker socket, for the docker builder and a custom build that exposes it. New objects each
 * time: the yaml package writes an object met twice in a document as an alias.
 */
export function dockerSocket(): { mount: V1VolumeMount; volume: V1Volume } {
  return {
    mount: { name: "docker-socket", mountPath: PATHS.dockerSocket },
    volume: { name: "docker-socket", hostPath: { path: PATHS.dockerSocket, type: "Socket" } },
  };
}

export function emptyDir(name: string, medium?: "Memory"): V1Volume {
  return { name, emptyDir: medium ? { medium } : {} };
}
