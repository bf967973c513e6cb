// `npm run cluster:up` / `cluster:down`: the test cluster as a background process, for people and scripts.
//   eval "$(npm run -s cluster:up)"   starts it (or finds it running) and prints shell-evaluable exports
//   npm run cluster:down              stops it and everything it started
//   npm run -s cluster:up -- --virtual-node   also starts the virtual node (test/cluster/kube/virtual-node.ts)
import { spawn, spawnSync } from "node:child_process";
import { closeSync, existsSync, mkdirSync, openSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { processAlive } from "../../core/prune.js";
import { defaultStateDir } from "./infra/cluster.js";
import { startKubeCluster } from "./kube/index.js";
import { deleteNodeNetwork, nodeNetwork } from "./kube/netns.js";
import { cleanNode } from "./kube/cleanup.js";

const stateDir = defaultStateDir();
const stateFile = join(stateDir, "up.json");
const logFile = join(stateDir, "up.log");
const here = fileURLToPath(import.meta.url);
const repoRoot = (() => {
  let d = dirname(here);
  while (!existsSync(join(d, "package.json")) && dirname(d) !== d) d = dirname(d);
  return d;
})();

interface State {
  pid: number;
  /** The node network's index and the cluster's directory, for a forced stop. */
  node: number;
  dir: string;
  kubeconfig: string;
  kubectl: string;
  registry: string;
  git: string;
  gitRepos: string;
  builder: string;
  busybox: string;
}

const alive = processAlive;

function readState(): State | undefined {
  try {
    const s = JSON.parse(readFileSync(stateFile, "utf8")) as State;
    return alive(s.pid) ? s : undefined;
  } catch {
    return undefined;
  }
}

function exports(s: State): string {
  return [
    `export KUBECONFIG=${s.kubeconfig}`,
    `export BUILDPOD_REGISTRY=${s.registry}`,
    `export BUILDPOD_GIT=${s.git}`,
    `export BUILDPOD_GIT_REPOS=${s.gitRepos}`,
    `export BUILDPOD_IMAGE_SOURCE=${s.builder}`,
    `export BUILDPOD_IMAGE_BUILDAH=${s.builder}`,
    `export BUILDPOD_BASE_IMAGE=${s.busybox}`,
    `export BUILDPOD_KUBECTL=${s.kubectl}`,
  ].join("\n") + "\n";
}

const TOOLS = ["podman", "runc", "containerd", "docker-registry", "skopeo", "htpasswd", "tinyproxy", "debootstrap", "git", "openssl", "nsenter", "ip"];

function ensureTools(): void {
  const missing = TOOLS.filter((t) => spawnSync("sh", ["-c", 'command -v "$1" || test -x "/usr/bin/$1" || test -x "/usr/sbin/$1"', "sh", t]).status !== 0);
  if (!missing.length) return;
  const install = join(repoRoot, "test/cluster/infra/install.sh");
  if (process.getuid?.() !== 0) {
    process.stderr.write(`the test cluster needs ${missing.join(", ")}: run  sudo bash ${install}  first\n`);
    process.exit(1);
  }
  process.stderr.write(`installing ${missing.join(", ")} (${install})...\n`);
  const r = spawnSync("bash", [install], { stdio: ["ignore", 2, 2] });
  if (r.status !== 0) process.exit(r.status ?? 1);
}

/** Copies the example into a repository the cluster's Git server serves, as git://.../hello. */
function exampleRepo(reposDir: string): void {
  const dir = join(reposDir, "hello");
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  const src = join(repoRoot, "examples/hello");
  for (const f of readdirSync(src)) if (statSync(join(src, f)).isFile()) writeFileSync(join(dir, f), readFileSync(join(src, f)));
  const git = (...args: string[]) => spawnSync("git", ["-C", dir, ...args], { env: { ...process.env, GIT_AUTHOR_DATE: "2026-01-01T00:00:00Z", GIT_COMMITTER_DATE: "2026-01-01T00:00:00Z" } });
  git("init", "-q", "-b", "main");
  git("add", ".");
  git("-c", "user.name=buildpod", "-c", "user.email=example@buildpod.invalid", "commit", "-q", "-m", "hello example");
}

async function serve(virtualNode: boolean): Promise<void> {
  const cluster = await startKubeCluster({ stateDir, log: (line) => process.stderr.write(`${line}\n`), virtualNode: virtualNode ? {} : undefined });
  exampleRepo(cluster.infra.git.baseDir);
  const state: State = {
    pid: process.pid,
    node: cluster.net.index,
    dir: cluster.dir,
    kubeconfig: cluster.kubeconfig,
    kubectl: cluster.bin.kubectl,
    registry: cluster.registry,
    git: `git://${cluster.net.address}:${cluster.infra.git.port}`,
    gitRepos: cluster.infra.git.baseDir,
    builder: cluster.infra.images.builder,
    busybox: cluster.infra.images.busybox,
  };
  writeFileSync(stateFile, JSON.stringify(state, null, 2));
  let stopping = false;
  const stop = async () => {
    if (stopping) return;
    stopping = true;
    rmSync(stateFile, { force: true });
    await cluster.stop().catch((err: Error) => process.stderr.write(`stopping: ${err.message}\n`));
    process.exit(0);
  };
  process.on("SIGTERM", stop);
  process.on("SIGINT", stop);
}

async function up(virtualNode: boolean): Promise<void> {
  const running = readState();
  if (running) return void process.stdout.write(exports(running));
  ensureTools();
  mkdirSync(stateDir, { recursive: true });
  rmSync(stateFile, { force: true });
  const log = openSync(logFile, "w");
  const child = spawn(process.execPath, [here, "--serve", ...(virtualNode ? ["--virtual-node"] : [])], { detached: true, stdio: ["ignore", log, log] });
  closeSync(log);
  child.unref();
  process.stderr.write(`starting the test cluster (the first start assembles its images: a few minutes); log: ${logFile}\n`);
  const deadline = Date.now() + 15 * 60_000;
  for (;;) {
    const s = readState();
    if (s) return void process.stdout.write(exports(s));
    if (!alive(child.pid!) || Date.now() > deadline) {
      process.stderr.write(`the test cluster did not start:\n${readFileSync(logFile, "utf8").split("\n").slice(-25).join("\n")}\n`);
      process.exit(1);
    }
    await new Promise((r) => setTimeout(r, 250));
  }
}

/** Whether a process runs (a zombie waiting for its parent to reap it does not). */
function running(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    return stat.slice(stat.lastIndexOf(")") + 2, stat.lastIndexOf(")") + 3) !== "Z";
  } catch {
    return alive(pid);
  }
}

/** Signals every process of a group; false when none is left. */
function signalGroup(pgid: number, signal: NodeJS.Signals): boolean {
  try {
    process.kill(-pgid, signal);
    return true;
  } catch {
    return false;
  }
}

/**
 * The server is the leader of its own process group (it is started detached), and the control plane, the
 * registry and the git daemon belong to that group. When the server does not stop in time it is killed with
 * its whole group; then the node's clean-up kills what runs in its cgroups (containerd, its shims, the
 * kubelet, the pods), unmounts what it mounted and removes its network namespace, so nothing of the cluster
 * keeps running.
 */
async function forceStop(s: State): Promise<void> {
  signalGroup(s.pid, "SIGKILL");
  const net = nodeNetwork(s.node);
  await cleanNode(net, s.dir);
  await deleteNodeNetwork(net);
}

async function down(): Promise<void> {
  const s = readState();
  if (!s) {
    rmSync(stateFile, { force: true });
    return void process.stderr.write("the test cluster is not running\n");
  }
  // BUILDPOD_CLUSTER_DOWN_TIMEOUT: seconds the server gets to stop what it started (default 60).
  const waitMs = (Number(process.env.BUILDPOD_CLUSTER_DOWN_TIMEOUT) || 60) * 1000;
  process.kill(s.pid, "SIGTERM");
  const deadline = Date.now() + waitMs;
  while (running(s.pid) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 200));
  if (running(s.pid)) {
    process.stderr.write(`the test cluster did not stop within ${waitMs / 1000}s: killing it and its processes\n`);
    await forceStop(s);
  } else {
    // A child the server could not stop (or a grandchild whose parent it killed) is still in its group.
    signalGroup(s.pid, "SIGKILL");
  }
  rmSync(stateFile, { force: true });
  process.stderr.write("the test cluster is stopped\n");
}

const arg = process.argv[2];
const virtualNode = process.argv.includes("--virtual-node");
await (arg === "--serve" ? serve(virtualNode) : arg === "--down" ? down() : up(virtualNode));
