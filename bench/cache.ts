// Benchmark row: cache. A slow step ("downloading dependencies": a sleep that writes a file) built cold,
// then rebuilt with unchanged inputs in a fresh build pod, which starts with empty storage: the second build
// is fast only if it takes the step's result from the registry. Two ways: a Dockerfile with the registry
// layer cache (buildah --cache-from/--cache-to), and an S2I incremental rebuild (artifacts saved by the
// previous image). Wall time of the library's runBuild, create to result, against the cold build's.
import { existsSync, readdirSync } from "node:fs";
import type { KubeCluster as TestCluster } from "../test/cluster/kube/index.js";
import { s2iBuilderFiles } from "../test/e2e/s2i-builder.js";
import { Cluster, parseRequest, runBuild, type BuildResult } from "../core/index.js";
import { median, ratio, RUNS, type Row } from "./kit.js";

/** How long the slow step takes, in both builds. */
const SLOW_SECONDS = Number(process.env.BENCH_CACHE_SLOW_SECONDS ?? 10);
const TARGET = ">= 5x faster than cold";
const NOTE = "test cluster: the real control plane and kubelet on containerd (test/cluster/kube), buildah (vfs), its registry";

interface Timed {
  seconds: number;
  result: BuildResult;
  log: string;
  /** Where the wall time went, in seconds, from the build container's log timestamps. */
  phases: Phases;
}

interface Phases {
  /** Create to the build container's first line: pod start, source, builder start (S2I: its pulls too). */
  start: number;
  /** First line to the image commit: the Dockerfile steps (cache pulls and pushes for buildah's cache). */
  steps: number;
  /** Commit to the pushed image. */
  commitPush: number;
  /** Pushed to the result in hand. */
  end: number;
}

/** Milliseconds since 1970 of an RFC3339 time with any number of fraction digits. */
const at = (time: string) => Date.parse(time.replace(/(\.\d{3})\d*/, "$1"));
const round = (x: number) => Math.round(x * 100) / 100;

function phases(t0: number, t1: number, lines: { time: string; text: string }[]): Phases {
  const first = lines.length ? at(lines[0].time) : t1;
  const commit = at(lines.findLast((l) => /\bCOMMIT\b/.test(l.text))?.time ?? lines[0]?.time ?? "") || first;
  const pushed = at(lines.findLast((l) => l.text.startsWith("buildpod: pushed"))?.time ?? "") || t1;
  return { start: round((first - t0) / 1000), steps: round((commit - first) / 1000), commitPush: round((pushed - commit) / 1000), end: round((t1 - pushed) / 1000) };
}

async function timed(cluster: Cluster, raw: Record<string, unknown>, tc: TestCluster): Promise<Timed> {
  const req = parseRequest({
    images: { source: tc.infra.images.builder, buildah: tc.infra.images.builder },
    startTimeout: "2m",
    timeout: "15m",
    ...raw,
  });
  const lines: { time: string; text: string }[] = [];
  const start = Date.now();
  const t0 = process.hrtime.bigint();
  const result = await runBuild(cluster, req, { onLog: (c, l) => c === "build" && lines.push(l) });
  const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
  if (result.status !== "Complete") throw new Error(`cache bench: ${req.name} did not complete: ${result.reason}: ${result.message}`);
  return { seconds, result, log: lines.map((l) => l.text).join("\n"), phases: phases(start, start + seconds * 1000, lines) };
}

/** The median of each phase over the runs, for the cold builds and the rebuilds. */
function medianPhases(runs: { cold: Phases; rebuild: Phases }[]) {
  const of = (which: "cold" | "rebuild") =>
    Object.fromEntries((Object.keys(runs[0][which]) as (keyof Phases)[]).map((k) => [k, round(median(runs.map((r) => r[which][k])))]));
  return { cold: of("cold"), rebuild: of("rebuild") };
}

/**
 * Deletes finished builds and waits until the node has torn their pods down (containers, emptyDirs with
 * the builder's storage): otherwise the next timed build would share the machine with that clean-up.
 */
async function cleanUp(cluster: Cluster, tc: TestCluster, done: Timed[]): Promise<void> {
  for (const t of done) await cluster.deleteRun("job", t.result.run, "default", 0).catch(() => undefined);
  const pods = tc.podsDir;
  for (let i = 0; i < 600; i++) {
    if (!existsSync(pods) || readdirSync(pods).length === 0) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  process.stderr.write("cache bench: pods still being torn down after 60 s; going on\n");
}

const secs = (x: number) => `${x.toFixed(1)} s`;

function row(figure: string, cold: number[], warm: number[], hits: boolean[], raw: Record<string, unknown>): Row {
  const c = median(cold);
  const w = median(warm);
  const hit = hits.filter(Boolean).length;
  return {
    figure,
    buildpod: `rebuild ${secs(w)} (${hit}/${hits.length} reused the slow step)`,
    anchor: `cold build: ${secs(c)}`,
    ratio: `${ratio(c, w)} faster`,
    target: TARGET,
    met: c / w >= 5 && hit === hits.length,
    raw: { runs: RUNS, slowStepSeconds: SLOW_SECONDS, coldSeconds: cold, rebuildSeconds: warm, stepReused: hits, ...raw, cluster: NOTE },
  };
}

/** Dockerfile, buildah, registry layer cache: each run gets its own cache repository, so its first build is cold. */
async function layerCache(cluster: Cluster, tc: TestCluster, tag: string): Promise<Row> {
  // What the step prints is not in its own text (which the log shows as the step starts).
  const dockerfile = [
    `FROM ${tc.infra.images.busybox}`,
    `RUN echo "dependencies: downloading $((1 + 1))" && sleep ${SLOW_SECONDS} && mkdir /deps && cat /proc/sys/kernel/random/uuid > /deps/lib`,
    "RUN echo built > /app",
    "",
  ].join("\n");
  const cold: number[] = [];
  const warm: number[] = [];
  const uncached: number[] = [];
  const hits: boolean[] = [];
  const sameDigest: boolean[] = [];
  const breakdown: { cold: Phases; rebuild: Phases }[] = [];
  for (let i = 0; i < RUNS; i++) {
    const base = (what: string) => ({
      name: `bench-cache-${what}`,
      source: { dockerfile },
      output: { image: `${tc.registry}/bench/${tag}/layers:${what}-${i}`, insecure: true },
      cache: { repository: `${tc.registry}/bench/${tag}/layer-cache-${i}` },
    });
    // What the cache costs a cold build (a commit per step, the pushes): the same build without it.
    const { cache: _, ...plain } = base("uncached");
    const u = await timed(cluster, plain, tc);
    await cleanUp(cluster, tc, [u]);
    uncached.push(u.seconds);
    const a = await timed(cluster, base("cold"), tc);
    const b = await timed(cluster, base("rebuild"), tc);
    await cleanUp(cluster, tc, [a, b]);
    if (!a.log.includes("dependencies: downloading 2")) throw new Error("cache bench: the cold build did not run the slow step");
    cold.push(a.seconds);
    warm.push(b.seconds);
    hits.push(!b.log.includes("dependencies: downloading 2") && b.log.includes("Using cache"));
    sameDigest.push(a.result.digest === b.result.digest);
    breakdown.push({ cold: a.phases, rebuild: b.phases });
  }
  const r = row(`cache: Dockerfile with a ${SLOW_SECONDS} s RUN step, unchanged rebuild with registry layer cache (buildah; median of ${RUNS})`, cold, warm, hits, { uncachedSeconds: uncached, sameDigest, breakdown, medianBreakdown: medianPhases(breakdown) });
  r.buildpod += `; cold without the cache ${secs(median(uncached))}`;
  // The cached rebuild must push the very image the cold build did.
  if (sameDigest.some((same) => !same)) {
    r.buildpod += "; digest differed";
    r.met = false;
  }
  return r;
}

/** S2I incremental: each run builds a new output image, so its first build has no previous image. */
async function s2iIncremental(cluster: Cluster, tc: TestCluster, tag: string): Promise<Row> {
  const builderRepo = await tc.infra.createRepo(`bench-${tag}-s2i-builder`, { files: s2iBuilderFiles(tc.infra.images.busybox) });
  const made = await timed(cluster, { name: "bench-cache-s2i-builder", source: { git: { url: builderRepo.url } }, output: { image: `${tc.registry}/bench/${tag}/s2i-builder:1`, insecure: true } }, tc);
  await cleanUp(cluster, tc, [made]);
  const builderImage = made.result.imageRef!;
  const appRepo = await tc.infra.createRepo(`bench-${tag}-s2i-app`, { files: { "hello.txt": "hello\n" } });
  const cold: number[] = [];
  const warm: number[] = [];
  const hits: boolean[] = [];
  const breakdown: { cold: Phases; rebuild: Phases }[] = [];
  for (let i = 0; i < RUNS; i++) {
    const raw = (what: string) => ({
      name: `bench-s2i-${what}`,
      source: { git: { url: appRepo.url } },
      strategy: { type: "source", builderImage, incremental: true, env: { DEPS_FETCH_SECONDS: String(SLOW_SECONDS) } },
      output: { image: `${tc.registry}/bench/${tag}/s2i-app-${i}:latest`, insecure: true },
    });
    const a = await timed(cluster, raw("cold"), tc);
    const b = await timed(cluster, raw("rebuild"), tc);
    await cleanUp(cluster, tc, [a, b]);
    if (!a.log.includes("dependencies: downloading")) throw new Error("cache bench: the cold S2I build did not download");
    cold.push(a.seconds);
    warm.push(b.seconds);
    hits.push(b.log.includes("dependencies: restored from artifacts"));
    breakdown.push({ cold: a.phases, rebuild: b.phases });
  }
  return row(`cache: S2I incremental rebuild, assemble with a ${SLOW_SECONDS} s dependency download unless artifacts restore it (median of ${RUNS})`, cold, warm, hits, { breakdown, medianBreakdown: medianPhases(breakdown) });
}

export async function cache(tc: TestCluster): Promise<Row[]> {
  const cluster = await Cluster.connect({ kubeconfig: tc.kubeconfig });
  // The registry keeps its content between bench runs: each run pushes under its own path.
  const tag = Date.now().toString(36);
  return [await layerCache(cluster, tc, tag), await s2iIncremental(cluster, tc, tag)];
}
