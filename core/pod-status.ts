// What a build pod's status says, read without I/O: why a pod that has not started is waiting, whether
// waiting can help, what its events say of a slow start, and how a finished pod ended.
import type { V1ContainerStatus, V1Pod } from "@kubernetes/client-node";
import type { BuildStatus } from "./result.js";

export interface Outcome {
  status: BuildStatus;
  reason: string;
  message: string;
  failedContainer?: string;
  exitCode?: number;
  terminationMessage?: string;
  /** The cluster ended the pod (its DisruptionTarget condition): a Job with retries starts it again. */
  disrupted?: boolean;
}

/** Waiting reasons that no amount of waiting fixes. */
const FATAL_WAITING = new Set(["InvalidImageName"]);
/**
 * A pull error that says the image is not there, or not for us: the kubelet would retry it until the start
 * deadline, and nothing changes in between. (A registry that cannot be reached may come back: that waits.)
 */
const UNPULLABLE = /code = NotFound|manifest unknown|: not found|401 Unauthorized|403 Forbidden|pull access denied|insufficient_scope/;

/** Whether waiting cannot help a container stuck for CAUSE. */
export function fatal(cause: PendingCause): boolean {
  if (FATAL_WAITING.has(cause.reason)) return true;
  return (cause.reason === "ErrImagePull" || cause.reason === "ImagePullBackOff") && UNPULLABLE.test(cause.message);
}
/** Waiting reasons that are just the normal way to Running. */
export const NORMAL_WAITING = new Set(["ContainerCreating", "PodInitializing"]);

/** The container that runs next: the first init container not finished, else a main one not started. */
export function nextToStart(pod: V1Pod): V1ContainerStatus | undefined {
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

export function started(pod: V1Pod): boolean {
  const statuses = [...(pod.status?.initContainerStatuses ?? []), ...(pod.status?.containerStatuses ?? [])];
  return statuses.some((s) => s.state?.running || s.state?.terminated);
}

/**
 * The kubelet's words when a pod outgrows its disk: the pod's total limit, one container's, or an emptyDir's
 * sizeLimit (pkg/kubelet/eviction's messages).
 */
const DISK_LIMIT = /ephemeral local storage usage exceeds|exceeded its local ephemeral storage limit|Usage of EmptyDir volume .* exceeds the limit/;

/** The outcome of a pod that has finished, or undefined while it runs. */
export function finalOutcome(pod: V1Pod): Outcome | undefined {
  const outcome = podOutcome(pod);
  // A disrupted pod that still succeeded (its build ended within the grace period) is a success.
  const disrupted = outcome?.status === "Failed" && pod.status?.conditions?.some((c) => c.type === "DisruptionTarget" && c.status === "True");
  return outcome && disrupted ? { ...outcome, disrupted } : outcome;
}

/**
 * Every container of the pod has run and exited 0. The result is final then: a pod that does not restart
 * its containers can only succeed. The kubelet reports the pod's phase Succeeded only after it has torn
 * the pod down, about a second later on the test cluster (a trivial build's result came 1.1 s after its
 * last container was seen to end).
 */
function allExitedZero(pod: V1Pod): boolean {
  const spec = pod.spec;
  if (!spec || spec.restartPolicy === "Always") return false;
  const statuses = new Map([...(pod.status?.initContainerStatuses ?? []), ...(pod.status?.containerStatuses ?? [])].map((s) => [s.name, s]));
  // Sidecars (init containers that restart) are stopped with the pod, and do not decide its outcome.
  const containers = [...(spec.initContainers ?? []).filter((c) => c.restartPolicy !== "Always"), ...spec.containers];
  return containers.every((c) => statuses.get(c.name)?.state?.terminated?.exitCode === 0);
}

function podOutcome(pod: V1Pod): Outcome | undefined {
  const phase = pod.status?.phase;
  if (phase === "Succeeded" || (phase !== "Failed" && allExitedZero(pod))) return { status: "Complete", reason: "Completed", message: "the build completed" };
  if (phase !== "Failed") return undefined;
  const reason = pod.status?.reason;
  if (reason === "DeadlineExceeded") {
    return { status: "Failed", reason: "DeadlineExceeded", message: `the build ran out of time and was stopped (${pod.status?.message ?? "active deadline exceeded"}); raise the timeout or make the build faster` };
  }
  if (reason === "Evicted" && DISK_LIMIT.test(pod.status?.message ?? "")) {
    // The build container: a main one, or the last init container when a provenance container follows it.
    const limit = [...(pod.spec?.containers ?? []), ...(pod.spec?.initContainers ?? [])].find((c) => c.name === "build")?.resources?.limits?.["ephemeral-storage"];
    return {
      status: "Failed", reason: "EphemeralStorageExceeded",
      message: `the build wrote more to local disk than its ephemeral-storage limit${limit ? ` (${limit})` : ""} allows, and the node stopped it (${pod.status?.message?.trim()}); raise the limit (--ephemeral-storage-limit), or make the build write less`,
    };
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
      const source = init && s.name === "source";
      const what = source ? "getting the source" : `container ${s.name}`;
      return {
        ...base, status: "Failed", reason: source ? "SourceFailed" : "BuildFailed",
        message: `${what} failed with exit code ${t.exitCode}${t.reason && t.reason !== "Error" ? ` (${t.reason})` : ""}${msg && msg.length <= 500 && !msg.includes("\n") ? `: ${msg}` : ""}`,
      };
    }
  }
  if (disruption) {
    return { status: "Failed", reason: disruption.reason ?? "Disrupted", message: `the build pod was disrupted: ${disruption.message ?? disruption.reason}; retry the build` };
  }
  return { status: "Failed", reason: reason ?? "Failed", message: `the build pod failed${pod.status?.message ? `: ${pod.status.message}` : ""}` };
}

