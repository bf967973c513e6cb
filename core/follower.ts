// Following a build: one explicit state machine. The state is a tagged record carrying its data; step() takes
// it and one input (a pod snapshot from the watch, the pod's deletion, a Job snapshot, the Job's or the
// pod's events, a clock tick, an upload or watch failure) and returns the next state and what the driver
// (build.ts) must do: print progress, stream a container's log, look at a slow start, read the Job, or
// finish. Pure: no I/O, no clock of its own, so recorded pod and Job histories replay exactly.
//
//   Waiting ──pod──▶ Pending ──a container starts──▶ Running
//      │                │                               │
//      │ refused,       │ cannot start,                 │ pod ended; under a Job, deleted or
//      │ start deadline │ start deadline                │ killed with a deadline ──▶ Settling ──job──▶ Done
//      └────────────────┴──────────────▶ Done ◀─────────┘                (the Job says why)
//      ▲                                                │
//      └──── disrupted (evicted, preempted) with retries left: the Job's next pod, the next attempt
//
// The outcome comes from pod, container and Job state, never from logs.
import type { V1Job, V1Pod } from "@kubernetes/client-node";
import { fatal, finalOutcome, NORMAL_WAITING, nextToStart, pendingCause, started, type Outcome } from "./pod-status.js";
import { podRefusal, type Refusal } from "./refusal.js";

export { finalOutcome, pendingCause, slowStartMessage, type Outcome, type PendingCause } from "./pod-status.js";

/** How long the next container may take to start before the wait is explained. */
const SLOW_START_MS = 3000;

interface Common {
  /** When the build was created (ms since epoch). */
  readonly createdAt: number;
  /** Seconds the pod may take to start a container. */
  readonly startTimeout: number;
  /** A Job's pod can be deleted under it (a deadline): then the Job says how the build ended. */
  readonly kind: "job" | "pod";
  /** Which pod of the Job this is (1, then one more for each retry), and how many retries the Job makes. */
  readonly attempt: number;
  readonly retries: number;
  /** Since when this attempt has been waiting for its pod to start (the start deadline counts from it). */
  readonly waitingSince: number;
  readonly pod?: V1Pod;
  readonly node?: string;
  /** The last cause told of a container stuck before starting ("reason:container"). */
  readonly lastCause?: string;
  /** Since when a container of a started pod has been stuck before starting. */
  readonly stuckSince?: number;
  readonly announced: ReadonlySet<string>;
  /** Containers whose logs are being streamed, and those that have finished. */
  readonly following: ReadonlySet<string>;
  readonly finished: ReadonlySet<string>;
  /** The container next to start, and since when it has been waiting to. */
  readonly starting?: { readonly container: string; readonly image?: string; readonly since: number; readonly told: boolean };
  /** Why the Job could not create the pod, the last time its events said. */
  readonly refusal?: Refusal;
}

export type FollowState =
  /** No pod yet. */
  | (Common & { readonly phase: "Waiting" })
  /** A pod, no container started. */
  | (Common & { readonly phase: "Pending" })
  | (Common & { readonly phase: "Running" })
  /** The pod ended under a Job in a way the Job explains; waiting for the Job's snapshot. */
  | (Common & { readonly phase: "Settling"; readonly outcome: Outcome })
  | (Common & { readonly phase: "Done"; readonly outcome: Outcome });

export type FollowPhase = FollowState["phase"];

/** One of the Job's or the pod's events, as far as the machine reads it. */
export interface ClusterEvent {
  reason: string;
  message: string;
}

export type FollowInput =
  | { type: "pod"; pod: V1Pod; now: number }
  | { type: "deleted"; now: number }
  /** The Job as read (undefined: it is gone, or could not be read). */
  | { type: "job"; job: V1Job | undefined }
  | { type: "jobEvents"; events: ClusterEvent[]; now: number }
  | { type: "podEvents"; events: ClusterEvent[] }
  | { type: "tick"; now: number }
  | { type: "uploadFailed"; message: string }
  | { type: "watchFailed"; message: string };

export type FollowEvent =
  | { type: "progress"; message: string }
  /** The container has started (or finished): its log can be streamed now. */
  | { type: "logs"; container: string; init: boolean }
  /** The container has been on its way to starting for a while (its image pulled, say): worth saying why. */
  | { type: "slowStart"; container: string; image?: string }
  /** Read the Job and step with it. */
  | { type: "readJob" }
  /** The pod was disrupted and the Job starts another: follow the next pod from its start. */
  | { type: "retry"; attempt: number }
  | { type: "done"; outcome: Outcome };

export interface FollowOptions {
  createdAt: number;
  startTimeout: number;
  kind?: "job" | "pod";
  /** The Job's retries of a disrupted pod (its backoffLimit under the request's podFailurePolicy). */
  retries?: number;
}

export function initial(o: FollowOptions): FollowState {
  return {
    phase: "Waiting", createdAt: o.createdAt, startTimeout: o.startTimeout, kind: o.kind ?? "job",
    attempt: 1, retries: o.retries ?? 0, waitingSince: o.createdAt,
    announced: new Set(), following: new Set(), finished: new Set(),
  };
}

/** "12s": time since the build was created, as progress lines show it. */
export function elapsed(s: Pick<Common, "createdAt">, now: number): string {
  return `${Math.max(0, Math.round((now - s.createdAt) / 1000))}s`;
}

type Step = [FollowState, FollowEvent[]];

const done = (s: FollowState, outcome: Outcome, out: FollowEvent[] = []): Step =>
  [{ ...s, phase: "Done", outcome }, [...out, { type: "done", outcome }]];

/** The next state, and what the driver must do, for one input. */
export function step(s: FollowState, input: FollowInput): Step {
  if (s.phase === "Done") return [s, []];
  switch (input.type) {
    case "pod":
      return s.phase === "Settling" ? [{ ...s, pod: input.pod }, []] : observe(s, input.pod, input.now);
    case "deleted":
      if (s.phase === "Settling") return [s, []];
      return ended(s, { status: "Error", reason: "Deleted", message: `the build pod was deleted before the build finished (after ${elapsed(s, input.now)})` }, true, input.now);
    case "job":
      if (s.phase === "Settling") return done(s, jobOutcome(s.outcome, input.job));
      return s.phase === "Waiting" && s.attempt > 1 ? gaveUp(s, input.job) : [s, []];
    case "jobEvents":
      return jobEvents(s, input.events, input.now);
    case "podEvents":
      return podEvents(s, input.events);
    case "tick":
      return s.phase === "Settling" ? [s, []] : tick(s, input.now);
    case "uploadFailed":
      return done(s, { status: "StartFailed", reason: "UploadFailed", message: input.message });
    case "watchFailed":
      return done(s, { status: "Error", reason: "FollowFailed", message: `lost track of the build: ${input.message}` });
  }
}

/** The pod has ended (or gone): the Job decides when the pod was deleted under it, or starts it again. */
function ended(s: FollowState, outcome: Outcome, gone: boolean, now: number, out: FollowEvent[] = []): Step {
  if (outcome.disrupted && s.kind === "job" && s.attempt <= s.retries) return retry(s, outcome, now, out);
  const underJob = s.kind === "job" && (gone || (outcome.status === "Failed" && !!s.pod?.metadata?.deletionTimestamp));
  if (!underJob) return done(s, outcome, out);
  return [{ ...s, phase: "Settling", outcome }, [...out, { type: "readJob" }]];
}

/**
 * A disrupted pod with retries left: the Job makes the next one (after its back-off, 10 s and doubling).
 * Everything known of the pod is forgotten; the clock of the start deadline starts again.
 */
function retry(s: FollowState, outcome: Outcome, now: number, out: FollowEvent[]): Step {
  const attempt = s.attempt + 1;
  const next: FollowState = {
    phase: "Waiting", createdAt: s.createdAt, startTimeout: s.startTimeout, kind: s.kind, retries: s.retries, attempt, waitingSince: now,
    announced: new Set(), following: new Set(), finished: new Set(),
  };
  const why = outcome.message.replace(/; retry.*$/, "");
  return [next, [...out,
    { type: "progress", message: `[${elapsed(s, now)}] attempt ${s.attempt} of ${s.retries + 1} ended: ${why}; the Job starts attempt ${attempt}` },
    { type: "retry", attempt },
  ]];
}

/** While waiting for a retry's pod: a Job that has failed (its deadline passed meanwhile) makes none. */
function gaveUp(s: FollowState, job: V1Job | undefined): Step {
  const failed = job?.status?.conditions?.find((c) => (c.type === "Failed" || c.type === "FailureTarget") && c.status === "True");
  if (!failed) return [s, []];
  return done(s, jobOutcome({ status: "Failed", reason: failed.reason ?? "JobFailed", message: `the Job made no attempt ${s.attempt}: ${failed.message ?? failed.reason}` }, job));
}

/**
 * The outcome, given the Job of a build whose pod was deleted under it. A Job past its deadline has its pod
 * killed: since Kubernetes 1.31 the Job controller writes FailureTarget first, deletes the pod, and writes
 * Failed only once the pod is gone, so either condition decides.
 */
export function jobOutcome(outcome: Outcome, job: V1Job | undefined): Outcome {
  const failed = job?.status?.conditions?.find((c) => (c.type === "Failed" || c.type === "FailureTarget") && c.status === "True");
  if (failed?.reason !== "DeadlineExceeded") return outcome;
  return { status: "Failed", reason: "DeadlineExceeded", message: `the build ran out of time (${job?.spec?.activeDeadlineSeconds}s) and was stopped; raise the timeout or make the build faster` };
}

function observe(prev: FollowState, pod: V1Pod, now: number): Step {
  const out: FollowEvent[] = [];
  const progress = (message: string) => out.push({ type: "progress", message: `[${elapsed(prev, now)}] ${message}` });
  const following = new Set(prev.following);
  const finished = new Set(prev.finished);
  const announced = new Set(prev.announced);
  let s: FollowState = { ...prev, phase: prev.phase === "Waiting" ? "Pending" : prev.phase, pod, following, finished, announced } as FollowState;

  const nodeName = pod.spec?.nodeName;
  if (nodeName && nodeName !== s.node) {
    s = { ...s, node: nodeName };
    progress(`scheduled on node ${nodeName}`);
  }
  for (const [list, init] of [[pod.status?.initContainerStatuses ?? [], true], [pod.status?.containerStatuses ?? [], false]] as const) {
    for (const c of list) {
      if ((c.state?.running || c.state?.terminated) && !following.has(c.name)) {
        following.add(c.name);
        if (c.state?.running) progress(`${c.name}: running`);
        out.push({ type: "logs", container: c.name, init });
      }
      const t = c.state?.terminated;
      if (t && !finished.has(c.name)) {
        finished.add(c.name);
        const took = t.startedAt && t.finishedAt ? ` after ${Math.round((new Date(t.finishedAt).getTime() - new Date(t.startedAt).getTime()) / 1000)}s` : "";
        progress(t.exitCode === 0 ? `${c.name}: done${took}` : `${c.name}: exited with code ${t.exitCode} (${t.reason ?? "Error"})${took}`);
      }
    }
  }

  const next = nextToStart(pod);
  const waitingReason = next?.state?.waiting?.reason;
  if (!next || (waitingReason !== undefined && !NORMAL_WAITING.has(waitingReason))) s = { ...s, starting: undefined };
  else if (s.starting?.container !== next.name) s = { ...s, starting: { container: next.name, image: next.image, since: now, told: false } };

  if (started(pod) && s.phase === "Pending") s = { ...s, phase: "Running" };
  const outcome = finalOutcome(pod);
  if (outcome) return ended(s, outcome, false, now, out);

  // A container can be stuck before it starts at any point: the first one, or a later one after init
  // containers ran (its image cannot be pulled, its Secret is missing).
  const cause = pendingCause(pod);
  const key = cause ? `${cause.reason}:${cause.container ?? ""}` : undefined;
  if (cause && key !== s.lastCause) {
    progress(`waiting: ${cause.reason}: ${cause.message}`);
    if (s.phase === "Running") s = { ...s, stuckSince: now };
  }
  if (!cause) s = { ...s, stuckSince: undefined };
  s = { ...s, lastCause: key };
  if (cause && fatal(cause)) return done(s, { status: "StartFailed", reason: cause.reason, message: `the build cannot start: ${cause.message}` }, out);
  if (s.phase === "Pending" && !cause && !nodeName) {
    const phaseKey = `phase:${pod.status?.phase ?? "Pending"}`;
    if (!announced.has(phaseKey)) {
      announced.add(phaseKey);
      progress("waiting to be scheduled");
    }
  }
  const [after, more] = tick(s, now);
  return [after, [...out, ...more]];
}

/**
 * Time passes: a pod that has not started a container by the start deadline has failed to start, and so
 * has a later container stuck as long before it could start; a container slow to start is looked at once.
 */
function tick(s: FollowState, now: number): Step {
  const out: FollowEvent[] = [];
  if (s.starting && !s.starting.told && s.node && now - s.starting.since >= SLOW_START_MS) {
    out.push({ type: "slowStart", container: s.starting.container, image: s.starting.image });
    s = { ...s, starting: { ...s.starting, told: true } };
  }
  const waited = `${s.startTimeout}s`;
  if (s.phase === "Running" && s.stuckSince !== undefined && s.pod) {
    const cause = pendingCause(s.pod);
    if (cause && now - s.stuckSince >= s.startTimeout * 1000) {
      return done(s, { status: "StartFailed", reason: cause.reason, message: `container ${cause.container} did not start within ${waited}: ${cause.message}` }, out);
    }
    return [s, out];
  }
  if ((s.phase !== "Waiting" && s.phase !== "Pending") || now - s.waitingSince < s.startTimeout * 1000) return [s, out];
  const cause = s.pod ? pendingCause(s.pod) : undefined;
  if (cause) return done(s, { status: "StartFailed", reason: cause.reason, message: `the build did not start within ${waited}: ${cause.message}` }, out);
  if (!s.pod && s.refusal) return done(s, { status: "StartFailed", reason: s.refusal.reason, message: `no build pod appeared within ${waited}: ${s.refusal.message}` }, out);
  return done(s, {
    status: "StartFailed", reason: "StartTimeout",
    message: s.pod
      ? `the build pod did not start within ${waited} (phase ${s.pod.status?.phase ?? "Pending"}); check the events below, or raise --start-timeout`
      : `no build pod appeared within ${waited}; check that the Job can create pods (quota, admission policies, the Job's events)`,
  }, out);
}

/**
 * The Job's events, while no pod has appeared: the only place where the cluster says that it refuses the
 * pod (Pod Security, a quota, a LimitRange, a missing service account, an admission webhook). A refusal
 * that only a change can fix ends the build now; one that waiting can fix (a full quota) is told once and
 * named if the start deadline passes.
 */
function jobEvents(s: FollowState, events: ClusterEvent[], now: number): Step {
  if (s.phase !== "Waiting") return [s, []];
  const last = [...events].reverse().find((e) => e.reason === "FailedCreate");
  const refusal = last && podRefusal(last.message);
  if (!refusal) return [s, []];
  if (refusal.permanent) return done(s, { status: "StartFailed", reason: refusal.reason, message: `the build pod could not be created: ${refusal.message}` });
  const told = s.refusal?.message === refusal.message;
  return [{ ...s, refusal }, told ? [] : [{ type: "progress", message: `[${elapsed(s, now)}] waiting: ${refusal.reason}: ${refusal.message}` }]];
}

/**
 * The pod's events, looked at when a container is slow to start: a Secret volume that does not exist keeps
 * the pod in ContainerCreating, with FailedMount events the kubelet repeats until someone makes it.
 */
function podEvents(s: FollowState, events: ClusterEvent[]): Step {
  if (s.phase === "Settling") return [s, []];
  const mount = [...events].reverse().find((e) => e.reason === "FailedMount" && /secrets? "[^"]+" not found|non-existent secret key/.test(e.message));
  if (!mount) return [s, []];
  const key = /references non-existent secret key: (\S+)/.exec(mount.message);
  if (key) {
    return done(s, {
      status: "StartFailed", reason: "SecretKeyNotFound",
      message: `the build cannot start: a Secret it mounts has no key ${key[1]} (${mount.message}); add the key, or name another with key=KEY`,
    });
  }
  const name = /secrets? "([^"]+)" not found/.exec(mount.message)![1];
  return done(s, {
    status: "StartFailed", reason: "SecretNotFound",
    message: `the build cannot start: secret "${name}" not found in the build's namespace (${mount.message}); create it, or name another`,
  });
}
