// The follower's state and its inputs and outputs (follower.ts steps it): a tagged record carrying its data,
// one input at a time, and what the driver must do.
import type { V1Job, V1Pod } from "@kubernetes/client-node";
import type { Outcome } from "./pod-status.js";
import type { Refusal } from "./refusal.js";

export interface Common {
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

export type Step = [FollowState, FollowEvent[]];

export const done = (s: FollowState, outcome: Outcome, out: FollowEvent[] = []): Step =>
  [{ ...s, phase: "Done", outcome }, [...out, { type: "done", outcome }]];

