// Fault injection for reliability tests, and request counting for benchmarks. Settable in process
// (server.faults.add(...)) or over HTTP: POST /_test/faults with one fault or a list, DELETE /_test/faults to clear,
// GET /_test/faults to read; GET /_test/stats, DELETE /_test/stats to reset.
import type { RequestCounts } from "../kube/audit.js";

/** What a fault applies to. A fault with `count` is used up after that many hits; without, it stays. */
export interface FaultMatch {
  /** Regular expression tested against the request path (without the query string). */
  path?: string;
  /** HTTP method, e.g. "GET". */
  method?: string;
  /** Kubernetes verb: get, list, watch, create, update, patch, delete, deletecollection. */
  verb?: string;
  count?: number;
}

export type Fault =
  /** Answer with 500 InternalError. */
  | ({ kind: "error"; status?: number; message?: string } & FaultMatch)
  /** Answer with 429 TooManyRequests and a Retry-After header. */
  | ({ kind: "tooManyRequests"; retryAfterSeconds?: number } & FaultMatch)
  /** Carry the request out, then break the connection instead of answering (a write whose answer was lost). */
  | ({ kind: "loseAnswer" } & FaultMatch)
  /** Hold the request before handling it. */
  | ({ kind: "delay"; ms: number } & FaultMatch)
  /** Answer a watch with 410: as an ERROR event in a 200 stream (what a real server does) or as an HTTP 410. */
  | ({ kind: "watchGone"; as?: "event" | "http" } & FaultMatch)
  /** Close matching watch streams after `afterEvents` events have been sent (0: right after the headers). */
  | ({ kind: "dropWatch"; afterEvents: number } & FaultMatch)
  /** Cut a log stream after `afterBytes` bytes: "destroy" breaks the connection, "end" ends the response cleanly. */
  | ({ kind: "cutLog"; afterBytes: number; mode?: "destroy" | "end" } & FaultMatch)
  /** Status updates from the node for this pod stop arriving (the node lost its connection to the pod). */
  | { kind: "losePod"; namespace?: string; pod: string };

export interface FaultsControl {
  add(fault: Fault | Fault[]): void;
  clear(): void;
  list(): Fault[];
  /** Close every open watch stream now. */
  dropWatchesNow(): number;
  /** Forget the watch history: any watch from an older resourceVersion gets 410 Gone. */
  compactHistory(): void;
}

export interface RequestInfo {
  method: string;
  path: string;
  verb: string;
}

export class Faults implements FaultsControl {
  private faults: Fault[] = [];
  /** Set by the server: closes open watches, compacts the store. */
  dropAll: () => number = () => 0;
  compact: () => void = () => {};

  add(fault: Fault | Fault[]): void {
    for (const f of Array.isArray(fault) ? fault : [fault]) {
      if (!f || typeof f !== "object" || !("kind" in f)) throw new Error("a fault needs a kind");
      this.faults.push({ ...f });
    }
  }

  clear(): void {
    this.faults = [];
  }

  list(): Fault[] {
    return this.faults.map((f) => ({ ...f }));
  }

  dropWatchesNow(): number {
    return this.dropAll();
  }

  compactHistory(): void {
    this.compact();
  }

  /** Take the first fault of a kind matching this request, using up one of its count. */
  take<K extends Fault["kind"]>(kind: K, req: RequestInfo): Extract<Fault, { kind: K }> | undefined {
    for (const f of this.faults) {
      if (f.kind !== kind || f.kind === "losePod") continue;
      if (f.path !== undefined && !new RegExp(f.path).test(req.path)) continue;
      if (f.method !== undefined && f.method.toUpperCase() !== req.method) continue;
      if (f.verb !== undefined && f.verb !== req.verb) continue;
      if (f.count !== undefined) {
        f.count--;
        if (f.count <= 0) this.faults = this.faults.filter((x) => x !== f);
      }
      return f as Extract<Fault, { kind: K }>;
    }
    return undefined;
  }

  podLost(namespace: string, pod: string): boolean {
    return this.faults.some((f) => f.kind === "losePod" && f.pod === pod && (f.namespace === undefined || f.namespace === namespace));
  }
}

/** Requests counted by verb, resource and path (the real cluster counts them the same way from its audit log). */
export type StatsSnapshot = RequestCounts;

export class Stats {
  private s: StatsSnapshot = { total: 0, byVerb: {}, byResource: {}, byPath: {} };

  count(method: string, path: string, verb: string, resource?: string): void {
    this.s.total++;
    this.s.byVerb[verb] = (this.s.byVerb[verb] ?? 0) + 1;
    if (resource) {
      const k = `${verb} ${resource}`;
      this.s.byResource[k] = (this.s.byResource[k] ?? 0) + 1;
    }
    const p = `${method} ${path}`;
    this.s.byPath[p] = (this.s.byPath[p] ?? 0) + 1;
  }

  snapshot(): StatsSnapshot {
    return structuredClone(this.s);
  }

  reset(): void {
    this.s = { total: 0, byVerb: {}, byResource: {}, byPath: {} };
  }
}
