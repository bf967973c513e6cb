// Benchmark row 1: the wall time `buildpod run` adds around a trivial build, against a kubectl script doing
// the same (apply, wait, logs -f, get the result, delete), with where the time goes on each side.
import type { V1Pod } from "@kubernetes/client-node";
import { join } from "node:path";
import { stringify } from "yaml";
import { Cluster, LABELS, parseRequest, render } from "../core/index.js";
import { splitStamp } from "../core/logs.js";
import type { KubeCluster as TestCluster } from "../test/cluster/kube/index.js";
import { kubectl, median, ratio, ROOT, run, RUNS, type Row } from "./kit.js";

/** Container start and end times of every build pod, recorded by a watch of the bench's own. */
function podClock(cluster: Cluster, signal: AbortSignal) {
  const runs = new Map<string, V1Pod>();
  const record = (p: V1Pod) => {
    const run = p.metadata?.labels?.[LABELS.run];
    if (run) runs.set(run, p);
  };
  void cluster.watchPods("default", LABELS.run, { pod: record, deleted: record }, signal).catch(() => undefined);
  const ms = (d?: Date | string) => (d ? new Date(d).getTime() : NaN);
  return {
    pod: (run: string) => runs.get(run)?.metadata?.name,
    /** Epoch milliseconds of a run's containers, in the order they ran. */
    containers(run: string): { name: string; started: number; finished: number }[] {
      const st = runs.get(run)?.status;
      return [...(st?.initContainerStatuses ?? []), ...(st?.containerStatuses ?? [])].map((c) => ({
        name: c.name, started: ms(c.state?.terminated?.startedAt), finished: ms(c.state?.terminated?.finishedAt),
      }));
    },
  };
}

/** Waits until the clock has seen a run's build container end (the watch can trail the command). */
async function ended(clock: ReturnType<typeof podClock>, run: string, stepMs = 50) {
  for (let i = 0; i < 120_000 / stepMs; i++) {
    const b = clock.containers(run).find((c) => c.name === "build");
    if (b && Number.isFinite(b.finished)) return clock.containers(run);
    await new Promise((r) => setTimeout(r, stepMs));
  }
  return clock.containers(run);
}

interface Sample {
  total: number;
  /** Seconds per phase: the tool's own before the pod's first container, cluster time, after the build. */
  phases: Record<string, number>;
}

/**
 * The build container's own run time, in seconds: from its first log line to its last, by the runtime's
 * nanosecond timestamps. Status times have whole seconds, too coarse for a build of about a second.
 */
function logSpan(stampedLines: string[]): number {
  const t = stampedLines.map((l) => splitStamp(l)[0]).filter((st) => st !== undefined).map(([sec, ns]) => sec + ns / 1e9);
  if (t.length < 2) throw new Error(`the build container logged ${t.length} timestamped lines (of ${stampedLines.length}: ${JSON.stringify(stampedLines.slice(0, 2)).slice(0, 300)})`);
  return t[t.length - 1] - t[0];
}

/** A pod's build container log, with timestamps, as lines. */
async function buildLog(cluster: Cluster, pod: string): Promise<string[]> {
  let text = "";
  await cluster.streamLog("default", pod, "build", { follow: false }, (chunk) => void (text += chunk.toString()));
  return text.split("\n").filter(Boolean);
}

/** The overhead of one run and its phases, from the tool's start/end, the build's own time and the pod's container times. */
function sample(t0: number, t1: number, own: number, containers: { name: string; started: number; finished: number }[], marks: Record<string, number> = {}): Sample {
  const build = containers.find((c) => c.name === "build")!;
  const first = containers[0];
  const phases: Record<string, number> = {
    ...marks,
    "build container's own (log span)": own,
    "build container's own (status times, whole seconds)": (build.finished - build.started) / 1000,
    "start to first container running (whole seconds)": (first.started - t0) / 1000,
  };
  return { total: (t1 - t0) / 1000 - own, phases };
}

const phaseMedians = (samples: Sample[]) =>
  Object.fromEntries(Object.keys(samples[0]?.phases ?? {}).map((k) => [k, Number(median(samples.map((s) => s.phases[k])).toFixed(3))]));

export async function overhead(tc: TestCluster): Promise<Row[]> {
  const cluster = await Cluster.connect({ kubeconfig: tc.kubeconfig });
  const watch = new AbortController();
  const clock = podClock(cluster, watch.signal);
  const dockerfile = `FROM ${tc.infra.images.busybox}\nRUN true\n`;
  const env = { ...process.env, KUBECONFIG: tc.kubeconfig, BUILDPOD_IMAGE_SOURCE: tc.infra.images.builder, BUILDPOD_IMAGE_BUILDAH: tc.infra.images.builder };
  const ours: Sample[] = [];
  const theirs: Sample[] = [];
  const floor: Sample[] = [];
  try {
    for (let i = 0; i < RUNS; i++) {
      // buildpod run, as a user runs it: the command, logs relayed, the result with its digest. Clean-up is
      // the Job's TTL, which the cluster carries out without the command waiting; long enough here for the
      // bench to read the build's log timestamps afterwards.
      let created = NaN;
      const t0 = Date.now();
      const r = await run(process.env.BENCH_BUILDPOD ?? join(ROOT, "buildpod"), ["run", "--inline-dockerfile", dockerfile, "-t", `${tc.registry}/bench/trivial:${i}`, "--insecure-registry", "--delete-after", "10m", "-o", "json"], {
        env, onStderr: (d) => {
          if (Number.isNaN(created) && d.toString().includes("buildpod: created")) created = Date.now();
        },
      });
      const t1 = Date.now();
      if (r.code !== 0) throw new Error(`buildpod run failed: ${r.stderr.slice(-500)}`);
      const result = JSON.parse(r.stdout) as { run: string; pod: string; digest?: string };
      if (!result.digest) throw new Error("buildpod run reported no digest");
      const ownLog = await buildLog(cluster, result.pod);
      await cluster.deleteRun("job", result.run, "default");
      ours.push(sample(t0, t1, logSpan(ownLog), await ended(clock, result.run), { "start, preflight and create": (created - t0) / 1000 }));

      // The same with kubectl.
      const obj = render(parseRequest({
        source: { dockerfile }, output: { image: `${tc.registry}/bench/trivial:k${i}`, insecure: true },
        images: { source: tc.infra.images.builder, buildah: tc.infra.images.builder },
      }), { id: `k${i}` });
      const name = obj.metadata!.name!;
      const k = (args: string[], input?: string) => kubectl(tc.kubeconfig, args, { input });
      const s0 = Date.now();
      const marks: Record<string, number> = {};
      const step = async (label: string, args: string[], input?: string) => {
        const t = Date.now();
        const out = await k(args, input);
        marks[`kubectl ${label}`] = (Date.now() - t) / 1000;
        return out;
      };
      await step("apply", ["apply", "-f", "-"], stringify(obj));
      await step("wait", ["wait", "--for=condition=complete", `job/${name}`, "--timeout=120s"]);
      const logs = await step("logs -f", ["logs", `job/${name}`, "--all-containers", "-f", "--prefix", "--timestamps"]);
      const term = await step("get", ["get", "pods", "-l", `${LABELS.run}=${name}`, "-o", "jsonpath={.items[0].status.containerStatuses[0].state.terminated.message}"]);
      await step("delete", ["delete", "job", name, "--wait=true"]);
      const s1 = Date.now();
      if (!term.stdout.includes("sha256:")) throw new Error(`the kubectl script found no digest: ${term.stdout.slice(0, 200)}`);
      const theirLog = logs.stdout.split("\n").filter((l) => /^\[pod\/[^\]]+\/build\] /.test(l)).map((l) => l.slice(l.indexOf("] ") + 2));
      theirs.push(sample(s0, s1, logSpan(theirLog), await ended(clock, name), marks));

      // The cluster's own share, which neither tool can cut: the same Job created from this process and
      // watched (already open, already connected) until the build container is seen to end.
      const floorObj = render(parseRequest({
        source: { dockerfile }, output: { image: `${tc.registry}/bench/trivial:f${i}`, insecure: true },
        images: { source: tc.infra.images.builder, buildah: tc.infra.images.builder },
      }), { id: `f${i}` });
      const f0 = Date.now();
      await cluster.create(floorObj);
      const seen = await ended(clock, floorObj.metadata!.name!, 5);
      const f1 = Date.now();
      const floorLog = await buildLog(cluster, clock.pod(floorObj.metadata!.name!)!);
      await cluster.deleteRun("job", floorObj.metadata!.name!, "default");
      floor.push(sample(f0, f1, logSpan(floorLog), seen));
    }
  } catch (err) {
    return [{ figure: "overhead around a trivial build", buildpod: `could not measure: ${(err as Error).message}`, anchor: "-", ratio: "-", target: "above the cluster's own, at most 0.25x the kubectl script's", met: false }];
  } finally {
    watch.abort();
  }
  const a = median(ours.map((s) => s.total));
  const k = median(theirs.map((s) => s.total));
  const f = median(floor.map((s) => s.total));
  return [{
    figure: `overhead around a trivial build: wall time minus the build container's own, from its log's first to last timestamp (median of ${RUNS}; the test cluster's real control plane and kubelet)`,
    buildpod: `${a.toFixed(2)} s (${(a - f).toFixed(2)} s above the cluster's own ${f.toFixed(2)} s)`,
    anchor: `kubectl script: ${k.toFixed(2)} s (${(k - f).toFixed(2)} s above the cluster's)`, ratio: `${ratio(a, k)} (${ratio(a - f, k - f)} above the cluster's)`,
    target: "above the cluster's own, at most 0.25x the kubectl script's", met: a - f <= 0.25 * (k - f),
    raw: { ours: ours.map((s) => s.total), theirs: theirs.map((s) => s.total), floor: floor.map((s) => s.total), phases: { buildpod: phaseMedians(ours), kubectl: phaseMedians(theirs), cluster: phaseMedians(floor) } },
  }];
}
