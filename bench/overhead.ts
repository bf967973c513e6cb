// Benchmark row 1: the wall time `buildpod run` adds around a trivial build, against a kubectl script doing
// the same (apply, wait, logs -f, get the result, delete), with where the time goes on each side.
import type { V1Pod } from "@kubernetes/client-node";
import { join } from "node:path";
import { stringify } from "yaml";
import { Cluster, LABELS, parseRequest, render } from "../core/index.js";
import type { TestCluster } from "../test/cluster/index.js";
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
async function ended(clock: ReturnType<typeof podClock>, run: string) {
  for (let i = 0; i < 100; i++) {
    const b = clock.containers(run).find((c) => c.name === "build");
    if (b && Number.isFinite(b.finished)) return clock.containers(run);
    await new Promise((r) => setTimeout(r, 50));
  }
  return clock.containers(run);
}

interface Sample {
  total: number;
  /** Seconds per phase: the tool's own before the pod's first container, cluster time, after the build. */
  phases: Record<string, number>;
}

/** The overhead of one run and its phases, from the tool's start/end and the pod's container times. */
function sample(t0: number, t1: number, containers: { name: string; started: number; finished: number }[], marks: Record<string, number> = {}): Sample {
  const build = containers.find((c) => c.name === "build")!;
  const first = containers[0];
  const own = (build.finished - build.started) / 1000;
  const phases: Record<string, number> = {
    ...marks,
    "start to first container running": (first.started - t0) / 1000,
    "containers before the build, and their starts": (build.started - first.started) / 1000,
    "build container ended to done": (t1 - build.finished) / 1000,
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
  try {
    for (let i = 0; i < RUNS; i++) {
      // buildpod run, as a user runs it: the command, logs relayed, the result with its digest. Clean-up is
      // the Job's TTL (--delete-after 0s), which the cluster carries out without the command waiting.
      let created = NaN;
      const t0 = Date.now();
      const r = await run(process.env.BENCH_BUILDPOD ?? join(ROOT, "buildpod"), ["run", "--inline-dockerfile", dockerfile, "-t", `${tc.registry}/bench/trivial:${i}`, "--insecure-registry", "--delete-after", "0s", "-o", "json"], {
        env, onStderr: (d) => {
          if (Number.isNaN(created) && d.toString().includes("buildpod: created")) created = Date.now();
        },
      });
      const t1 = Date.now();
      if (r.code !== 0) throw new Error(`buildpod run failed: ${r.stderr.slice(-500)}`);
      const result = JSON.parse(r.stdout) as { run: string; digest?: string };
      if (!result.digest) throw new Error("buildpod run reported no digest");
      ours.push(sample(t0, t1, await ended(clock, result.run), { "start, preflight and create": (created - t0) / 1000 }));

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
      await step("logs -f", ["logs", `job/${name}`, "--all-containers", "-f"]);
      const term = await step("get", ["get", "pods", "-l", `${LABELS.run}=${name}`, "-o", "jsonpath={.items[0].status.containerStatuses[0].state.terminated.message}"]);
      await step("delete", ["delete", "job", name, "--wait=true"]);
      const s1 = Date.now();
      if (!term.stdout.includes("sha256:")) throw new Error(`the kubectl script found no digest: ${term.stdout.slice(0, 200)}`);
      theirs.push(sample(s0, s1, await ended(clock, name), marks));
    }
  } catch (err) {
    return [{ figure: "overhead around a trivial build", buildpod: `could not measure: ${(err as Error).message}`, anchor: "-", ratio: "-", target: "at most 0.5x the kubectl script", met: false }];
  } finally {
    watch.abort();
  }
  const a = median(ours.map((s) => s.total));
  const k = median(theirs.map((s) => s.total));
  return [{
    figure: `overhead around a trivial build: wall time minus the build container's own (median of ${RUNS}; the test cluster's emulated API server and podman node)`,
    buildpod: `${a.toFixed(2)} s`, anchor: `kubectl script: ${k.toFixed(2)} s`, ratio: ratio(a, k),
    target: "at most 0.5x the kubectl script", met: a <= k / 2,
    raw: { ours: ours.map((s) => s.total), theirs: theirs.map((s) => s.total), phases: { buildpod: phaseMedians(ours), kubectl: phaseMedians(theirs) } },
  }];
}
