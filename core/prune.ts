// Removing old builds: finished ones beyond the newest N successful and N failed of each build name
// (and older than a minimum age), and orphans: builds still running whose CI process is gone.
import type { V1Job, V1Pod } from "@kubernetes/client-node";
import { hostname } from "node:os";
import type { Cluster } from "./cluster.js";
import { LABELS } from "./render.js";

/** Annotation naming the process that started a build: "<host>/<pid>". */
export const CLIENT_ANNOTATION = "buildpod.dev/client";

export interface BuildSummary {
  kind: "job" | "pod";
  name: string;
  build: string;
  state: "running" | "succeeded" | "failed";
  /** When it finished (ms), or was created, for running builds. */
  time: number;
  client?: string;
}

export interface PruneOptions {
  keepSuccessful: number;
  keepFailed: number;
  /** Seconds a finished build is kept at least. */
  olderThan: number;
  /** Also delete running builds whose client process (on this host) has exited. */
  orphans: boolean;
}

export interface PruneDecision {
  build: BuildSummary;
  why: string;
}

/** Which builds to delete, and why. Pure: the clock and the process table come in as arguments. */
export function selectForPrune(builds: BuildSummary[], opts: PruneOptions, now: number, host: string, alive: (pid: number) => boolean): PruneDecision[] {
  const out: PruneDecision[] = [];
  const byName = new Map<string, BuildSummary[]>();
  for (const b of builds) byName.set(b.build, [...(byName.get(b.build) ?? []), b]);
  for (const group of byName.values()) {
    for (const state of ["succeeded", "failed"] as const) {
      const keep = state === "succeeded" ? opts.keepSuccessful : opts.keepFailed;
      const finished = group.filter((b) => b.state === state).sort((a, b) => b.time - a.time);
      for (const b of finished.slice(keep)) {
        if (now - b.time >= opts.olderThan * 1000) out.push({ build: b, why: `${state}, not among the newest ${keep} of ${b.build}` });
      }
    }
  }
  if (opts.orphans) {
    for (const b of builds) {
      if (b.state !== "running" || !b.client) continue;
      const slash = b.client.lastIndexOf("/");
      const pid = Number(b.client.slice(slash + 1));
      if (b.client.slice(0, slash) === host && Number.isInteger(pid) && !alive(pid)) {
        out.push({ build: b, why: `orphaned: its client ${b.client} has exited` });
      }
    }
  }
  return out;
}

function jobSummary(job: V1Job): BuildSummary {
  const cond = (type: string) => job.status?.conditions?.find((c) => c.type === type && c.status === "True");
  const done = cond("Complete") ?? cond("Failed");
  const state = cond("Complete") ? "succeeded" : cond("Failed") ? "failed" : "running";
  const t = done?.lastTransitionTime ?? job.status?.completionTime ?? job.metadata?.creationTimestamp;
  return {
    kind: "job", name: job.metadata!.name!, build: job.metadata?.labels?.[LABELS.build] ?? job.metadata!.name!, state,
    time: new Date(t ?? Date.now()).getTime(), client: job.metadata?.annotations?.[CLIENT_ANNOTATION],
  };
}

function podSummary(pod: V1Pod): BuildSummary {
  const phase = pod.status?.phase;
  const state = phase === "Succeeded" ? "succeeded" : phase === "Failed" ? "failed" : "running";
  const ends = [...(pod.status?.containerStatuses ?? [])].map((s) => s.state?.terminated?.finishedAt).filter(Boolean);
  const t = ends.length ? ends.map((d) => new Date(d as unknown as string).getTime()).sort().at(-1)! : new Date(pod.metadata?.creationTimestamp ?? Date.now()).getTime();
  return {
    kind: "pod", name: pod.metadata!.name!, build: pod.metadata?.labels?.[LABELS.build] ?? pod.metadata!.name!, state,
    time: t, client: pod.metadata?.annotations?.[CLIENT_ANNOTATION],
  };
}

/** The namespace's builds: Jobs, and bare Pods (a Job's pod is counted with its Job, a platform's Job with its index). */
export async function listBuilds(cluster: Cluster, namespace: string): Promise<BuildSummary[]> {
  const selector = `${LABELS.managedBy}=buildpod`;
  const [jobs, pods] = await Promise.all([
    cluster.listJobs(namespace, selector),
    cluster.listPods(namespace, selector),
  ]);
  const ownedByJob = (o: { metadata?: { ownerReferences?: { kind: string }[] } }) => (o.metadata?.ownerReferences ?? []).some((r) => r.kind === "Job");
  const bare = pods.items.filter((p) => !ownedByJob(p));
  // A multi-platform build is its index Job: its platforms' Jobs, which it owns, go with it.
  return [...jobs.items.filter((j) => !ownedByJob(j)).map(jobSummary), ...bare.map(podSummary)];
}

/** Whether a process of this machine still runs (EPERM: it does, under another user). */
export function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === "EPERM";
  }
}

/** Deletes what selectForPrune picks (or only reports it, with dryRun). */
export async function pruneBuilds(cluster: Cluster, namespace: string, opts: PruneOptions & { dryRun?: boolean }): Promise<PruneDecision[]> {
  const builds = await listBuilds(cluster, namespace);
  const decisions = selectForPrune(builds, opts, Date.now(), hostname(), processAlive);
  if (!opts.dryRun) {
    for (const d of decisions) await cluster.deleteRun(d.build.kind, d.build.name, namespace, d.build.state === "running" ? 1 : 0);
  }
  return decisions;
}
