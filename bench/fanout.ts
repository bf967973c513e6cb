// Benchmark rows: fan-out. 10, 100 and 1000 builds at once from one process through the library API, on the
// test cluster's virtual node (real API server, scheduler and Job controller; pods played without
// containers), each size beside its anchor: the same Jobs created and watched by a bare client. Both run in
// a child process (bench/fanout-client.ts) so that peak RSS and CPU are the client's alone; the API server's
// audit log counts every request the child makes (it runs as the bench identity, the only one logged).
// Then no polling: on the real node, a few builds lasting 10 s longer make no more requests than trivial ones.
import { join } from "node:path";
import type { RequestCounts as StatsSnapshot } from "../test/cluster/kube/audit.js";
import type { KubeCluster as TestCluster } from "../test/cluster/kube/index.js";
import { Cluster, parseRequest, runBuild } from "../core/index.js";
import type { FanOutConfig, FanOutReport } from "./fanout-client.js";
import { median, run, type Row } from "./kit.js";

// BENCH_FANOUT_SIZES: the sizes to run (default 10,100,1000).
const SIZES = (process.env.BENCH_FANOUT_SIZES ?? "10,100,1000").split(",").map(Number).filter((n) => n > 0);
const FIGURE = "fan-out: builds at once from one process (library API) on the virtual node";
const RSS_MB = 300;
/**
 * CPU per build may grow this much from the first size's and still count as flat. The first size's figure
 * carries the process's first-use costs (code compiled on first call, the TLS handshake) over fewer builds,
 * so larger sizes come out lower; what the target guards against is growth with the number of builds.
 */
const FLAT = 1.5;
const TARGET = `<= ${RSS_MB} MB RSS, 1 watch per build (and the process's one of Job warnings), no polling, CPU per build flat (not above ${FLAT}x the first size's)`;
const FEW = 5;
const LONG_SLEEP = 10;
const BUILD_LABEL = "buildpod.dev/build";

interface Phase {
  report: FanOutReport;
  stats: StatsSnapshot;
  /** Seconds from the client's first call until the node finished the last build container (pod status times). */
  nodeSeconds?: number;
}

const incomplete = (p: Phase) => p.report.builds - (p.report.statuses.Complete ?? 0);
const per = (n: number, builds: number) => Math.round((n / builds) * 100) / 100;
const watches = (s: StatsSnapshot) => s.byVerb.watch ?? 0;

/**
 * The custom builder every fan-out build runs: prints a line, sleeps BENCH_SLEEP seconds, prints another.
 * Built here, with buildpod, from the test cluster's busybox.
 */
async function builderImage(cluster: Cluster, tc: TestCluster): Promise<string> {
  const image = `${tc.registry}/bench/fanout-builder:1`;
  const dockerfile = `FROM ${tc.infra.images.busybox}\nCMD ["sh", "-c", "echo \\"building $OUTPUT_REGISTRY/$OUTPUT_IMAGE\\"; sleep \\"\${BENCH_SLEEP:-0}\\"; echo done"]\n`;
  const r = await runBuild(cluster, parseRequest({
    name: "bench-fanout-builder",
    source: { dockerfile },
    output: { image, insecure: true },
    images: { source: tc.infra.images.builder, buildah: tc.infra.images.builder },
  }));
  await cleanUp(cluster, "bench-fanout-builder");
  if (r.status !== "Complete") throw new Error(`building the custom builder image failed: ${r.reason}: ${r.message}`);
  return r.imageRef ?? image;
}

/** Deletes a phase's builds and waits until their pods are gone, so the next phase has the node to itself. */
async function cleanUp(cluster: Cluster, name: string): Promise<void> {
  const labelSelector = `${BUILD_LABEL}=${name}`;
  await cluster.call("deleting the phase's pods", "DELETE", "/api/v1/namespaces/default/pods", { query: { labelSelector, gracePeriodSeconds: 0 } });
  await cluster.call("deleting the phase's Jobs", "DELETE", "/apis/batch/v1/namespaces/default/jobs", { query: { labelSelector, propagationPolicy: "Background" } });
  for (let i = 0; i < 300; i++) {
    if ((await cluster.listPods("default", labelSelector)).items.length === 0) return;
    await new Promise((r) => setTimeout(r, 1000));
  }
  throw new Error(`the pods of ${name} were not gone 5 minutes after their deletion`);
}

/** When the node ended the phase's last container, in seconds after `since` (whole-second timestamps). */
async function lastFinish(cluster: Cluster, name: string, since: number): Promise<number | undefined> {
  const pods = await cluster.listPods("default", `${BUILD_LABEL}=${name}`);
  const ends = pods.items.flatMap((p) => (p.status?.containerStatuses ?? []).map((s) => s.state?.terminated?.finishedAt)).filter((d) => d !== undefined);
  return ends.length ? Math.max(...ends.map((d) => new Date(d).getTime() - since)) / 1000 : undefined;
}

/** One phase: N builds in the child process, with the API server's request counts around it. */
async function phase(tc: TestCluster, cluster: Cluster, cfg: FanOutConfig): Promise<Phase> {
  tc.requests.reset();
  const ran = await run(process.execPath, [join(import.meta.dirname, "fanout-client.js"), JSON.stringify(cfg)]);
  const stats = await tc.requests.snapshot();
  try {
    if (ran.code !== 0) throw new Error(`the fan-out client (${cfg.mode}, ${cfg.builds} builds) exited with ${ran.code}: ${ran.stderr.trim().split("\n").slice(-3).join(" ")}`);
    // Builds that did not complete are reported by the row (and their first few results kept in raw).
    const report = JSON.parse(ran.stdout.trim().split("\n").pop()!) as FanOutReport;
    return { report, stats, nodeSeconds: await lastFinish(cluster, cfg.name, report.startedAt) };
  } finally {
    await cleanUp(cluster, cfg.name);
  }
}

/** What raw keeps of a phase: the report and the request counts, by verb and by resource. */
const summary = (p: Phase) => ({
  ...p.report,
  buildSeconds: undefined,
  buildSecondsMedian: median(p.report.buildSeconds),
  buildSecondsMax: Math.max(...p.report.buildSeconds),
  nodeSeconds: p.nodeSeconds,
  requests: { total: p.stats.total, perBuild: per(p.stats.total, p.report.builds), byVerb: p.stats.byVerb, byResource: p.stats.byResource },
});

const cpuMs = (p: Phase) => Math.round((p.report.cpuSeconds / p.report.builds) * 1000 * 10) / 10;

/** One size: buildpod's builds, then the bare client's same Jobs. */
async function size(tc: TestCluster, cluster: Cluster, base: Omit<FanOutConfig, "builds" | "sleepSeconds" | "name" | "mode">, n: number) {
  const ours = await phase(tc, cluster, { ...base, mode: "buildpod", name: `bench-fanout-${n}`, builds: n, sleepSeconds: 0 });
  const bare = await phase(tc, cluster, { ...base, mode: "bare", name: `bench-fanout-bare-${n}`, builds: n, sleepSeconds: 0 });
  return { n, ours, bare };
}

function sizeRow(s: Awaited<ReturnType<typeof size>>, cpuFirst: number): Row {
  const { n, ours, bare } = s;
  const r = ours.report;
  const failed = incomplete(ours) + incomplete(bare);
  const failures = failed ? `${incomplete(ours)} of buildpod's and ${incomplete(bare)} of the bare client's builds did not complete (see raw failures); ` : "";
  const watchesPer = per(watches(ours.stats), n);
  // One pod watch per build; the process's watch of Job warnings, shared by every waiting build, besides.
  const podWatches = ours.stats.byResource["watch pods"] ?? 0;
  const warningWatches = ours.stats.byResource["watch events"] ?? 0;
  const oneWatch = podWatches <= n;
  const flat = cpuMs(ours) <= cpuFirst * FLAT;
  return {
    figure: `${FIGURE}: ${n} builds: client's peak RSS, CPU, requests and watches per build, wall`,
    buildpod: `${failures}${r.peakRssMb} MB peak RSS (${r.idleRssMb} MB idle); CPU ${cpuMs(ours)} ms per build; ${per(ours.stats.total, n)} requests and ${watchesPer} watches per build (${per(podWatches, n)} of pods; ${warningWatches} of Job warnings in all); wall ${r.wallSeconds.toFixed(1)} s`,
    anchor: `bare client (the same Jobs, one watch): ${bare.report.peakRssMb} MB; CPU ${cpuMs(bare)} ms per build; ${per(bare.stats.total, n)} requests per build; wall ${bare.report.wallSeconds.toFixed(1)} s`,
    ratio: `${(r.wallSeconds / bare.report.wallSeconds).toFixed(2)}x wall`,
    target: TARGET,
    met: !failed && r.peakRssMb <= RSS_MB && oneWatch && flat,
    raw: { buildpod: summary(ours), bare: summary(bare) },
  };
}

async function measure(tc: TestCluster): Promise<Row[]> {
  if (!tc.virtualNode) throw new Error("the test cluster was started without its virtual node");
  const cluster = await Cluster.connect({ kubeconfig: tc.kubeconfig });
  const common = { kubeconfig: tc.kubeconfig, builderImage: await builderImage(cluster, tc), sourceImage: tc.infra.images.busybox, registry: tc.registry };
  const placement = { nodeSelector: tc.virtualNode.nodeSelector, toleration: tc.virtualNode.toleration };
  const sizes = [];
  for (const n of SIZES) {
    process.stderr.write(`bench: fanout ${n}\n`);
    sizes.push(await size(tc, cluster, { ...common, placement }, n));
  }
  const cpuFirst = cpuMs(sizes[0].ours);
  const rows = sizes.map((s) => sizeRow(s, cpuFirst));

  // No polling: a few builds on the real node, then as many lasting LONG_SLEEP seconds longer; requests per
  // build must not grow.
  const short = await phase(tc, cluster, { ...common, mode: "buildpod", name: "bench-fanout-short", builds: FEW, sleepSeconds: 0 });
  const long = await phase(tc, cluster, { ...common, mode: "buildpod", name: "bench-fanout-long", builds: FEW, sleepSeconds: LONG_SLEEP });
  const shortPer = per(short.stats.total, FEW);
  const longPer = per(long.stats.total, FEW);
  rows.push({
    figure: `no polling: API requests per build, ${FEW} builds lasting ${LONG_SLEEP} s longer vs ${FEW} trivial ones on the real node (counted from the API server's audit log)`,
    buildpod: `${longPer} per build (${per(watches(long.stats), FEW)} watches)`,
    anchor: `trivial: ${shortPer} per build (${per(watches(short.stats), FEW)} watches)`,
    ratio: `${(longPer / shortPer).toFixed(2)}x`,
    target: "independent of build length (< 1 more per build)",
    met: longPer - shortPer < 1 && !incomplete(short) && !incomplete(long),
    raw: { short: summary(short), long: summary(long) },
  });
  return rows;
}

export async function fanOut(tc: TestCluster): Promise<Row[]> {
  try {
    return await measure(tc);
  } catch (err) {
    const why = (err as Error).message.split("\n")[0];
    return [{ figure: FIGURE, buildpod: `could not measure: ${why}`, anchor: "-", ratio: "-", target: TARGET, met: "n/a" }];
  }
}
