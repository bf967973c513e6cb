// `npm run cluster:up` / `cluster:down` (test/cluster/up.ts) as people and scripts use them: the compiled
// build/test/cluster/up.js run as a child process, on a fresh state directory of its own (so it never meets the
// e2e suite's cluster or one someone started by hand), with the images seeded from the usual state dir's
// registry. Up prints exports that a shell can eval, kubectl reaches the cluster through them, a second up
// reprints them, and down leaves nothing running and nothing mounted: not the control plane, the kubelet or
// containerd, not the registry or the git daemon, not a pod's container, not the node's network namespace or
// cgroups; also when the server does not stop by itself and has to be killed.
import { readdirSync, readFileSync, rmSync, existsSync, mkdirSync, mkdtempSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { defaultStateDir } from "./infra/cluster.js";
import { run, sleep } from "./infra/proc.js";
import { kubeBinaries } from "./kube/binaries.js";
import { deleteNodeNetwork, nodeNetwork } from "./kube/netns.js";
import { cgroupRoot, cleanNode, networkName } from "./kube/cleanup.js";

const CNI_CACHE = "/var/lib/cni/results";

const repoRoot = join(dirname(fileURLToPath(import.meta.url)), "..", "..");
const upJs = join(repoRoot, "build/test/cluster/up.js");

let state: string;
let env: NodeJS.ProcessEnv;
/** Every server seen, for the clean-up should a test fail half way. */
const servers = new Map<number, { node: number; dir: string }>();

async function up(args: string[] = [], extraEnv: NodeJS.ProcessEnv = {}) {
  const started = Date.now();
  const r = await run(process.execPath, [upJs, ...args], { env: { ...env, ...extraEnv }, check: false, timeoutMs: 15 * 60_000 });
  return { ...r, ms: Date.now() - started };
}

function kubectl(kubeconfig: string, args: string[]) {
  return run(kubeBinaries().kubectl, args, { env: { ...process.env, KUBECONFIG: kubeconfig }, check: false, timeoutMs: 120_000 });
}

/** What `eval "$(up)"` gives a shell. */
async function evaluated(exports: string): Promise<Record<string, string>> {
  const r = await run("sh", ["-c", 'eval "$1" && printf "%s\\n" "$KUBECONFIG" "$BUILDPOD_REGISTRY" "$BUILDPOD_GIT"', "sh", exports],
    { env: { PATH: process.env.PATH } });
  const [KUBECONFIG, BUILDPOD_REGISTRY, BUILDPOD_GIT] = r.stdout.split("\n");
  return { KUBECONFIG: KUBECONFIG!, BUILDPOD_REGISTRY: BUILDPOD_REGISTRY!, BUILDPOD_GIT: BUILDPOD_GIT! };
}

interface Proc { pid: number; state: string; pgid: number; cmd: string; environ: string }

function processes(): Proc[] {
  const out: Proc[] = [];
  for (const e of readdirSync("/proc")) {
    if (!/^\d+$/.test(e)) continue;
    try {
      const stat = readFileSync(`/proc/${e}/stat`, "utf8");
      const f = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
      const read = (file: string) => { try { return readFileSync(`/proc/${e}/${file}`, "utf8"); } catch { return ""; } };
      out.push({ pid: Number(e), state: f[0]!, pgid: Number(f[2]), cmd: read("cmdline").split("\0").join(" ").trim(), environ: read("environ") });
    } catch {}
  }
  return out;
}

interface Served { pid: number; node: number; dir: string }

function served(): Served {
  const s = JSON.parse(readFileSync(join(state, "up.json"), "utf8")) as Served;
  servers.set(s.pid, { node: s.node, dir: s.dir });
  return s;
}

/** What is left of a server: its processes, its node's processes, mounts, cgroups and network namespace. */
function leftovers(s: Served): string[] {
  const procs = processes()
    .filter((p) => p.state !== "Z" && p.pid !== process.pid)
    .filter((p) => p.pid === s.pid || p.pgid === s.pid || p.environ.includes(`BUILDPOD_CLUSTER_STATE=${state}\0`) || p.cmd.includes(state))
    .map((p) => `process ${p.pid} ${p.cmd}`);
  const mounts = readFileSync("/proc/self/mountinfo", "utf8").split("\n").map((l) => l.split(" ")[4] ?? "")
    .filter((m) => m.startsWith(state)).map((m) => `mount ${m}`);
  const cgroups = readdirSync("/sys/fs/cgroup").filter((h) => existsSync(join("/sys/fs/cgroup", h, cgroupRoot(nodeNetwork(s.node)))))
    .map((h) => `cgroup ${h}${cgroupRoot(nodeNetwork(s.node))}`);
  const netns = existsSync(`/run/netns/${nodeNetwork(s.node).name}`) ? [`netns ${nodeNetwork(s.node).name}`] : [];
  const cni = existsSync(CNI_CACHE) ? readdirSync(CNI_CACHE).filter((f) => f.startsWith(`${networkName(nodeNetwork(s.node))}-`)).map((f) => `cni cache ${f}`) : [];
  return [...procs, ...mounts, ...cgroups, ...netns, ...cni];
}

/** A pod whose container runs until it is stopped. */
async function runningPod(kubeconfig: string, image: string, name: string): Promise<void> {
  const r = await kubectl(kubeconfig, ["run", name, `--image=${image}`, "--restart=Never", "--", "sleep", "3600"]);
  expect(r.code, r.stderr).toBe(0);
  const w = await kubectl(kubeconfig, ["wait", "--for=condition=Ready", `pod/${name}`, "--timeout=90s"]);
  expect(w.code, w.stderr).toBe(0);
  expect(processes().some((p) => p.cmd === "sleep 3600")).toBe(true);
}

/** Everything is gone, a little after down returned (init reaps the server when it ends). */
async function expectNothingLeft(s: Served): Promise<void> {
  let left = leftovers(s);
  for (let i = 0; i < 25 && left.length; i++) {
    await sleep(200);
    left = leftovers(s);
  }
  expect(left).toEqual([]);
  expect(existsSync(join(state, "up.json"))).toBe(false);
}

beforeAll(async () => {
  // As `npm run cluster:up` does: compile, then run build/test/cluster/up.js (a clean checkout has no build/test).
  const tsc = await run(process.execPath, [join(repoRoot, "node_modules/typescript/bin/tsc"), "-p", join(repoRoot, "tsconfig.json")],
    { cwd: repoRoot, check: false });
  expect(tsc.code, tsc.stdout + tsc.stderr).toBe(0);
  expect(existsSync(upJs)).toBe(true);

  state = mkdtempSync("/tmp/bp-up-test-");
  // The images are cached in the registry's storage: start from the usual state dir's, so up does not assemble
  // them again (it would when they are missing there too: the first run takes minutes).
  const cache = join(defaultStateDir(), "registry", "storage");
  if (existsSync(cache)) {
    mkdirSync(join(state, "registry"), { recursive: true });
    await run("cp", ["-a", "--reflink=auto", cache, join(state, "registry", "storage")]);
  }
  env = { ...process.env, BUILDPOD_CLUSTER_STATE: state };
  delete env.BUILDPOD_REGISTRY_PORT;
  delete env.KUBECONFIG;
}, 900_000);

afterAll(async () => {
  if (!state) return;
  // Only after a failure is anything left: stop it for good.
  if (existsSync(join(state, "up.json"))) await up(["--down"], { BUILDPOD_CLUSTER_DOWN_TIMEOUT: "5" });
  for (const [pid, s] of servers) {
    for (const p of processes()) if (p.pgid === pid && p.state !== "Z") try { process.kill(p.pid, "SIGKILL"); } catch {}
    await cleanNode(nodeNetwork(s.node), s.dir);
    await deleteNodeNetwork(nodeNetwork(s.node));
  }
  rmSync(state, { recursive: true, force: true });
}, 120_000);

describe("cluster:up and cluster:down", () => {
  it("prints exports to eval, answers kubectl, reprints them when up, and stops everything on down", async () => {
    const first = await up();
    expect(first.code, first.stderr).toBe(0);
    const lines = first.stdout.trimEnd().split("\n");
    for (const l of lines) expect(l).toMatch(/^export [A-Z_]+=\S+$/);
    const names = lines.map((l) => l.slice("export ".length, l.indexOf("=")));
    expect(names).toEqual(expect.arrayContaining(["KUBECONFIG", "BUILDPOD_REGISTRY", "BUILDPOD_GIT", "BUILDPOD_BASE_IMAGE", "BUILDPOD_KUBECTL"]));
    const exported = await evaluated(first.stdout);
    const s = served();
    expect(exported.KUBECONFIG).toBe(join(state, "kube", String(s.node), "admin.kubeconfig"));
    const node = nodeNetwork(s.node).address;
    expect(exported.BUILDPOD_REGISTRY).toBe(`${node}:5000`);
    expect(exported.BUILDPOD_GIT).toBe(`git://${node}:9418`);

    const ns = await kubectl(exported.KUBECONFIG!, ["get", "ns"]);
    expect(ns.code, ns.stderr).toBe(0);
    expect(ns.stdout).toMatch(/^NAME\s+STATUS\s+AGE\n/);
    expect(ns.stdout).toMatch(/^default\s+Active\s/m);
    const registry = await fetch(`http://${exported.BUILDPOD_REGISTRY}/v2/`);
    expect(registry.status).toBe(200);
    // The control plane, the registry and the git daemon run in the server's process group; the kubelet and
    // containerd in the node's cgroup.
    const group = processes().filter((p) => p.pgid === s.pid && p.pid !== s.pid && p.state !== "Z").map((p) => p.cmd);
    for (const c of ["kube-apiserver", "etcd", "kube-controller-manager", "kube-scheduler", "docker-registry serve", "daemon --reuseaddr"]) {
      expect(group.some((g) => g.includes(c)), c).toBe(true);
    }
    const image = /^export BUILDPOD_BASE_IMAGE=(\S+)$/m.exec(first.stdout)![1]!;
    await runningPod(exported.KUBECONFIG!, image, "up-sleeper");

    const again = await up();
    expect(again.code, again.stderr).toBe(0);
    expect(again.stdout).toBe(first.stdout);
    expect(again.stderr).not.toMatch(/starting/);
    expect(again.ms).toBeLessThan(5000);
    expect(served().pid).toBe(s.pid);

    const down = await up(["--down"]);
    expect(down.code, down.stderr).toBe(0);
    expect(down.stderr).toBe("the test cluster is stopped\n");
    expect(down.ms).toBeLessThan(30_000);
    await expectNothingLeft(s);
    expect(processes().some((p) => p.cmd === "sleep 3600")).toBe(false);

    const twice = await up(["--down"]);
    expect(twice.code).toBe(0);
    expect(twice.stderr).toBe("the test cluster is not running\n");
  }, 900_000);

  it("kills the server with its control plane, node and containers when it does not stop in time", async () => {
    const started = await up();
    expect(started.code, started.stderr).toBe(0);
    const exported = await evaluated(started.stdout);
    const s = served();
    const image = /^export BUILDPOD_BASE_IMAGE=(\S+)$/m.exec(started.stdout)![1]!;
    await runningPod(exported.KUBECONFIG!, image, "stuck-sleeper");

    // A stopped server cannot act on SIGTERM: down has to kill it.
    process.kill(s.pid, "SIGSTOP");
    try {
      const down = await up(["--down"], { BUILDPOD_CLUSTER_DOWN_TIMEOUT: "2" });
      expect(down.code, down.stderr).toBe(0);
      await expectNothingLeft(s);
      expect(processes().some((p) => p.cmd === "sleep 3600")).toBe(false);
      expect(down.stderr).toMatch(/did not stop within 2s: killing it/);
      expect(down.stderr).toMatch(/the test cluster is stopped\n$/);
      expect(down.ms).toBeLessThan(30_000);
    } finally {
      try {
        process.kill(s.pid, "SIGCONT");
      } catch {}
    }
  });
});
