// Benchmark row: fan-out: 100 builds at once from one process through the library API. The builds run in a
// child process (bench/fanout-client.ts) so that its peak RSS is buildpod's alone; the API server's audit
// log counts every request the child makes (it runs as the bench identity, the only one logged).
import { join } from "node:path";
import type { RequestCounts as StatsSnapshot } from "../test/cluster/kube/audit.js";
import type { KubeCluster as TestCluster } from "../test/cluster/kube/index.js";
import { Cluster, parseRequest, runBuild } from "../core/index.js";
import type { FanOutConfig, FanOutReport } from "./fanout-client.js";
import { median, run, RUNS, type Row } from "./kit.js";

// BENCH_FANOUT_BUILDS: fewer builds, to try the row quickly.
const BUILDS = Number(process.env.BENCH_FANOUT_BUILDS ?? 100);
const FIGURE = `fan-out: ${BUILDS} builds at once from one process (library API), trivial custom builds`;
const TARGET = "<= 200 MB RSS, no polling, <= 1 watch per build";
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
async function phase(tc: TestCluster, cluster: Cluster, base: Omit<FanOutConfig, "builds" | "sleepSeconds" | "name">, name: string, builds: number, sleepSeconds: number): Promise<Phase> {
  const cfg: FanOutConfig = { ...base, name, builds, sleepSeconds };
  tc.requests.reset();
  const ran = await run(process.execPath, [join(import.meta.dirname, "fanout-client.js"), JSON.stringify(cfg)]);
  const stats = await tc.requests.snapshot();
  try {
    if (ran.code !== 0) throw new Error(`the fan-out client exited with ${ran.code}: ${ran.stderr.trim().split("\n").slice(-3).join(" ")}`);
    // Builds that did not complete are reported by the row (and their first few results kept in raw).
    const report = JSON.parse(ran.stdout.trim().split("\n").pop()!) as FanOutReport;
    return { report, stats, nodeSeconds: await lastFinish(cluster, name, report.startedAt) };
  } finally {
    await cleanUp(cluster, name);
  }
}

/** What raw keeps of a phase: the report and the request counts, by verb and by resource. */
const summary = (p: Phase) => ({
  ...p.report,
  nodeSeconds: p.nodeSeconds,
  requests: { total: p.stats.total, perBuild: per(p.stats.total, p.report.builds), byVerb: p.stats.byVerb, byResource: p.stats.byResource },
});

async function measure(tc: TestCluster): Promise<Row[]> {
  const cluster = await Cluster.connect({ kubeconfig: tc.kubeconfig });
  const base = { kubeconfig: tc.kubeconfig, builderImage: await builderImage(cluster, tc), sourceImage: tc.infra.images.busybox, registry: tc.registry };

  // The anchor: one build alone, from the same client, a few times.
  const singles: Phase[] = [];
  for (let i = 0; i < Math.min(RUNS, 3); i++) singles.push(await phase(tc, cluster, base, `bench-fanout-single-${i}`, 1, 0));
  const single = median(singles.map((p) => p.report.wallSeconds));

  // No polling: a few builds, then as many lasting LONG_SLEEP seconds longer; requests per build must not grow.
  const short = await phase(tc, cluster, base, "bench-fanout-short", FEW, 0);
  const long = await phase(tc, cluster, base, "bench-fanout-long", FEW, LONG_SLEEP);

  const fan = await phase(tc, cluster, base, "bench-fanout-many", BUILDS, 0);
  const r = fan.report;
  const perBuild = per(fan.stats.total, BUILDS);
  const watchesPerBuild = per(watches(fan.stats), BUILDS);
  const shortPer = per(short.stats.total, FEW);
  const longPer = per(long.stats.total, FEW);
  const grows = longPer - shortPer >= 1;
  const failed = incomplete(fan) + incomplete(short) + incomplete(long) + singles.reduce((n, p) => n + incomplete(p), 0);
  const failures = failed ? `${failed} build(s) did not complete (fan-out: ${incomplete(fan)} of ${BUILDS}; see raw failures); ` : "";
  const sorted = [...r.buildSeconds].sort((a, b) => a - b);
  const where = "the test cluster's real control plane and kubelet (test/cluster/kube), pods on containerd on one node " +
    "sharing the machine's cores; nodeSeconds: from the client's first call until the node ended the last build container (whole-second times)";
  return [
    {
      figure: `${FIGURE}: peak RSS, requests per build, wall vs one build`,
      buildpod: `${failures}${r.peakRssMb} MB peak RSS (${r.idleRssMb} MB idle); ${perBuild} requests and ${watchesPerBuild} watches per build; wall ${r.wallSeconds.toFixed(1)} s (the node ended the last container at ${fan.nodeSeconds?.toFixed(0) ?? "?"} s)`,
      anchor: `one build alone: ${single.toFixed(2)} s`,
      ratio: `${(r.wallSeconds / single).toFixed(1)}x wall`,
      target: TARGET,
      met: !failed && r.peakRssMb <= 200 && watchesPerBuild <= 1 && !grows,
      raw: {
        note: where,
        fanOut: summary(fan),
        buildSecondsMedian: median(sorted),
        buildSecondsMax: sorted.at(-1),
        singles: singles.map(summary),
      },
    },
    {
      figure: `no polling: API requests per build, ${FEW} builds lasting ${LONG_SLEEP} s longer vs ${FEW} trivial ones (counted from the API server's audit log)`,
      buildpod: `${longPer} per build (${per(watches(long.stats), FEW)} watches)`,
      anchor: `trivial: ${shortPer} per build (${per(watches(short.stats), FEW)} watches)`,
      ratio: `${(longPer / shortPer).toFixed(2)}x`,
      target: "independent of build length (< 1 more per build)",
      met: !grows && !incomplete(short) && !incomplete(long),
      raw: { short: summary(short), long: summary(long) },
    },
  ];
}

export async function fanOut(tc: TestCluster): Promise<Row[]> {
  try {
    return await measure(tc);
  } catch (err) {
    const why = (err as Error).message.split("\n")[0];
    return [{ figure: FIGURE, buildpod: `could not measure: ${why}`, anchor: "-", ratio: "-", target: TARGET, met: "n/a" }];
  }
}
