// Starts and stops the test cluster's infrastructure: the project's podman setup (which assembles the
// images), the registry with those images, and the git daemon. The test cluster (test/cluster/kube) builds
// on this.
//
//   const infra = await startInfra();            // registry + git daemon + images (cached after the first run)
//   ... infra.images.busybox, infra.images.builder, infra.git.url("repo") ...
//   await infra.stop();
import { existsSync, mkdirSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { createTestRepo, startGitDaemon, type GitDaemon, type TestRepo, type TestRepoOptions } from "./gitd.js";
import { ensureImages, type ClusterImages } from "./images.js";
import { preparePodman, type PodmanEnv } from "./podman-env.js";
import { canConnect } from "./proc.js";
import { startRegistry, type Listen, type Registry } from "./registry.js";

/** The test cluster's state: BUILDPOD_CLUSTER_STATE, or .cluster in the repository (gitignored). */
export function defaultStateDir(): string {
  if (process.env.BUILDPOD_CLUSTER_STATE) return process.env.BUILDPOD_CLUSTER_STATE;
  let dir = dirname(fileURLToPath(import.meta.url));
  while (!existsSync(join(dir, "package.json")) && dirname(dir) !== dir) dir = dirname(dir);
  return join(dir, ".cluster");
}

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
  /** Serve the registry and the git daemon there instead of on loopback (fixed ports 5000 and 9418). */
  listen?: Listen;
  /** Also assemble the pod sandbox image from this binary. */
  pauseBinary?: string;
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
  await forgetStaleRegistryNames(podman).catch(() => {});
  const registry = await startRegistry({ stateDir, port: opts.registryPort ?? (opts.listen ? 5000 : undefined), listen: opts.listen });
  let git: GitDaemon | undefined;
  try {
    if (opts.git !== false) git = await startGitDaemon({ stateDir, port: opts.gitPort ?? (opts.listen ? 9418 : undefined), listen: opts.listen });
    const images = opts.images === false ? { busybox: "", busyboxArm64: "", busyboxMulti: "", builder: "", pause: "" } : await ensureImages(podman, registry, opts.log, opts.pauseBinary);
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
        await forgetRegistryNames(podman, registry.host);
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

/**
 * The registry's port changes from run to run, so names like 127.0.0.1:PORT/... would pile up in the node's
 * storage: drop them (images known under another name, such as the assembled localhost/buildpod/*, stay).
 */
async function forgetRegistryNames(pm: PodmanEnv, host: string | ((h: string) => boolean)): Promise<void> {
  const r = await pm.podman(["images", "--format", "json"], { check: false });
  let images: Array<{ Id: string; Names?: string[] }> = [];
  try {
    images = JSON.parse(r.stdout || "[]");
  } catch {
    return;
  }
  const match = typeof host === "string" ? (h: string) => h === host : host;
  for (const img of images) {
    const names = img.Names ?? [];
    const ours = names.filter((n) => /^127\.0\.0\.1:\d+\//.test(n) && match(n.slice(0, n.indexOf("/"))));
    if (!ours.length) continue;
    if (ours.length === names.length) await pm.podman(["rmi", img.Id], { check: false });
    else await pm.podman(["untag", img.Id, ...ours], { check: false });
  }
}

/** Names left by earlier runs: loopback registries that no longer listen. */
async function forgetStaleRegistryNames(pm: PodmanEnv): Promise<void> {
  const r = await pm.podman(["images", "--format", "{{.Repository}}"], { check: false });
  const hosts = new Set(r.stdout.split("\n").filter((n) => /^127\.0\.0\.1:\d+\//.test(n)).map((n) => n.slice(0, n.indexOf("/"))));
  const stale = new Set<string>();
  for (const h of hosts) if (!(await canConnect(Number(h.split(":")[1])))) stale.add(h);
  if (stale.size) await forgetRegistryNames(pm, (h) => stale.has(h));
}

