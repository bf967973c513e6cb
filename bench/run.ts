// `npm run bench`: what buildpod costs around a build, each figure beside its anchor, measured in the same
// run on the test cluster. Prints a table and writes build/bench.json. Rows not measured yet say so.
import { spawn } from "node:child_process";
import { mkdirSync, statSync, writeFileSync } from "node:fs";
import { cpus, totalmem } from "node:os";
import { join } from "node:path";
import { stringify } from "yaml";
import { Cluster, parseRequest, render, runBuild } from "../core/index.js";
import { startTestCluster, type TestCluster } from "../test/cluster/index.js";

const ROOT = join(import.meta.dirname, "../..");
const RUNS = Number(process.env.BENCH_RUNS ?? 10);

interface Row {
  figure: string;
  buildpod: string;
  anchor: string;
  ratio: string;
  target: string;
  met: boolean | "n/a";
  raw?: Record<string, unknown>;
}

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};
const ms = (x: number) => `${x.toFixed(0)} ms`;

/** Milliseconds from spawn to the first byte of output (or exit), cold process each time. */
function firstOutput(cmd: string, args: string[], env: NodeJS.ProcessEnv = process.env): Promise<number> {
  return new Promise((resolve) => {
    const t0 = process.hrtime.bigint();
    const child = spawn(cmd, args, { env, stdio: ["ignore", "pipe", "pipe"] });
    let done = false;
    const stop = () => {
      if (done) return;
      done = true;
      resolve(Number(process.hrtime.bigint() - t0) / 1e6);
    };
    child.stdout.once("data", stop);
    child.stderr.once("data", stop);
    child.on("exit", stop);
  });
}

async function startup(): Promise<Row[]> {
  const node = process.execPath;
  const base: number[] = [];
  const version: number[] = [];
  const action: number[] = [];
  for (let i = 0; i < RUNS; i++) {
    base.push(await firstOutput(node, ["-e", "console.log(1)"]));
    version.push(await firstOutput(node, [join(ROOT, "bin/buildpod.js"), "--version"]));
    // With no inputs the action's main step fails at once: the time to that first line is its load time.
    action.push(await firstOutput(node, [join(ROOT, "dist/action/main/index.js")], { PATH: process.env.PATH }));
  }
  const size = (p: string) => statSync(join(ROOT, p)).size / 1e6;
  const mainMb = size("dist/action/main/index.js");
  return [
    {
      figure: "start-up: buildpod --version, to first output (median, cold)",
      buildpod: ms(median(version)), anchor: `node -e: ${ms(median(base))}`, ratio: `${(median(version) / median(base)).toFixed(2)}x`,
      target: "< 150 ms", met: median(version) < 150, raw: { version, base },
    },
    {
      figure: "start-up: the action's main bundle, to first output",
      buildpod: ms(median(action)), anchor: `node -e: ${ms(median(base))}`, ratio: `${(median(action) / median(base)).toFixed(2)}x`,
      target: "< 150 ms", met: median(action) < 150, raw: { action },
    },
    {
      figure: "bundle sizes",
      buildpod: `action main ${mainMb.toFixed(1)} MB, post ${size("dist/action/post/index.js").toFixed(1)} MB; cli ${size("dist/cli/index.js").toFixed(2)} MB + cluster ${size("dist/cli-cluster/index.js").toFixed(1)} MB`,
      anchor: "-", ratio: "-", target: "action bundle < 3 MB", met: mainMb < 3,
    },
  ];
}

/** Seconds the build container itself ran, from its status (whole-second timestamps). */
function containerSeconds(started?: string | Date, finished?: string | Date): number {
  return started && finished ? (new Date(finished).getTime() - new Date(started).getTime()) / 1000 : 0;
}

async function overhead(tc: TestCluster): Promise<Row> {
  const cluster = await Cluster.connect({ kubeconfig: tc.kubeconfig });
  const raw = (i: number) => ({
    name: `bench-${i}`,
    source: { dockerfile: `FROM ${tc.infra.images.busybox}\nRUN true\n` },
    output: { image: `${tc.registry}/bench/trivial:${i}`, insecure: true },
    images: { source: tc.infra.images.builder, buildah: tc.infra.images.builder },
  });
  const ours: number[] = [];
  const theirs: number[] = [];
  // Asynchronous: the test cluster's API server runs in this very process and must keep answering.
  const kubectl = (args: string[], input?: string) =>
    new Promise<{ stdout: string }>((resolve) => {
      const child = spawn("kubectl", ["--kubeconfig", tc.kubeconfig, ...args], { stdio: ["pipe", "pipe", "ignore"] });
      let stdout = "";
      child.stdout.on("data", (d: Buffer) => (stdout += d.toString()));
      child.on("exit", () => resolve({ stdout }));
      child.stdin.end(input ?? "");
    });
  for (let i = 0; i < RUNS; i++) {
    // buildpod: create, follow every container's log, result with digest, delete.
    let t0 = Date.now();
    const req = parseRequest(raw(i));
    const r = await runBuild(cluster, req, { onLog: () => undefined });
    const pod = r.pod ? await cluster.core.readNamespacedPod({ name: r.pod, namespace: "default" }) : undefined;
    const b = pod?.status?.containerStatuses?.[0]?.state?.terminated;
    await cluster.deleteRun("job", r.run, "default", 0);
    ours.push((Date.now() - t0) / 1000 - containerSeconds(b?.startedAt, b?.finishedAt));
    // The same with kubectl: apply, wait, logs -f, read the result, delete.
    const obj = render(parseRequest(raw(i)), { id: `k${i}` });
    const name = obj.metadata!.name!;
    t0 = Date.now();
    await kubectl(["apply", "-f", "-"], stringify(obj));
    await kubectl(["wait", "--for=condition=complete", `job/${name}`, "--timeout=120s"]);
    await kubectl(["logs", `job/${name}`, "--all-containers", "-f"]);
    const term = (await kubectl(["get", "pods", "-l", `buildpod.dev/run=${name}`, "-o", "jsonpath={.items[0].status.containerStatuses[0].state.terminated}"])).stdout;
    await kubectl(["delete", "job", name, "--wait=true"]);
    const t = term ? (JSON.parse(term) as { startedAt?: string; finishedAt?: string }) : {};
    theirs.push((Date.now() - t0) / 1000 - containerSeconds(t.startedAt, t.finishedAt));
  }
  const a = median(ours);
  const k = median(theirs);
  return {
    figure: `overhead around a trivial build: wall time minus the build container's own (median of ${RUNS})`,
    buildpod: `${a.toFixed(2)} s`, anchor: `kubectl script: ${k.toFixed(2)} s`, ratio: `${(a / k).toFixed(2)}x`,
    target: "at most 0.5x the kubectl script", met: a <= k / 2, raw: { ours, theirs },
  };
}

const notYet = (figure: string, target: string): Row => ({ figure, buildpod: "not measured yet", anchor: "-", ratio: "-", target, met: "n/a" });

const rows: Row[] = [...(await startup())];
const tc = await startTestCluster({ log: (l) => process.stderr.write(`test cluster: ${l}\n`) });
try {
  rows.push(await overhead(tc));
} finally {
  await tc.stop();
}
rows.push(
  notYet("log relay: 1,000,000 lines through buildpod run vs kubectl logs -f", ">= kubectl, >= 80% of a bare HTTP read, 0 lost"),
  notYet("fan-out: 100 builds from one process", "<= 200 MB RSS, no polling, <= 1 watch per build"),
  notYet("upload: 200 MB, 20,000 files vs kubectl cp", ">= 1.5x kubectl cp"),
  notYet("cache: unchanged rebuild with registry layer cache, S2I incremental", ">= 3x faster than cold"),
);

const machine = { cpus: cpus().length, cpu: cpus()[0]?.model, memoryGiB: Math.round(totalmem() / 2 ** 30), node: process.version, date: new Date().toISOString() };
mkdirSync(join(ROOT, "build"), { recursive: true });
writeFileSync(join(ROOT, "build/bench.json"), JSON.stringify({ machine, rows }, null, 2));
console.log(`machine: ${machine.cpus} x ${machine.cpu}, ${machine.memoryGiB} GiB, node ${machine.node}`);
console.log("| figure | buildpod | anchor | ratio | target | met |\n|---|---|---|---|---|---|");
for (const r of rows) console.log(`| ${r.figure} | ${r.buildpod} | ${r.anchor} | ${r.ratio} | ${r.target} | ${r.met === "n/a" ? "-" : r.met ? "yes" : "no"} |`);
