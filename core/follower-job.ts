// What the Job says, as the follower reads it: its events while no pod exists (a refused pod), its
// conditions once a pod was deleted under it (a deadline), and while a retry's pod is awaited.
import type { V1Job } from "@kubernetes/client-node";
import { done, elapsed, type ClusterEvent, type FollowState, type Step } from "./follow-state.js";
import type { Outcome } from "./pod-status.js";
import { podRefusal } from "./refusal.js";

/** While waiting for a retry's pod: a Job that has failed (its deadline passed meanwhile) makes none. */
export function gaveUp(s: FollowState, job: V1Job | undefined): Step {
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

/**
 * The Job's events, while no pod has appeared: the only place where the cluster says that it refuses the
 * pod (Pod Security, a quota, a LimitRange, a missing service account, an admission webhook). A refusal
 * that only a change can fix ends the build now; one that waiting can fix (a full quota) is told once and
 * named if the start deadline passes.
 */
export function jobEvents(s: FollowState, events: ClusterEvent[], now: number): Step {
  if (s.phase !== "Waiting") return [s, []];
  const last = [...events].reverse().find((e) => e.reason === "FailedCreate");
  const refusal = last && podRefusal(last.message);
  if (!refusal) return [s, []];
  if (refusal.permanent) return done(s, { status: "StartFailed", reason: refusal.reason, message: `the build pod could not be created: ${refusal.message}` });
  const told = s.refusal?.message === refusal.message;
  return [{ ...s, refusal }, told ? [] : [{ type: "progress", message: `[${elapsed(s, now)}] waiting: ${refusal.reason}: ${refusal.message}` }]];
}
