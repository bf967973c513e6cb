// The cgroups a node lives in, and leaving nothing of it behind: its processes (found through those cgroups),
// its mounts, its cgroups, and what containerd 1.6 and libcni keep outside its directory.
import { existsSync, mkdirSync, readdirSync, readFileSync, rmdirSync, rmSync, writeFileSync } from "node:fs";
import { connect } from "node:net";
import { join } from "node:path";
import { run, sleep } from "../infra/proc.js";
import type { NodeNetwork } from "./netns.js";

const CGROUPS = "/sys/fs/cgroup";

/** The cgroup (in every v1 hierarchy) under which the node's pods and runtime live. */
export const cgroupRoot = (net: NodeNetwork) => `/buildpod-node-${net.index}`;

/** The v1 hierarchies (and the v2 one of a hybrid machine), or the one tree of cgroup v2. */
function hierarchies(): string[] {
  if (existsSync(join(CGROUPS, "cgroup.controllers"))) return [""]; // cgroup v2 alone: one tree
  try {
    // Every hierarchy, the v2 one of a hybrid machine ("unified") too: runc makes the container's cgroup there.
    return readdirSync(CGROUPS).filter((c) => existsSync(join(CGROUPS, c, "cgroup.procs")));
  } catch {
    return [];
  }
}

/** Makes the node's cgroup ROOT in every hierarchy, where the kubelet expects it (its cgroupRoot). */
export function makeCgroups(root: string): void {
  for (const h of hierarchies()) mkdirSync(join(CGROUPS, h, root), { recursive: true });
}

/** The network's name, which names its entries in libcni's cache (/var/lib/cni/results/NAME-...). */
export const networkName = (net: NodeNetwork) => `buildpod-node-${net.index}`;

/** The hierarchy that holds every process: pids on a machine with v1 controllers, the one tree on cgroup v2. */
const processTree = () => (existsSync(join(CGROUPS, "cgroup.controllers")) ? CGROUPS : join(CGROUPS, "pids"));

/** Moves a process into CGROUP, so clean-up finds it and what it starts. */
export function joinCgroup(pid: number, cgroup: string): void {
  const dir = join(processTree(), cgroup);
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, "cgroup.procs"), String(pid));
}

/** Every pid in a cgroup and its children, in one hierarchy. */
function pidsUnder(dir: string): number[] {
  const out: number[] = [];
  const walk = (d: string) => {
    try {
      for (const l of readFileSync(join(d, "cgroup.procs"), "utf8").split("\n")) if (l) out.push(Number(l));
      for (const e of readdirSync(d, { withFileTypes: true })) if (e.isDirectory()) walk(join(d, e.name));
    } catch {}
  };
  walk(dir);
  return out;
}

/** Removes a cgroup tree, deepest first. */
function removeTree(dir: string): void {
  try {
    for (const e of readdirSync(dir, { withFileTypes: true })) if (e.isDirectory()) removeTree(join(dir, e.name));
    rmdirSync(dir);
  } catch {}
}

/**
 * Leaves nothing of a node behind: kills every process in its cgroups (containerd, its shims, the kubelet,
 * every pod's containers), unmounts whatever was mounted under its directory (volumes, container root file
 * systems, pod network namespaces), and removes its cgroups. Works without the node's objects, for a test
 * cluster whose server was killed.
 */
export async function cleanNode(net: NodeNetwork, dir: string): Promise<void> {
  const root = cgroupRoot(net);
  for (let round = 0; round < 20; round++) {
    const pids = pidsUnder(join(processTree(), root));
    if (!pids.length) break;
    for (const pid of pids) {
      try {
        process.kill(pid, "SIGKILL");
      } catch {}
    }
    await sleep(100);
  }
  await unmountUnder(dir);
  for (const h of hierarchies()) removeTree(join(CGROUPS, h, root));
  // What containerd 1.6 and libcni keep outside the node's directory: the network's cache entries, and the
  // sockets of the shims just killed (no longer listening; a live shim's socket answers and stays).
  for (const f of list(CNI_CACHE)) if (f.startsWith(`${networkName(net)}-`)) rmSync(join(CNI_CACHE, f), { force: true });
  for (const f of list(SHIM_SOCKETS)) if (!(await listening(join(SHIM_SOCKETS, f)))) rmSync(join(SHIM_SOCKETS, f), { force: true });
}

const CNI_CACHE = "/var/lib/cni/results";
const SHIM_SOCKETS = "/run/containerd/s";

function list(dir: string): string[] {
  try {
    return readdirSync(dir);
  } catch {
    return [];
  }
}

/** Whether a unix socket accepts connections. */
function listening(path: string): Promise<boolean> {
  return new Promise((resolve) => {
    const s = connect({ path });
    s.once("connect", () => {
      s.destroy();
      resolve(true);
    });
    s.once("error", (err: NodeJS.ErrnoException) => resolve(err.code !== "ECONNREFUSED" && err.code !== "ENOENT"));
  });
}

/** Unmounts every mount point under DIR, deepest first (lazily: a busy mount goes when it is let go). */
export async function unmountUnder(dir: string): Promise<void> {
  const prefix = dir.endsWith("/") ? dir : `${dir}/`;
  const points = readFileSync("/proc/self/mountinfo", "utf8").split("\n")
    .map((l) => l.split(" ")[4]?.replace(/\\040/g, " "))
    .filter((p): p is string => !!p && p.startsWith(prefix))
    .sort((a, b) => b.length - a.length);
  for (const p of points) await run("umount", ["-l", p], { check: false });
}
