// The fan-out rows' client: a process of its own, so that its peak RSS and CPU are the client's alone. It
// runs N builds at once and prints one JSON line: peak RSS, memory samples, CPU and timings. Two modes:
// - buildpod: N runBuild calls through the compiled library API (create, follow, logs, result);
// - bare: the anchor, the cluster's own share: the same Jobs (buildpod's render of the same requests)
//   created one request each, and one watch over all their pods until every pod has ended. No checks, no
//   logs, no result.
// Usage: node fanout-client.js '<Config as JSON>'.
import type { V1Pod, V1Toleration } from "@kubernetes/client-node";
import { Cluster, newRunId, parseRequest, render, runBuild, LABELS, type BuildRequest, type BuildResult } from "../core/index.js";
import { peakRssMb } from "./kit.js";

export interface FanOutConfig {
  mode: "buildpod" | "bare";
  kubeconfig: string;
  builds: number;
  /** The custom builder image: prints a line, sleeps BENCH_SLEEP seconds, prints another. */
  builderImage: string;
  /** The init container's image (the source step). */
  sourceImage: string;
  registry: string;
  sleepSeconds: number;
  /** The builds' name: the label the bench cleans up by. */
  name: string;
  /** Where the builds go: the virtual node's selector and toleration; the real node when absent. */
  placement?: { nodeSelector: Record<string, string>; toleration: V1Toleration };
}

export interface FanOutReport {
  mode: FanOutConfig["mode"];
  builds: number;
  /** The process's peak resident memory (VmHWM), in MB. */
  peakRssMb: number;
  /** RSS once the library is loaded and connected, before any build: what the builds add is the rest. */
  idleRssMb: number;
  /** Highest heap and external memory seen by the sampler (every 100 ms), in MB. */
  peakHeapMb: number;
  peakExternalMb: number;
  /** When the first build was started (ms since epoch), to line up with the pods' own timestamps. */
  startedAt: number;
  /** From the first build's start to the last result, in seconds. */
  wallSeconds: number;
  /** CPU time of this process (user + system) over the builds, in seconds: the client's own work. */
  cpuSeconds: number;
  /** Each build's own time, start to result, in seconds. */
  buildSeconds: number[];
  statuses: Record<string, number>;
  /** Log lines delivered, over all builds: the logs were followed, not skipped (0 for bare). */
  logLines: number;
  /** A few non-Complete results, for the row's raw data. */
  failures: Pick<BuildResult, "run" | "status" | "reason" | "message">[];
}

type Outcome = Pick<BuildResult, "run" | "status" | "reason" | "message">;

const mb = (bytes: number) => Math.round((bytes / 2 ** 20) * 10) / 10;

function requests(cfg: FanOutConfig): BuildRequest[] {
  const scheduling = cfg.placement ? { nodeSelector: cfg.placement.nodeSelector, tolerations: [cfg.placement.toleration] } : {};
  return Array.from({ length: cfg.builds }, (_, i) =>
    parseRequest({
      name: cfg.name,
      source: { dockerfile: "# unused: the custom builder ignores its source\n" },
      strategy: { type: "custom", builderImage: cfg.builderImage, env: { BENCH_SLEEP: String(cfg.sleepSeconds) } },
      output: { image: `${cfg.registry}/bench/fanout:${i}`, insecure: true },
      images: { source: cfg.sourceImage },
      // Small requests so that a hundred pods fit the real node's CPU (2 cores here).
      resources: { requests: { cpu: "10m", memory: "16Mi" } },
      scheduling,
      startTimeout: "10m",
      timeout: "20m",
    }),
  );
}

/** buildpod: every build through runBuild, all at once. */
function viaBuildpod(cluster: Cluster, reqs: BuildRequest[], onLog: () => void): Promise<{ result: Outcome; seconds: number }>[] {
  return reqs.map(async (req) => {
    const started = performance.now();
    // A build whose start failed (runBuild threw) counts as not complete, as one that failed does.
    const result = await runBuild(cluster, req, { onLog }).catch((err: Error): Outcome => ({ run: req.name, status: "Error", reason: "Thrown", message: err.message }));
    return { result, seconds: (performance.now() - started) / 1000 };
  });
}

/** bare: the same Jobs created, one watch over their pods, each build done when its pod has ended. */
function viaBare(cluster: Cluster, reqs: BuildRequest[], name: string): Promise<{ result: Outcome; seconds: number }>[] {
  const waiting = new Map<string, (r: Outcome) => void>();
  const stop = new AbortController();
  const seen = (p: V1Pod) => {
    const run = p.metadata?.labels?.[LABELS.run];
    const phase = p.status?.phase;
    if (!run || (phase !== "Succeeded" && phase !== "Failed")) return;
    waiting.get(run)?.({ run, status: phase === "Succeeded" ? "Complete" : "Failed", reason: phase, message: "" });
    waiting.delete(run);
    if (waiting.size === 0) stop.abort();
  };
  const watch = cluster.watchPods("default", `${LABELS.build}=${name}`, { pod: seen, deleted: () => {} }, stop.signal).catch(() => undefined);
  const runs = reqs.map(async (req) => {
    const started = performance.now();
    const job = render(req, { id: newRunId() });
    const run = job.metadata!.name!;
    const done = new Promise<Outcome>((resolve) => waiting.set(run, resolve));
    const result = await cluster.create(job).then(() => done, (err: Error): Outcome => {
      waiting.delete(run);
      return { run, status: "Error", reason: "Thrown", message: err.message };
    });
    return { result, seconds: (performance.now() - started) / 1000 };
  });
  void Promise.all(runs).then(() => stop.abort());
  void watch;
  return runs;
}

async function main(cfg: FanOutConfig): Promise<FanOutReport> {
  const cluster = await Cluster.connect({ kubeconfig: cfg.kubeconfig });
  const reqs = requests(cfg);
  global.gc?.();
  const idle = process.memoryUsage().rss;
  let peakHeap = 0;
  let peakExternal = 0;
  const sampler = setInterval(() => {
    const m = process.memoryUsage();
    peakHeap = Math.max(peakHeap, m.heapUsed);
    peakExternal = Math.max(peakExternal, m.external);
  }, 100);
  let logLines = 0;
  const cpu0 = process.cpuUsage();
  const startedAt = Date.now();
  const t0 = performance.now();
  const done = await Promise.all(cfg.mode === "bare" ? viaBare(cluster, reqs, cfg.name) : viaBuildpod(cluster, reqs, () => void logLines++));
  const wallSeconds = (performance.now() - t0) / 1000;
  const cpu = process.cpuUsage(cpu0);
  clearInterval(sampler);
  const statuses: Record<string, number> = {};
  for (const { result } of done) statuses[result.status] = (statuses[result.status] ?? 0) + 1;
  return {
    mode: cfg.mode,
    builds: cfg.builds,
    peakRssMb: peakRssMb(),
    idleRssMb: mb(idle),
    peakHeapMb: mb(peakHeap),
    peakExternalMb: mb(peakExternal),
    startedAt,
    wallSeconds,
    cpuSeconds: Math.round((cpu.user + cpu.system) / 1e4) / 100,
    buildSeconds: done.map((d) => Math.round(d.seconds * 100) / 100),
    statuses,
    logLines,
    failures: done.filter((d) => d.result.status !== "Complete").slice(0, 5).map((d) => d.result),
  };
}

const report = await main(JSON.parse(process.argv[2] ?? "{}") as FanOutConfig);
process.stdout.write(`${JSON.stringify(report)}\n`);
// Keep-alive sockets of the client would hold the process open for a while: the report is out, leave.
process.exit(0);
