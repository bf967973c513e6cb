// `npm run cluster:up` / `cluster:down` (test/cluster/up.ts) as people and scripts use them: the compiled
// build/test/cluster/up.js run as a child process, on a fresh state directory of its own (so it never meets the
// e2e suite's cluster or one someone started by hand), with the images seeded from the usual state dir's
// registry. Up prints exports that a shell can eval, kubectl reaches the cluster through them, a second up
// reprints them, and down leaves nothing running: not the server, not the registry or the git daemon, not a
// pod's container; also when the server does not stop by itself and has to be killed.
import { readdirSync, readFileSync, rmdirSync, rmSync, statSync, existsSync, mkdirSync, mkdtempSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { preparePodman, type PodmanEnv } from "./infra/podman-env.js";
import { canConnect, run, sleep } from "./infra/proc.js";
import { defaultStateDir } from "./node/podman-node.js";

const repoRoot = join(dirname(fileURLToPath(import.meta.url)), "..", "..");
const upJs = join(repoRoot, "build/test/cluster/up.js");

let state: string;
let pm: PodmanEnv;
let env: NodeJS.ProcessEnv;
/** Every server pid seen, for the clean-up should a test fail half way. */
const servers = new Set<number>();

async function up(args: string[] = [], extraEnv: NodeJS.ProcessEnv = {}) {
  const started = Date.now();
  const r = await run(process.execPath, [upJs, ...args], { env: { ...env, ...extraEnv }, check: false, timeoutMs: 15 * 60_000 });
  return { ...r, ms: Date.now() - started };
}

function kubectl(kubeconfig: string, args: string[]) {
  return run("kubectl", args, { env: { ...process.env, KUBECONFIG: kubeconfig }, check: false, timeoutMs: 120_000 });
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

/** Processes (zombies aside) of the server's group, or run by it or by podman for this state dir. */
function leftovers(serverPid: number): string[] {
  return processes()
    .filter((p) => p.state !== "Z" && p.pid !== process.pid)
    .filter((p) => p.pid === serverPid || p.pgid === serverPid || p.environ.includes(`BUILDPOD_CLUSTER_STATE=${state}\0`) ||
      p.cmd.includes(state) || p.cmd.includes(pm.runRoot))
    .map((p) => `${p.pid} ${p.cmd}`);
}

async function containers(): Promise<string[]> {
  const r = await pm.podman(["ps", "-a", "--format", "{{.ID}} {{.Names}} {{.Status}}"], { check: false });
  expect(r.code, r.stderr).toBe(0);
  return r.stdout.split("\n").filter(Boolean);
}

function serverPid(): number {
  return (JSON.parse(readFileSync(join(state, "up.json"), "utf8")) as { pid: number }).pid;
}

function ports(kubeconfig: string, exported: Record<string, string>): number[] {
  const api = /server: https:\/\/127\.0\.0\.1:(\d+)/.exec(readFileSync(kubeconfig, "utf8"))?.[1];
  return [Number(api), Number(exported.BUILDPOD_REGISTRY!.split(":")[1]), Number(exported.BUILDPOD_GIT!.split(":")[2])];
}

/** A pod whose container runs until it is stopped. */
async function runningPod(kubeconfig: string, image: string, name: string): Promise<void> {
  const r = await kubectl(kubeconfig, ["run", name, `--image=${image}`, "--restart=Never", "--", "sleep", "3600"]);
  expect(r.code, r.stderr).toBe(0);
  const w = await kubectl(kubeconfig, ["wait", "--for=condition=Ready", `pod/${name}`, "--timeout=90s"]);
  expect(w.code, w.stderr).toBe(0);
  expect((await containers()).join("\n")).toMatch(new RegExp(`k8s_${name}_${name}_default_\\S* Up `));
}

/** Everything is gone, a little after down returned (init reaps the server when it ends). */
async function expectNothingLeft(pid: number, portsUsed: number[]): Promise<void> {
  let left = leftovers(pid);
  for (let i = 0; i < 25 && left.length; i++) {
    await sleep(200);
    left = leftovers(pid);
  }
  expect(left).toEqual([]);
  for (const port of portsUsed) expect(await canConnect(port), `port ${port}`).toBe(false);
  expect(await containers()).toEqual([]);
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
  pm = preparePodman(state);
  env = { ...process.env, BUILDPOD_CLUSTER_STATE: state };
  delete env.BUILDPOD_REGISTRY_PORT;
  delete env.KUBECONFIG;
}, 900_000);

afterAll(async () => {
  if (!state) return;
  // Only after a failure is anything left: stop it for good.
  if (existsSync(join(state, "up.json"))) await up(["--down"], { BUILDPOD_CLUSTER_DOWN_TIMEOUT: "5" });
  for (const pid of servers) {
    for (const p of processes()) if (p.pgid === pid && p.state !== "Z") try { process.kill(p.pid, "SIGKILL"); } catch {}
  }
  await pm.podman(["rm", "-a", "-f", "-t", "0"], { check: false });
  // Also unmounts the storage (podman mounts its overlay directory on itself).
  await pm.podman(["system", "reset", "--force"], { check: false });
  rmSync(state, { recursive: true, force: true });
  rmSync(pm.runRoot, { recursive: true, force: true });
  // The node's cgroups, emptied by then, in every v1 controller.
  const rmTree = (dir: string) => {
    for (const e of readdirSync(dir)) {
      try {
        if (statSync(join(dir, e)).isDirectory()) rmTree(join(dir, e));
      } catch {}
    }
    try {
      rmdirSync(dir);
    } catch {}
  };
  for (const ctrl of readdirSync("/sys/fs/cgroup")) {
    const d = join("/sys/fs/cgroup", ctrl, pm.cgroupRoot);
    if (existsSync(d)) rmTree(d);
  }
}, 120_000);

describe("cluster:up and cluster:down", () => {
  it("prints exports to eval, answers kubectl, reprints them when up, and stops everything on down", async () => {
    const first = await up();
    expect(first.code, first.stderr).toBe(0);
    const lines = first.stdout.trimEnd().split("\n");
    for (const l of lines) expect(l).toMatch(/^export [A-Z_]+=\S+$/);
    const names = lines.map((l) => l.slice("export ".length, l.indexOf("=")));
    expect(names).toEqual(expect.arrayContaining(["KUBECONFIG", "BUILDPOD_REGISTRY", "BUILDPOD_GIT", "BUILDPOD_BASE_IMAGE"]));
    const exported = await evaluated(first.stdout);
    expect(exported.KUBECONFIG).toBe(join(state, "api", "kubeconfig"));
    expect(exported.BUILDPOD_REGISTRY).toMatch(/^127\.0\.0\.1:\d+$/);
    expect(exported.BUILDPOD_GIT).toMatch(/^git:\/\/127\.0\.0\.1:\d+$/);
    const pid = serverPid();
    servers.add(pid);

    const ns = await kubectl(exported.KUBECONFIG!, ["get", "ns"]);
    expect(ns.code, ns.stderr).toBe(0);
    expect(ns.stdout).toMatch(/^NAME\s+STATUS\s+AGE\n/);
    expect(ns.stdout).toMatch(/^default\s+Active\s/m);
    const portsUsed = ports(exported.KUBECONFIG!, exported);
    for (const port of portsUsed) expect(await canConnect(port), `port ${port}`).toBe(true);
    const registry = await fetch(`http://${exported.BUILDPOD_REGISTRY}/v2/`);
    expect(registry.status).toBe(200);
    // The registry and the git daemon run in the server's process group.
    const group = processes().filter((p) => p.pgid === pid && p.pid !== pid && p.state !== "Z").map((p) => p.cmd);
    expect(group.some((c) => c.startsWith("docker-registry serve"))).toBe(true);
    expect(group.some((c) => /\bgit\b.* daemon /.test(c))).toBe(true);
    const image = /^export BUILDPOD_BASE_IMAGE=(\S+)$/m.exec(first.stdout)![1]!;
    await runningPod(exported.KUBECONFIG!, image, "up-sleeper");

    const again = await up();
    expect(again.code, again.stderr).toBe(0);
    expect(again.stdout).toBe(first.stdout);
    expect(again.stderr).not.toMatch(/starting/);
    expect(again.ms).toBeLessThan(5000);
    expect(serverPid()).toBe(pid);

    const down = await up(["--down"]);
    expect(down.code, down.stderr).toBe(0);
    expect(down.stderr).toBe("the test cluster is stopped\n");
    expect(down.ms).toBeLessThan(30_000);
    await expectNothingLeft(pid, portsUsed);

    const twice = await up(["--down"]);
    expect(twice.code).toBe(0);
    expect(twice.stderr).toBe("the test cluster is not running\n");
  }, 900_000);

  it("kills the server with its registry, git daemon and containers when it does not stop in time", async () => {
    const started = await up();
    expect(started.code, started.stderr).toBe(0);
    const exported = await evaluated(started.stdout);
    const pid = serverPid();
    servers.add(pid);
    const portsUsed = ports(exported.KUBECONFIG!, exported);
    const image = /^export BUILDPOD_BASE_IMAGE=(\S+)$/m.exec(started.stdout)![1]!;
    await runningPod(exported.KUBECONFIG!, image, "stuck-sleeper");

    // A stopped server cannot act on SIGTERM: down has to kill it.
    process.kill(pid, "SIGSTOP");
    try {
      const down = await up(["--down"], { BUILDPOD_CLUSTER_DOWN_TIMEOUT: "2" });
      expect(down.code, down.stderr).toBe(0);
      await expectNothingLeft(pid, portsUsed);
      expect(down.stderr).toMatch(/did not stop within 2s: killing it/);
      expect(down.stderr).toMatch(/the test cluster is stopped\n$/);
      expect(down.ms).toBeLessThan(30_000);
    } finally {
      try {
        process.kill(pid, "SIGCONT");
      } catch {}
    }
  });
});
