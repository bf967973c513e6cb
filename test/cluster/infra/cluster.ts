// Starts and stops the test cluster's infrastructure: the project's podman setup, the loopback registry with
// the locally assembled images, and the git daemon. The node (test/cluster/node/podman-node.ts) and the
// emulated API server build on this.
//
//   const infra = await startInfra();            // registry + git daemon + images (cached after the first run)
//   const node = new PodmanNode({ stateDir: infra.stateDir, podman: infra.podman });
//   ... infra.images.busybox, infra.images.builder, infra.git.url("repo") ...
//   await node.shutdown(); await infra.stop();
import { mkdirSync } from "node:fs";
import type { NodeInfo } from "../node/runtime.js";
import { defaultStateDir, machineAllocatable } from "../node/podman-node.js";
import { createTestRepo, startGitDaemon, type GitDaemon, type TestRepo, type TestRepoOptions } from "./gitd.js";
import { ensureImages, type ClusterImages } from "./images.js";
import { preparePodman, type PodmanEnv } from "./podman-env.js";
import { startRegistry, type Registry } from "./registry.js";

export { defaultStateDir, machineAllocatable };
export type { ClusterImages, GitDaemon, PodmanEnv, Registry, TestRepo, TestRepoOptions };
export { createTestRepo, ensureImages, preparePodman, startGitDaemon, startRegistry };

export interface InfraOptions {
  /** Default: BUILDPOD_CLUSTER_STATE or the repository's .cluster directory (gitignored). */
  stateDir?: string;
  /** Fixed ports; default BUILDPOD_REGISTRY_PORT / a free port, and a free port for git. */
  registryPort?: number;
  gitPort?: number;
  /** Assemble and push the images (default true). */
  images?: boolean;
  /** Start the git daemon (default true). */
  git?: boolean;
  log?: (line: string) => void;
}

export interface Infra {
  stateDir: string;
  podman: PodmanEnv;
  registry: Registry;
  /** Present unless started with git: false. */
  git: GitDaemon;
  /** Present unless started with images: false (then both are empty strings). */
  images: ClusterImages;
  /** Create a repository served by the git daemon; returns its git:// URL with the repo facts. */
  createRepo(name: string, opts: TestRepoOptions): Promise<TestRepo & { url: string }>;
  stop(): Promise<void>;
}

export async function startInfra(opts: InfraOptions = {}): Promise<Infra> {
  const stateDir = opts.stateDir ?? defaultStateDir();
  mkdirSync(stateDir, { recursive: true });
  const podman = preparePodman(stateDir);
  const registry = await startRegistry({ stateDir, port: opts.registryPort });
  let git: GitDaemon | undefined;
  try {
    if (opts.git !== false) git = await startGitDaemon({ stateDir, port: opts.gitPort });
    const images = opts.images === false ? { busybox: "", builder: "" } : await ensureImages(podman, registry, opts.log);
    return {
      stateDir,
      podman,
      registry,
      git: git ?? noGit(),
      images,
      createRepo: async (name, o) => {
        if (!git) throw new Error("git daemon not started");
        const repo = await createTestRepo(git.baseDir, name, o);
        return { ...repo, url: git.url(name) };
      },
      stop: async () => {
        await Promise.all([registry.stop(), git?.stop()]);
      },
    };
  } catch (e) {
    await Promise.all([registry.stop(), git?.stop()]);
    throw e;
  }
}

function noGit(): GitDaemon {
  const fail = () => {
    throw new Error("git daemon not started");
  };
  return { port: 0, baseDir: "", url: fail, stop: async () => {} };
}

/** A NodeInfo from the machine, with overrides (e.g. a tiny allocatable to make pods unschedulable). */
export function nodeInfo(overrides: { name?: string; labels?: Record<string, string>; allocatable?: Partial<NodeInfo["allocatable"]> } = {}): NodeInfo {
  const name = overrides.name ?? "buildpod-node";
  return {
    name,
    labels: { "kubernetes.io/hostname": name, "kubernetes.io/os": "linux", ...overrides.labels },
    allocatable: { ...machineAllocatable(), ...overrides.allocatable },
  };
}
