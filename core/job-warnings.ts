// Why a Job has no pod: the Job controller says so only in a FailedCreate event on the Job (a full quota,
// an admission webhook's refusal). Every build of this process that waits for its pod hears of its own Job's
// events through one watch per namespace, opened while some build waits and closed 15 s after none does. A
// thousand builds waiting behind the Job controller (it creates about 20 pods a second at its default
// client rate) cost that one watch, where a list per build at doubling gaps cost 8 requests per build
// over a two-minute wait. An identity that may list events but not watch them (a Role from before watch
// was asked for) gets one list per namespace at doubling gaps (1 s to 30 s), shared the same way.
import type { CoreV1Event } from "@kubernetes/client-node";
import { sleep } from "./api-call.js";
import type { ClusterEvent } from "./follow-state.js";

/** The events in question, as the API serves them: FailedCreate on Jobs of one namespace. */
export interface WarningSource {
  watch(namespace: string, on: (e: CoreV1Event) => void, signal: AbortSignal): Promise<void>;
  list(namespace: string, signal: AbortSignal): Promise<CoreV1Event[]>;
}

/** The field selector of both. */
export const JOB_WARNINGS = "involvedObject.kind=Job,reason=FailedCreate";

type Listener = (events: ClusterEvent[]) => void;

interface Namespace {
  listeners: Map<string, Set<Listener>>;
  /** Each Job's latest event while the namespace is followed: a build that subscribes late hears it too. */
  latest: Map<string, ClusterEvent>;
  stop: AbortController;
  /** Set while no build waits: when it fires, the namespace is no longer followed. */
  linger?: NodeJS.Timeout;
}

/** How long a namespace stays followed after its last waiting build: builds started in waves reuse it. */
const LINGER_MS = 15_000;
const POLL_FIRST_MS = 1000;
const POLL_MAX_MS = 30_000;

export class JobWarnings {
  private readonly namespaces = new Map<string, Namespace>();

  constructor(private readonly source: WarningSource, private readonly lingerMs = LINGER_MS) {}

  /**
   * Calls ON with the FailedCreate events of Job JOB in NAMESPACE, the one already there first, until the
   * returned function is called.
   */
  subscribe(namespace: string, job: string, on: Listener): () => void {
    let ns = this.namespaces.get(namespace);
    if (!ns) {
      ns = { listeners: new Map(), latest: new Map(), stop: new AbortController() };
      this.namespaces.set(namespace, ns);
      void this.follow(namespace, ns);
    }
    clearTimeout(ns.linger);
    const own = ns.listeners.get(job) ?? new Set<Listener>();
    ns.listeners.set(job, own);
    own.add(on);
    const known = ns.latest.get(job);
    if (known) queueMicrotask(() => own.has(on) && on([known]));
    const current = ns;
    return () => {
      own.delete(on);
      if (own.size === 0) current.listeners.delete(job);
      if (current.listeners.size === 0 && this.namespaces.get(namespace) === current) {
        clearTimeout(current.linger);
        current.linger = setTimeout(() => {
          this.namespaces.delete(namespace);
          current.stop.abort();
        }, this.lingerMs);
        // A program whose builds are done leaves without waiting for it.
        current.linger.unref();
      }
    };
  }

  /** How many namespaces are followed now (for tests). */
  get following(): number {
    return this.namespaces.size;
  }

  private deliver(ns: Namespace, e: CoreV1Event): void {
    const job = e.involvedObject?.name;
    if (!job || e.reason !== "FailedCreate") return;
    const event = { reason: e.reason, message: e.message ?? "" };
    ns.latest.set(job, event);
    for (const on of ns.listeners.get(job) ?? []) on([event]);
  }

  private async follow(namespace: string, ns: Namespace): Promise<void> {
    const signal = ns.stop.signal;
    try {
      await this.source.watch(namespace, (e) => this.deliver(ns, e), signal);
      return;
    } catch {
      // Refused (no watch on events) or failing for good: fall back to lists.
    }
    for (let gap = POLL_FIRST_MS; !signal.aborted; gap = Math.min(gap * 2, POLL_MAX_MS)) {
      const events = await this.source.list(namespace, signal).catch(() => []);
      for (const e of events) this.deliver(ns, e);
      await sleep(gap, signal);
    }
  }
}
