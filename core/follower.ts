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
import type { V1Pod } from "@kubernetes/client-node";
import { done, elapsed, type ClusterEvent, type FollowEvent, type FollowInput, type FollowState, type Step } from "./follow-state.js";
import { gaveUp, jobEvents, jobOutcome } from "./follower-job.js";
import { fatal, finalOutcome, NORMAL_WAITING, nextToStart, pendingCause, started, type Outcome } from "./pod-status.js";

export { elapsed, initial, type ClusterEvent, type FollowEvent, type FollowInput, type FollowOptions, type FollowPhase, type FollowState } from "./follow-state.js";
export { jobOutcome } from "./follower-job.js";
export { finalOutcome, pendingCause, slowStartMessage, type Outcome, type PendingCause } from "./pod-status.js";

/** How long the next container may take to start before the wait is explained. */
const SLOW_START_MS = 3000;

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
 * The pod's events, looked at when a container is slow to start: a Secret volume that does not exist keeps
 * the pod in ContainerCreating, with FailedMount events the kubelet repeats until someone makes it; so does a
 * ConfigMap (the CA bundle, the registries.conf).
 */
function podEvents(s: FollowState, events: ClusterEvent[]): Step {
  if (s.phase === "Settling") return [s, []];
  const mount = [...events].reverse().find((e) => e.reason === "FailedMount" && /(secrets?|configmaps?) "[^"]+" not found|non-existent (secret|config) key/.test(e.message));
  if (!mount) return [s, []];
  const configKey = /references non-existent config key: (\S+)/.exec(mount.message);
  if (configKey) {
    return done(s, {
      status: "StartFailed", reason: "ConfigMapKeyNotFound",
      message: `the build cannot start: a ConfigMap it mounts has no key ${configKey[1]} (${mount.message}); add the key, or name another as CONFIGMAP/KEY`,
    });
  }
  const configMap = /configmaps? "([^"]+)" not found/.exec(mount.message);
  if (configMap) {
    return done(s, {
      status: "StartFailed", reason: "ConfigMapNotFound",
      message: `the build cannot start: configmap "${configMap[1]}" not found in the build's namespace (${mount.message}); create it, or name another`,
    });
  }
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
