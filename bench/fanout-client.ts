// The fan-out row's client: a process of its own (the bench process hosts the API server, whose work must not
// count as buildpod's) that runs N builds at once through the compiled library API and prints one JSON line:
// its peak RSS, memory samples, and timings. Usage: node fanout-client.js '<Config as JSON>'.
import { Cluster, parseRequest, runBuild, type BuildResult } from "../core/index.js";
import { peakRssMb } from "./kit.js";

export interface FanOutConfig {
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
}

export interface FanOutReport {
  builds: number;
  /** The process's peak resident memory (VmHWM), in MB. */
  peakRssMb: number;
  /** RSS once the library is loaded and connected, before any build: what the builds add is the rest. */
  idleRssMb: number;
  /** Highest heap and external memory seen by the sampler (every 100 ms), in MB. */
  peakHeapMb: number;
  peakExternalMb: number;
  /** When the first runBuild was called (ms since epoch), to line up with the pods' own timestamps. */
  startedAt: number;
  /** From the first runBuild call to the last result, in seconds. */
  wallSeconds: number;
  /** CPU time of this process (user + system) over the builds, in seconds: the client's own work. */
  cpuSeconds: number;
  /** Each build's own time, runBuild call to result, in seconds. */
  buildSeconds: number[];
  statuses: Record<string, number>;
  /** Log lines delivered, over all builds: the logs were followed, not skipped. */
  logLines: number;
  /** A few non-Complete results, for the row's raw data. */
  failures: Pick<BuildResult, "run" | "status" | "reason" | "message">[];
}

const mb = (bytes: number) => Math.round((bytes / 2 ** 20) * 10) / 10;

async function main(cfg: FanOutConfig): Promise<FanOutReport> {
  const cluster = await Cluster.connect({ kubeconfig: cfg.kubeconfig });
  const requests = Array.from({ length: cfg.builds }, (_, i) =>
    parseRequest({
      name: cfg.name,
      source: { dockerfile: "# unused: the custom builder ignores its source\n" },
      strategy: { type: "custom", builderImage: cfg.builderImage, env: { BENCH_SLEEP: String(cfg.sleepSeconds) } },
      output: { image: `${cfg.registry}/bench/fanout:${i}`, insecure: true },
      images: { source: cfg.sourceImage },
      // Small requests so that a hundred pods fit the one node's CPU (2 cores here).
      resources: { requests: { cpu: "10m", memory: "16Mi" } },
      startTimeout: "10m",
      timeout: "20m",
    }),
  );
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
  const runs = requests.map(async (req) => {
    const started = performance.now();
    // A build whose start failed (runBuild threw) counts as not complete, as one that failed does.
    const result = await runBuild(cluster, req, { onLog: () => void logLines++ }).catch(
      (err: Error): Pick<BuildResult, "run" | "status" | "reason" | "message"> => ({ run: req.name, status: "Error", reason: "Thrown", message: err.message }),
    );
    return { result, seconds: (performance.now() - started) / 1000 };
  });
  const done = await Promise.all(runs);
  const wallSeconds = (performance.now() - t0) / 1000;
  clearInterval(sampler);
  const statuses: Record<string, number> = {};
  for (const { result } of done) statuses[result.status] = (statuses[result.status] ?? 0) + 1;
  return {
    builds: cfg.builds,
    peakRssMb: peakRssMb(),
    idleRssMb: mb(idle),
    peakHeapMb: mb(peakHeap),
    peakExternalMb: mb(peakExternal),
    startedAt,
    wallSeconds,
    cpuSeconds: (() => {
      const c = process.cpuUsage(cpu0);
      return Math.round((c.user + c.system) / 1e4) / 100;
    })(),
    buildSeconds: done.map((d) => Math.round(d.seconds * 100) / 100),
    statuses,
    logLines,
    failures: done.filter((d) => d.result.status !== "Complete").slice(0, 5).map(({ result: r }) => ({ run: r.run, status: r.status, reason: r.reason, message: r.message })),
  };
}

const report = await main(JSON.parse(process.argv[2] ?? "{}") as FanOutConfig);
process.stdout.write(`${JSON.stringify(report)}\n`);
// Keep-alive sockets of the client would hold the process open for a while: the report is out, leave.
process.exit(0);
