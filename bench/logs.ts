// Benchmark row: log relay. A custom-strategy build whose container (busybox awk) prints 1,000,000 numbered
// lines of 100 bytes. Measured: `buildpod run` relaying them live beside `kubectl logs -f` on the same pod,
// then, on the finished pod, whole reads by `buildpod logs -f`, `buildpod logs`, `kubectl logs -f` and a
// bare HTTPS client. Every reader runs in its own process, piped into a checker process (count-lines),
// never through the bench process. The CLI runs from the compiled
// sources (build/), so that the figures are those of the code as it stands, not of the last dist/ bundle.
import { execFileSync } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import type { KubeCluster as TestCluster } from "../test/cluster/kube/index.js";
import { Cluster, parseRequest, runBuild } from "../core/index.js";
import { KUBECTL, kubectl, median, ROOT, RUNS, run, type Row } from "./kit.js";

/** Lines the container prints; BENCH_LOG_LINES sets fewer for a quick try. */
const LINES = Number(process.env.BENCH_LOG_LINES ?? 1_000_000);
const FIGURE = `log relay: ${LINES.toLocaleString("en")} lines (${LINES / 1e4} MB)`;
const TARGET = ">= kubectl, >= 0.95x a bare HTTPS read, 0 lost or repeated";
/** Each read moves 100+ MB through the API server and the kubelet: at most 5 of each, fewer with BENCH_RUNS. */
const READS = Math.min(RUNS, 5);
const LIVE_RUNS = Math.min(RUNS, 3);
const WHERE = "the test cluster's real API server and kubelet (test/cluster/kube), containerd's CRI logs";
const NODE = process.execPath;
/** The command under test (BENCH_CLI: another build of it, to compare two versions). */
const CLI = process.env.BENCH_CLI ?? join(ROOT, "build/adapters/cli/index.js");
const COUNT = join(ROOT, "build/bench/count-lines.js");
const RAW = join(ROOT, "build/bench/raw-log.js");
const TIME = existsSync("/usr/bin/time") ? "/usr/bin/time" : undefined;

/** Prints LINES lines of exactly 100 bytes: "bench-log 0000001 " and x's. */
const PRINTER = 'BEGIN { n = ENVIRON["LINES"]; p = ""; for (i = 0; i < 81; i++) p = p "x"; for (i = 1; i <= n; i++) printf("bench-log %07d %s\\n", i, p) }';

/** What count-lines reports, with the reader's exit code, wall time and, when /usr/bin/time can say, its CPU and peak RSS. */
interface Read {
  bytes: number;
  distinct: number;
  lost: number;
  repeated: number;
  outOfOrder: number;
  /** Milliseconds from the checker's start to the first and the last numbered line, and between them. */
  firstMs?: number;
  lastMs?: number;
  windowMs: number;
  /** Wall clock (ms since the epoch) at the last numbered line. */
  lastWall?: number;
  endMs: number;
  wall: number;
  cpu?: number;
  rssMb?: number;
  /** CPU seconds the cluster's API servers and kubelet spent meanwhile (serverCpuSeconds). */
  serverCpu?: number;
  code: string;
  stderr: string;
}

const TICKS_PER_SECOND = Number(execFileSync("getconf", ["CLK_TCK"], { encoding: "utf8" }).trim()) || 100;

/**
 * CPU seconds used so far by the processes that serve a log read, the cluster's API servers and kubelet
 * (those whose command line names the cluster's directory), from /proc: what a reader costs the cluster.
 */
function serverCpuSeconds(clusterDir: string): number {
  let ticks = 0;
  for (const pid of readdirSync("/proc").filter((p) => /^\d+$/.test(p))) {
    try {
      const args = readFileSync(`/proc/${pid}/cmdline`, "utf8").split("\0");
      if (!["kube-apiserver", "kubelet"].includes(args[1] ?? "") || !args.some((a) => a.includes(clusterDir))) continue;
      const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
      // After the command's name in parentheses: state is field 3, utime 14 and stime 15.
      const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
      ticks += Number(fields[11]) + Number(fields[12]);
    } catch {
      // The process ended meanwhile.
    }
  }
  return ticks / TICKS_PER_SECOND;
}

/** Runs `cmd args...` piped into count-lines, both children of one shell; `dir` holds the reader's side files. */
async function counted(dir: string, cmd: string, args: string[], clusterDir?: string): Promise<Read> {
  mkdirSync(dir, { recursive: true });
  const server0 = clusterDir ? serverCpuSeconds(clusterDir) : 0;
  const [err, rc, time] = ["err", "rc", "time"].map((f) => join(dir, f));
  for (const f of [err, rc, time]) rmSync(f, { force: true });
  const script = '{ "$@" 2>"$BENCH_ERR"; echo $? >"$BENCH_RC"; } | "$BENCH_NODE" "$BENCH_COUNT" "$BENCH_LINES"';
  const timed = TIME ? [TIME, "-o", time, "-f", "%U %S %M", cmd, ...args] : [cmd, ...args];
  const r = await run("sh", ["-c", script, "sh", ...timed], {
    env: { ...process.env, BENCH_ERR: err, BENCH_RC: rc, BENCH_NODE: NODE, BENCH_COUNT: COUNT, BENCH_LINES: String(LINES) },
  });
  const read = (p: string) => (existsSync(p) ? readFileSync(p, "utf8") : "");
  const count = JSON.parse(r.stdout.trim().split("\n").pop() || "{}");
  const [user, sys, rssKb] = read(time).trim().split("\n").pop()!.split(" ").map(Number);
  const usage = Number.isFinite(rssKb) ? { cpu: Math.round((user + sys) * 100) / 100, rssMb: Math.round(rssKb / 1024) } : {};
  const server = clusterDir ? { serverCpu: Math.round((serverCpuSeconds(clusterDir) - server0) * 100) / 100 } : {};
  return { ...count, ...usage, ...server, wall: r.seconds, code: read(rc).trim(), stderr: read(err).slice(-600) };
}

const perSecond = (lines: number, ms: number) => (ms > 0 ? lines / (ms / 1000) : 0);
const fmt = (linesPerSecond: number) => `${Math.round(linesPerSecond / 1000)}k lines/s`;
const worst = (reads: Read[], k: "lost" | "repeated") => Math.max(...reads.map((x) => x[k] ?? LINES));

/** The time the runtime gave the log's first or last line (nanosecond precision, unlike container statuses). */
async function lineTime(kubeconfig: string, pod: string, which: "first" | "last"): Promise<number> {
  const pick = which === "first" ? ["--limit-bytes=200"] : ["--tail=1"];
  const r = await kubectl(kubeconfig, ["logs", pod, "-c", "build", "--timestamps", ...pick]);
  return Date.parse(r.stdout.split(" ")[0]);
}

/** Builds the printer image with buildpod itself (docker strategy). */
async function printerImage(tc: TestCluster, cluster: Cluster): Promise<{ image: string; run: string }> {
  const image = `${tc.registry}/bench/log-printer:1`;
  const req = parseRequest({
    name: "bench-log-printer",
    source: { dockerfile: `FROM ${tc.infra.images.busybox}\nENV LINES=${LINES}\nCMD ${JSON.stringify(["awk", PRINTER])}\n` },
    output: { image, insecure: true },
    images: { source: tc.infra.images.builder, buildah: tc.infra.images.builder },
  });
  const r = await runBuild(cluster, req, { preflight: false });
  if (r.status !== "Complete") throw new Error(`building the printer image: ${r.status}: ${r.message}`);
  return { image, run: r.run };
}

/** The build's pod once its build container has started, for kubectl to follow. */
async function startedPod(cluster: Cluster, build: string, until: Promise<unknown>): Promise<string | undefined> {
  let over = false;
  void until.finally(() => (over = true));
  while (!over) {
    const pods = await cluster.listPods("default", `buildpod.dev/build=${build}`).catch(() => undefined);
    for (const p of pods?.items ?? []) {
      const s = p.status?.containerStatuses?.find((c) => c.name === "build")?.state;
      if (s?.running || s?.terminated) return p.metadata!.name!;
    }
    await sleep(200);
  }
  return undefined;
}

interface Live {
  run: string;
  pod: string;
  ours: Read;
  theirs: Read;
  printedFrom: number;
  printedTo: number;
  /** Seconds the server took to answer tailLines=1, which buildpod asks to confirm a log's end. */
  tailRead: number;
}

/** One live run: `buildpod run` follows the build; kubectl logs -f follows the same pod from when it starts. */
async function liveRun(tc: TestCluster, cluster: Cluster, dir: string, image: string, i: number): Promise<Live> {
  const name = `bench-logs-${i}`;
  const resultFile = join(dir, `result-${i}.json`);
  const ours = counted(join(dir, `run-${i}`), NODE, [
    CLI, "run", "--kubeconfig", tc.kubeconfig, "--name", name, "--strategy", "custom", "--builder-image", image,
    "--inline-dockerfile", "FROM scratch", "-t", `${tc.registry}/bench/logs:${i}`, "--insecure-registry",
    "--source-image", tc.infra.images.builder, "-e", `LINES=${LINES}`, "--result-file", resultFile,
  ]);
  const pod = await startedPod(cluster, name, ours);
  const theirs = pod ? counted(join(dir, `kubectl-${i}`), KUBECTL, ["--kubeconfig", tc.kubeconfig, "logs", "-f", pod, "-c", "build"]) : undefined;
  const [a, b] = await Promise.all([ours, theirs]);
  const result = existsSync(resultFile) ? JSON.parse(readFileSync(resultFile, "utf8")) : { status: "no result", message: a.stderr };
  if (result.status !== "Complete" || !result.pod || !b) throw new Error(`the printing build: ${result.status}: ${result.message}`);
  const printedFrom = await lineTime(tc.kubeconfig, result.pod, "first");
  const t0 = performance.now();
  const printedTo = await lineTime(tc.kubeconfig, result.pod, "last");
  const tailRead = (performance.now() - t0) / 1000;
  return { run: result.run, pod: result.pod, ours: a, theirs: b, printedFrom, printedTo, tailRead };
}

interface Reader {
  name: string;
  cmd: string;
  args: string[];
}

async function measure(tc: TestCluster, dir: string, cluster: Cluster, cleanup: string[]): Promise<Row[]> {
  const kc = tc.kubeconfig;
  const printer = await printerImage(tc, cluster);
  cleanup.push(printer.run);

  const lives: Live[] = [];
  for (let i = 0; i < LIVE_RUNS; i++) {
    const live = await liveRun(tc, cluster, dir, printer.image, i);
    cleanup.push(live.run);
    lives.push(live);
  }
  // Live, a line counts when it reaches the checker: lines per second from the container's first line to
  // the reader's last, and how long after the container printed its last line the reader had it.
  const liveRate = (l: Live, r: Read) => perSecond(r.distinct, (r.lastWall ?? 0) - l.printedFrom);
  const lag = (l: Live, r: Read) => ((r.lastWall ?? 0) - l.printedTo) / 1000;
  const liveOurs = median(lives.map((l) => liveRate(l, l.ours)));
  const liveTheirs = median(lives.map((l) => liveRate(l, l.theirs)));
  const printed = median(lives.map((l) => perSecond(LINES, l.printedTo - l.printedFrom)));
  const liveLost = worst(lives.map((l) => l.ours), "lost");
  const liveRepeated = worst(lives.map((l) => l.ours), "repeated");

  // The last live run's finished pod, read whole by each reader in turn (the order rotates from run to run).
  const { pod, run: build } = lives.at(-1)!;
  const readers: Reader[] = [
    { name: "buildpod logs -f", cmd: NODE, args: [CLI, "logs", "-f", build, "--kubeconfig", kc] },
    { name: "buildpod logs", cmd: NODE, args: [CLI, "logs", build, "--kubeconfig", kc] },
    { name: "kubectl logs -f", cmd: KUBECTL, args: ["--kubeconfig", kc, "logs", "-f", pod, "-c", "build"] },
    { name: "bare HTTPS, timestamps=true", cmd: NODE, args: [RAW, kc, "default", pod, "build", "timestamps"] },
    { name: "bare HTTPS", cmd: NODE, args: [RAW, kc, "default", pod, "build"] },
  ];
  const reads: Record<string, Read[]> = Object.fromEntries(readers.map((r) => [r.name, []]));
  for (let i = 0; i < READS; i++) {
    for (let j = 0; j < readers.length; j++) {
      const r = readers[(i + j) % readers.length];
      reads[r.name].push(await counted(join(dir, "read"), r.cmd, r.args, tc.dir));
    }
  }
  // Whole reads are compared on the stream itself, first line to last at the checker: every reader waits
  // the same for the server to find the log before its first byte (firstLineMs in raw).
  const rateOf = (name: string) => median(reads[name].map((x) => perSecond(x.distinct, x.windowMs)));
  const ours = rateOf("buildpod logs -f");
  const plain = rateOf("buildpod logs");
  const theirs = rateOf("kubectl logs -f");
  const bareTs = rateOf("bare HTTPS, timestamps=true");
  const barePlain = rateOf("bare HTTPS");
  const bare = Math.max(bareTs, barePlain);
  const lost = Math.max(worst(reads["buildpod logs -f"], "lost"), worst(reads["buildpod logs"], "lost"));
  const repeated = Math.max(worst(reads["buildpod logs -f"], "repeated"), worst(reads["buildpod logs"], "repeated"));
  const slowest = Math.min(ours, plain);
  // CPU seconds of the reader process (start-up included): steadier than rates on a busy machine.
  // And what each read cost the cluster's API server and kubelet: with timestamps, the kubelet formats a
  // time for every line.
  const cpuOf = (name: string) => {
    const xs = reads[name].map((x) => x.cpu).filter((x): x is number => x !== undefined);
    const server = reads[name].map((x) => x.serverCpu).filter((x): x is number => x !== undefined);
    return (xs.length ? `, ${median(xs).toFixed(1)} s CPU` : "") + (server.length ? ` (server ${median(server).toFixed(1)} s)` : "");
  };
  const summary = (rs: Read[]) => ({
    linesPerSecond: rs.map((x) => Math.round(perSecond(x.distinct, x.windowMs))),
    firstLineMs: rs.map((x) => Math.round(x.firstMs ?? -1)),
    wallSeconds: rs.map((x) => Math.round(x.wall * 100) / 100),
    cpuSeconds: rs.map((x) => x.cpu),
    serverCpuSeconds: rs.map((x) => x.serverCpu),
    peakRssMb: rs.map((x) => x.rssMb),
    bytes: rs[0]?.bytes,
    lost: rs.map((x) => x.lost),
    repeated: rs.map((x) => x.repeated),
    outOfOrder: rs.map((x) => x.outOfOrder),
    failures: rs.filter((x) => x.code !== "0").map((x) => `exit ${x.code}: ${x.stderr}`),
  });
  const liveSummary = (pick: (l: Live) => Read) => ({
    linesPerSecond: lives.map((l) => Math.round(liveRate(l, pick(l)))),
    secondsAfterLastPrinted: lives.map((l) => Math.round(lag(l, pick(l)) * 10) / 10),
    exitSecondsAfterLastLine: lives.map((l) => Math.round((pick(l).endMs - (pick(l).lastMs ?? 0)) / 100) / 10),
    cpuSeconds: lives.map((l) => pick(l).cpu),
    peakRssMb: lives.map((l) => pick(l).rssMb),
    lost: lives.map((l) => pick(l).lost),
    repeated: lives.map((l) => pick(l).repeated),
    failures: lives.map(pick).filter((x) => x.code !== "0").map((x) => `exit ${x.code}: ${x.stderr}`),
  });
  return [
    {
      figure: `${FIGURE}, buildpod run live beside kubectl logs -f on the same pod (median of ${LIVE_RUNS})`,
      buildpod: `${fmt(liveOurs)}; lost ${liveLost}, repeated ${liveRepeated}`,
      anchor: `kubectl logs -f: ${fmt(liveTheirs)} (the container printed at ${fmt(printed)})`,
      ratio: `${(liveOurs / liveTheirs).toFixed(2)}x kubectl`,
      target: ">= kubectl, 0 lost or repeated",
      met: liveOurs >= liveTheirs && liveLost === 0 && liveRepeated === 0,
      raw: {
        where: WHERE, rateIs: "distinct lines / from the container's first line (its log timestamp) to the reader's last, at the checker",
        printedLinesPerSecond: lives.map((l) => Math.round(perSecond(LINES, l.printedTo - l.printedFrom))),
        note: "after its last line buildpod confirms the end with a tailLines=1 read (kubectl --tail=1 timings below)",
        tailReadSeconds: lives.map((l) => Math.round(l.tailRead * 10) / 10),
        buildpodRun: liveSummary((l) => l.ours), kubectlLogsF: liveSummary((l) => l.theirs),
      },
    },
    {
      figure: `${FIGURE}, the finished pod read whole (median of ${READS})`,
      buildpod: `logs -f: ${fmt(ours)}${cpuOf("buildpod logs -f")}; logs: ${fmt(plain)}${cpuOf("buildpod logs")}; lost ${lost}, repeated ${repeated}`,
      anchor: `kubectl logs -f: ${fmt(theirs)}${cpuOf("kubectl logs -f")}; bare HTTPS: ${fmt(bareTs)}${cpuOf("bare HTTPS, timestamps=true")} with timestamps as buildpod reads, ${fmt(barePlain)}${cpuOf("bare HTTPS")} without`,
      ratio: `${(slowest / theirs).toFixed(2)}x kubectl, ${(slowest / bare).toFixed(2)}x the faster bare read`,
      target: TARGET,
      met: slowest >= theirs && slowest >= 0.95 * bare && lost === 0 && repeated === 0,
      raw: {
        where: WHERE, rateIs: "distinct lines / first to last line at the checker", bare: "the faster of the two bare reads",
        note: "the kubelet's log reader sends the log through the API server's proxy; time to its first byte in firstLineMs",
        readers: Object.fromEntries(readers.map((r) => [r.name, summary(reads[r.name])])),
      },
    },
  ];
}

export async function logRelay(tc: TestCluster): Promise<Row[]> {
  const dir = mkdtempSync(join(tmpdir(), "bench-logs-"));
  const cleanup: string[] = [];
  let cluster: Cluster | undefined;
  try {
    cluster = await Cluster.connect({ kubeconfig: tc.kubeconfig });
    return await measure(tc, dir, cluster, cleanup);
  } catch (err) {
    return [{ figure: FIGURE, buildpod: `could not measure: ${(err as Error).message}`, anchor: "-", ratio: "-", target: TARGET, met: "n/a" }];
  } finally {
    for (const name of cleanup) await cluster?.deleteRun("job", name, "default", 0).catch(() => undefined);
    rmSync(dir, { recursive: true, force: true });
  }
}
