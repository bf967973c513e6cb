// A followed build's result: the outcome the follower decided, with the pod's warning events for a build that
// did not start, the failing container's last lines, the source commit and the pushed image's digest.
import type { V1ContainerStatus, V1Pod } from "@kubernetes/client-node";
import type { Cluster } from "./cluster.js";
import type { Outcome } from "./follower.js";
import { ANNOTATIONS, LABELS } from "./render.js";
import { digestFromMessage, imageIdFromMessage, imageWithDigest, provenanceFromMessage, sourceFromMessage, type BuildResult } from "./result.js";
import type { BuildHandle } from "./start.js";

/** What the follower saw of the build. */
export interface Seen {
  pod?: V1Pod;
  podName?: string;
  container(name: string): V1ContainerStatus | undefined;
  /** The last lines of each container's log. */
  tails: Map<string, string[]>;
  tailSize: number;
  /** Which of the Job's pods the outcome is of (1 unless the Job started the build again). */
  attempt?: number;
}

function podTimes(pod: V1Pod | undefined, createdAt: number): { startedAt?: string; finishedAt?: string; durationSeconds?: number } {
  const all = [...(pod?.status?.initContainerStatuses ?? []), ...(pod?.status?.containerStatuses ?? [])];
  const finished = all.map((s) => s.state?.terminated?.finishedAt).filter(Boolean).map((d) => new Date(d as unknown as string).getTime());
  const end = finished.length ? Math.max(...finished) : Date.now();
  return {
    startedAt: new Date(createdAt).toISOString(),
    finishedAt: new Date(end).toISOString(),
    durationSeconds: Math.round((end - createdAt) / 100) / 10,
  };
}

/** The build's result; reads the pod's events for a build that did not start. */
export async function report(cluster: Cluster, handle: BuildHandle, outcome: Outcome, seen: Seen, progress: (m: string) => void): Promise<BuildResult> {
  const req = handle.request;
  const ns = handle.namespace;
  const { pod, podName, tails, tailSize } = seen;
  const events: string[] = [];
  if (outcome.status === "StartFailed" && podName) {
    for (const e of await cluster.listEvents(ns, podName).catch(() => [])) {
      if (e.type === "Warning") events.push(`[${e.type}][${ns}/${podName}][${e.reason}] ${e.message}${e.count > 1 ? ` (x${e.count})` : ""}`);
    }
    for (const e of events) progress(e);
  }

  const meta = pod?.metadata;
  const image = req?.output.image ?? meta?.annotations?.[ANNOTATIONS.image] ?? "";
  const src = sourceFromMessage(seen.container("source")?.state?.terminated?.message);
  // The pod's one container: "build", or "index" for a multi-platform build's index.
  const built = seen.container(pod?.spec?.containers?.[0]?.name ?? "build")?.state?.terminated?.message;
  const pushing = req ? req.output.push : meta?.annotations?.[ANNOTATIONS.push] !== "false";
  const digest = pushing ? digestFromMessage(built) : undefined;
  const result: BuildResult = {
    status: outcome.status,
    reason: outcome.reason,
    message: outcome.message,
    image,
    tags: req?.output.tags ?? [],
    source: {
      uri: req?.source.git?.url ?? meta?.annotations?.[ANNOTATIONS.source],
      ref: req?.source.git?.ref ?? meta?.annotations?.[ANNOTATIONS.ref],
      ...src,
    },
    build: req?.name ?? meta?.labels?.[LABELS.build] ?? handle.name,
    run: handle.name,
    pod: podName,
    namespace: ns,
    ...podTimes(pod, handle.createdAt),
  };
  if (outcome.exitCode !== undefined) result.exitCode = outcome.exitCode;
  if (outcome.failedContainer) {
    result.failedContainer = outcome.failedContainer;
    const tail = tails.get(outcome.failedContainer) ?? [];
    result.logTail = tail.slice(Math.max(0, tail.length - tailSize));
  }
  if (outcome.status === "StartFailed" && events.length) result.logTail = events;
  if (!pushing && outcome.status === "Complete") {
    const id = imageIdFromMessage(built);
    result.pushed = false;
    if (id) result.imageId = id;
    result.message = `built ${image}, not pushed (asked not to push)${id ? `: image ID ${id}` : "; the builder reports no image ID"}`;
  } else if (digest) {
    result.digest = digest;
    result.imageRef = imageWithDigest(image, digest);
    result.pushed = true;
    const provenance = provenanceFromMessage(built);
    if (provenance) result.provenance = imageWithDigest(image, provenance);
  } else if (outcome.status === "Complete") {
    const strategy = req?.strategy.type ?? meta?.labels?.[LABELS.strategy];
    if (strategy === "custom") {
      result.message = "the build completed, but the custom builder reported no digest in its termination message";
    } else {
      Object.assign(result, { status: "Error", reason: "NoDigest", message: "the build completed but did not report the pushed image's digest" });
    }
  }
  if (seen.attempt && seen.attempt > 1) {
    result.attempt = seen.attempt;
    result.message = `${result.message} (attempt ${seen.attempt}: the cluster ended the earlier ${seen.attempt === 2 ? "one" : `${seen.attempt - 1}`})`;
  }
  return result;
}

