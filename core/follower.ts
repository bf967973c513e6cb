// Following a build pod: an explicit state machine fed by pod snapshots (from the watch) and clock
// ticks. It says what changed (progress), when each container's log can be read, and when and how the
// build ended. The outcome is decided from pod and container state, never from logs.
import type { V1ContainerStatus, V1Pod } from "@kubernetes/client-node";
import { podRefusal, type Refusal } from "./refusal.js";
import type { BuildStatus } from "./result.js";

export interface Outcome {
  status: BuildStatus;
  reason: string;
  message: string;
  failedContainer?: string;
  exitCode?: number;
  terminationMessage?: string;
}

export type FollowEvent =
  | { type: "progress"; message: string }
  /** The container has started (or finished): its log can be streamed now. */
  | { type: "logs"; container: string; init: boolean }
  /** The container has been on its way to starting for a while (its image pulled, say): worth saying why. */
  | { type: "slowStart"; container: string; image?: string }
  | { type: "done"; outcome: Outcome };

export type FollowState = "Waiting" | "Pending" | "Running" | "Done";

/** Waiting reasons that no amount of waiting fixes. */
const FATAL_WAITING = new Set(["InvalidImageName"]);
/**
 * A pull error that says the image is not there, or not for us: the kubelet would retry it until the start
 * deadline, and nothing changes in between. (A registry that cannot be reached may come back: that waits.)
 */
const UNPULLABLE = /code = NotFound|manifest unknown|: not found|401 Unauthorized|403 Forbidden|pull access denied|insufficient_scope/;

/** Whether waiting cannot help a container stuck for CAUSE. */
function fatal(cause: PendingCause): boolean {
  if (FATAL_WAITING.has(cause.reason)) return true;
  return (cause.reason === "ErrImagePull" || cause.reason === "ImagePullBackOff") && UNPULLABLE.test(cause.message);
}
/** Waiting reasons that are just the normal way to Running. */
const NORMAL_WAITING = new Set(["ContainerCreating", "PodInitializing"]);
/** How long the next container may take to start before the wait is explained. */
const SLOW_START_MS = 3000;

/** The container that runs next: the first init container not finished, else a main one not started. */
function nextToStart(pod: V1Pod): V1ContainerStatus | undefined {
  const inits = pod.status?.initContainerStatuses ?? [];
  const init = inits.find((s) => !s.state?.terminated);
  if (init) return init.state?.running ? undefined : init;
  return (pod.status?.containerStatuses ?? []).find((s) => !s.state?.running && !s.state?.terminated);
}

/**
 * What the cluster's events say of a container that is slow to start: the image pull under way, if any.
 * `events` are in time order; fieldPath is the event's involvedObject.fieldPath ("spec.containers{build}").
 */
export function slowStartMessage(container: string, events: { reason: string; message: string; fieldPath?: string }[]): string {
  const own = events.filter((e) => e.fieldPath?.endsWith(`{${container}}`));
  const last = [...own].reverse().find((e) => e.reason === "Pulling" || e.reason === "Pulled");
  if (last?.reason === "Pulling") return `${container}: ${last.message.replace(/^Pulling/, "pulling")}`;
  return `${container}: starting`;
}

export interface PendingCause {
  reason: string;
  message: string;
  container?: string;
}

/** Why a pod that has not started is still waiting, if for something other than the normal steps. */
export function pendingCause(pod: V1Pod): PendingCause | undefined {
  const scheduled = pod.status?.conditions?.find((c) => c.type === "PodScheduled");
  if (scheduled?.status === "False" && scheduled.reason === "Unschedulable") {
    return { reason: "Unschedulable", message: `no node can run the build pod: ${scheduled.message ?? "unschedulable"}` };
  }
  const statuses = [...(pod.status?.initContainerStatuses ?? []), ...(pod.status?.containerStatuses ?? [])];
  for (const s of statuses) {
    const w = s.state?.waiting;
    if (w?.reason && !NORMAL_WAITING.has(w.reason)) {
      return { reason: w.reason, message: waitingMessage(s, w.reason, w.message), container: s.name };
    }
  }
  return undefined;
}

function waitingMessage(s: V1ContainerStatus, reason: string, detail: string | undefined): string {
  const d = detail ? `: ${detail}` : "";
  switch (reason) {
    case "ErrImagePull":
    case "ImagePullBackOff":
      return `container ${s.name} cannot pull its image ${s.image}${d}. Check the image name and tag, and that the cluster can reach and log in to its registry (imagePullSecrets of the service account)`;
    case "InvalidImageName":
      return `container ${s.name} has an invalid image name ${s.image}${d}`;
    case "CreateContainerConfigError":
      return `container ${s.name} cannot be created${d}. Create the missing Secret or ConfigMap in the build's namespace`;
    default:
      return `container ${s.name} is waiting: ${reason}${d}`;
  }
}

function started(pod: V1Pod): boolean {
  const statuses = [...(pod.status?.initContainerStatuses ?? []), ...(pod.status?.containerStatuses ?? [])];
  return statuses.some((s) => s.state?.running || s.state?.terminated);
}

/** The outcome of a pod that has finished, or undefined while it runs. */
export function finalOutcome(pod: V1Pod): Outcome | undefined {
  const phase = pod.status?.phase;
  if (phase !== "Succeeded" && phase !== "Failed") return undefined;
  if (phase === "Succeeded") return { status: "Complete", reason: "Completed", message: "the build completed" };
  const reason = pod.status?.reason;
  if (reason === "DeadlineExceeded") {
    return { status: "Failed", reason: "DeadlineExceeded", message: `the build ran out of time and was stopped (${pod.status?.message ?? "active deadline exceeded"}); raise the timeout or make the build faster` };
  }
  if (reason === "Evicted") {
    return { status: "Failed", reason: "Evicted", message: `the node evicted the build pod: ${pod.status?.message ?? "node under pressure"}; retry, or request more resources` };
  }
  const disruption = pod.status?.conditions?.find((c) => c.type === "DisruptionTarget" && c.status === "True");
  const inits = pod.status?.initContainerStatuses ?? [];
  const mains = pod.status?.containerStatuses ?? [];
  for (const [list, init] of [[inits, true], [mains, false]] as const) {
    for (const s of list) {
      const t = s.state?.terminated;
      if (!t || t.exitCode === 0) continue;
      const msg = t.message?.trim();
      const base = { failedContainer: s.name, exitCode: t.exitCode, terminationMessage: msg };
      if (t.reason === "OOMKilled") {
        const limit = pod.spec?.[init ? "initContainers" : "containers"]?.find((c) => c.name === s.name)?.resources?.limits?.memory;
        return { ...base, status: "Failed", reason: "OOMKilled", message: `container ${s.name} ran out of memory${limit ? ` (limit ${limit})` : ""} and was killed (exit code ${t.exitCode}); raise the memory limit` };
      }
      if (disruption) break;
      const what = init ? (s.name === "source" ? "getting the source" : `init container ${s.name}`) : `container ${s.name}`;
      return {
        ...base, status: "Failed", reason: init ? "SourceFailed" : "BuildFailed",
        message: `${what} failed with exit code ${t.exitCode}${t.reason && t.reason !== "Error" ? ` (${t.reason})` : ""}${msg && msg.length <= 500 && !msg.includes("\n") ? `: ${msg}` : ""}`,
      };
    }
  }
  if (disruption) {
    return { status: "Failed", reason: disruption.reason ?? "Disrupted", message: `the build pod was disrupted: ${disruption.message ?? disruption.reason}; retry the build` };
  }
  return { status: "Failed", reason: reason ?? "Failed", message: `the build pod failed${pod.status?.message ? `: ${pod.status.message}` : ""}` };
}

export interface TrackerOptions {
  /** When the build was created (ms since epoch). */
  createdAt: number;
  /** Seconds the pod may take to start a container. */
  startTimeout: number;
}

/**
 * Follows one build pod. observe() takes each new snapshot; tick() lets time pass (the start deadline);
 * deleted() reports that the pod is gone. Each returns what happened since the last call.
 */
export class PodTracker {
  state: FollowState = "Waiting";
  pod?: V1Pod;
  private node?: string;
  private lastCause?: string;
  /** Since when a container of a started pod has been stuck before starting. */
  private stuckSince?: number;
  private readonly announced = new Set<string>();
  private readonly following = new Set<string>();
  private readonly finished = new Set<string>();
  /** The container next to start, and since when it has been waiting to. */
  private starting?: { container: string; image?: string; since: number; told: boolean };
  /** Why the Job could not create the pod, the last time it said. */
  private refusal?: Refusal;

  constructor(private readonly opts: TrackerOptions) {}

  /** "12s": time since the build was created, as progress lines show it. */
  elapsed(now: number): string {
    return `${Math.max(0, Math.round((now - this.opts.createdAt) / 1000))}s`;
  }

  observe(pod: V1Pod, now: number): FollowEvent[] {
    if (this.state === "Done") return [];
    this.pod = pod;
    const events: FollowEvent[] = [];
    const progress = (message: string) => events.push({ type: "progress", message: `[${this.elapsed(now)}] ${message}` });
    if (this.state === "Waiting") this.state = "Pending";

    const nodeName = pod.spec?.nodeName;
    if (nodeName && nodeName !== this.node) {
      this.node = nodeName;
      progress(`scheduled on node ${nodeName}`);
    }

    for (const [list, init] of [[pod.status?.initContainerStatuses ?? [], true], [pod.status?.containerStatuses ?? [], false]] as const) {
      for (const s of list) {
        const key = `${s.name}`;
        if ((s.state?.running || s.state?.terminated) && !this.following.has(key)) {
          this.following.add(key);
          if (s.state?.running) progress(`${s.name}: running`);
          events.push({ type: "logs", container: s.name, init });
        }
        const t = s.state?.terminated;
        if (t && !this.finished.has(key)) {
          this.finished.add(key);
          const took = t.startedAt && t.finishedAt ? ` after ${Math.round((new Date(t.finishedAt).getTime() - new Date(t.startedAt).getTime()) / 1000)}s` : "";
          progress(t.exitCode === 0 ? `${s.name}: done${took}` : `${s.name}: exited with code ${t.exitCode} (${t.reason ?? "Error"})${took}`);
        }
      }
    }

    const next = nextToStart(pod);
    const waitingReason = next?.state?.waiting?.reason;
    if (!next || (waitingReason !== undefined && !NORMAL_WAITING.has(waitingReason))) this.starting = undefined;
    else if (this.starting?.container !== next.name) this.starting = { container: next.name, image: next.image, since: now, told: false };

    if (started(pod)) this.state = this.state === "Pending" ? "Running" : this.state;
    const outcome = finalOutcome(pod);
    if (outcome) return [...events, this.finish(outcome)];

    // A container can be stuck before it starts at any point: the first one, or a later one after init
    // containers ran (its image cannot be pulled, its Secret is missing).
    const cause = pendingCause(pod);
    const key = cause ? `${cause.reason}:${cause.container ?? ""}` : undefined;
    if (cause && key !== this.lastCause) {
      progress(`waiting: ${cause.reason}: ${cause.message}`);
      if (this.state === "Running") this.stuckSince = now;
    }
    if (!cause) this.stuckSince = undefined;
    this.lastCause = key;
    if (cause && fatal(cause)) {
      return [...events, this.finish({ status: "StartFailed", reason: cause.reason, message: `the build cannot start: ${cause.message}` })];
    }
    if (this.state === "Pending" && !cause) {
      const phaseKey = `phase:${pod.status?.phase ?? "Pending"}`;
      if (!this.announced.has(phaseKey) && !nodeName) {
        this.announced.add(phaseKey);
        progress("waiting to be scheduled");
      }
    }
    return [...events, ...this.tick(now)];
  }

  /**
   * Lets time pass: a pod that has not started a container by the start deadline has failed to start, and
   * so has a later container stuck as long before it could start.
   */
  tick(now: number): FollowEvent[] {
    const waited = `${this.opts.startTimeout}s`;
    const slow: FollowEvent[] = [];
    if (this.starting && !this.starting.told && this.node && now - this.starting.since >= SLOW_START_MS) {
      this.starting.told = true;
      slow.push({ type: "slowStart", container: this.starting.container, image: this.starting.image });
    }
    return [...slow, ...this.deadlines(now, waited)];
  }

  private deadlines(now: number, waited: string): FollowEvent[] {
    if (this.state === "Running" && this.stuckSince !== undefined && this.pod) {
      const cause = pendingCause(this.pod);
      if (!cause || now - this.stuckSince < this.opts.startTimeout * 1000) return [];
      return [this.finish({ status: "StartFailed", reason: cause.reason, message: `container ${cause.container} did not start within ${waited}: ${cause.message}` })];
    }
    if (this.state !== "Waiting" && this.state !== "Pending") return [];
    if (now - this.opts.createdAt < this.opts.startTimeout * 1000) return [];
    const cause = this.pod ? pendingCause(this.pod) : undefined;
    if (cause) {
      return [this.finish({ status: "StartFailed", reason: cause.reason, message: `the build did not start within ${waited}: ${cause.message}` })];
    }
    if (!this.pod && this.refusal) {
      return [this.finish({ status: "StartFailed", reason: this.refusal.reason, message: `no build pod appeared within ${waited}: ${this.refusal.message}` })];
    }
    return [this.finish({
      status: "StartFailed", reason: "StartTimeout",
      message: this.pod
        ? `the build pod did not start within ${waited} (phase ${this.pod.status?.phase ?? "Pending"}); check the events below, or raise --start-timeout`
        : `no build pod appeared within ${waited}; check that the Job can create pods (quota, admission policies, the Job's events)`,
    })];
  }

  /**
   * The Job's events, while no pod has appeared: the only place where the cluster says that it refuses
   * the pod (Pod Security, a quota, a LimitRange, a missing service account, an admission webhook). A
   * refusal that only a change can fix ends the build now; one that waiting can fix (a full quota) is told
   * once and named if the start deadline passes.
   */
  jobEvents(events: { reason: string; message: string }[], now: number): FollowEvent[] {
    if (this.state !== "Waiting") return [];
    const last = [...events].reverse().find((e) => e.reason === "FailedCreate");
    const refusal = last && podRefusal(last.message);
    if (!refusal) return [];
    if (refusal.permanent) {
      return [this.finish({ status: "StartFailed", reason: refusal.reason, message: `the build pod could not be created: ${refusal.message}` })];
    }
    const told = this.refusal?.message === refusal.message;
    this.refusal = refusal;
    return told ? [] : [{ type: "progress", message: `[${this.elapsed(now)}] waiting: ${refusal.reason}: ${refusal.message}` }];
  }

  /**
   * The pod's events, looked at when a container is slow to start: a Secret volume that does not exist
   * keeps the pod in ContainerCreating, with FailedMount events the kubelet repeats until someone makes it.
   */
  podEvents(events: { reason: string; message: string }[]): FollowEvent[] {
    if (this.state === "Done") return [];
    const mount = [...events].reverse().find((e) => e.reason === "FailedMount" && /secret "[^"]+" not found/.test(e.message));
    if (!mount) return [];
    const name = /secret "([^"]+)" not found/.exec(mount.message)![1];
    return [this.finish({
      status: "StartFailed", reason: "SecretNotFound",
      message: `the build cannot start: secret "${name}" not found in the build's namespace (${mount.message}); create it, or name another`,
    })];
  }

  /** The pod is gone without having finished: someone or something deleted it. */
  deleted(now: number): FollowEvent[] {
    if (this.state === "Done") return [];
    return [this.finish({ status: "Error", reason: "Deleted", message: `the build pod was deleted before the build finished (after ${this.elapsed(now)})` })];
  }

  finish(outcome: Outcome): FollowEvent {
    this.state = "Done";
    return { type: "done", outcome };
  }

  /** Whether the container has terminated in the latest snapshot. */
  terminated(container: string): boolean {
    const all = [...(this.pod?.status?.initContainerStatuses ?? []), ...(this.pod?.status?.containerStatuses ?? [])];
    return !!all.find((s) => s.name === container)?.state?.terminated;
  }

  container(name: string): V1ContainerStatus | undefined {
    return [...(this.pod?.status?.initContainerStatuses ?? []), ...(this.pod?.status?.containerStatuses ?? [])].find((s) => s.name === name);
  }
}
