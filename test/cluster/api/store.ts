// The object store: every object of every resource, one global resourceVersion counter, a bounded history of
// changes for watches that resume, and the live watchers.
import { randomUUID } from "node:crypto";
import { tooOldResourceVersion } from "./errors.js";

// Objects are plain JSON; typed loosely on purpose, the server handles many kinds.
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type Obj = Record<string, any>;

export type EventType = "ADDED" | "MODIFIED" | "DELETED";

export interface StoreEvent {
  rv: number;
  resource: string;
  type: EventType;
  object: Obj;
  /** The object before a MODIFIED change, so selector watches can turn it into ADDED or DELETED. */
  previous?: Obj;
}

export interface Watcher {
  resource: string;
  namespace?: string;
  onEvent(e: StoreEvent): void;
}

export function key(namespace: string | undefined, name: string): string {
  return `${namespace ?? ""}/${name}`;
}

export class Store {
  private rv = 1000;
  private objects = new Map<string, Map<string, Obj>>();
  private history: StoreEvent[] = [];
  /** The newest resourceVersion that has left the history: watches from before it get 410. */
  private compactedThrough = 1000;
  private watchers = new Set<Watcher>();

  constructor(public historyLimit = 1000) {}

  currentRv(): number {
    return this.rv;
  }

  private table(resource: string): Map<string, Obj> {
    let t = this.objects.get(resource);
    if (!t) {
      t = new Map();
      this.objects.set(resource, t);
    }
    return t;
  }

  get(resource: string, namespace: string | undefined, name: string): Obj | undefined {
    const o = this.table(resource).get(key(namespace, name));
    return o ? structuredClone(o) : undefined;
  }

  list(resource: string, namespace?: string): Obj[] {
    const out: Obj[] = [];
    for (const o of this.table(resource).values()) {
      if (namespace === undefined || o.metadata.namespace === namespace) out.push(structuredClone(o));
    }
    return out.sort((a, b) => Number(a.metadata.resourceVersion) - Number(b.metadata.resourceVersion) || 0);
  }

  /** Store a new object (the caller checked it does not exist); sets uid, resourceVersion, creationTimestamp. */
  create(resource: string, obj: Obj): Obj {
    const o = structuredClone(obj);
    o.metadata.uid ??= randomUUID();
    o.metadata.creationTimestamp ??= new Date().toISOString().replace(/\.\d+Z$/, "Z");
    o.metadata.resourceVersion = String(++this.rv);
    this.table(resource).set(key(o.metadata.namespace, o.metadata.name), o);
    this.publish({ rv: this.rv, resource, type: "ADDED", object: structuredClone(o) });
    return structuredClone(o);
  }

  /** Replace a stored object; a new resourceVersion unless nothing changed. */
  update(resource: string, obj: Obj): Obj {
    const t = this.table(resource);
    const k = key(obj.metadata.namespace, obj.metadata.name);
    const prev = t.get(k);
    if (!prev) throw new Error(`update of missing ${resource} ${k}`);
    const o = structuredClone(obj);
    o.metadata.resourceVersion = prev.metadata.resourceVersion;
    if (JSON.stringify(o) === JSON.stringify(prev)) return structuredClone(prev);
    o.metadata.resourceVersion = String(++this.rv);
    t.set(k, o);
    this.publish({ rv: this.rv, resource, type: "MODIFIED", object: structuredClone(o), previous: structuredClone(prev) });
    return structuredClone(o);
  }

  /** Change a stored object in place through a function; returns the new object or undefined if it is gone. */
  mutate(resource: string, namespace: string | undefined, name: string, fn: (o: Obj) => void): Obj | undefined {
    const cur = this.get(resource, namespace, name);
    if (!cur) return undefined;
    fn(cur);
    return this.update(resource, cur);
  }

  remove(resource: string, namespace: string | undefined, name: string): Obj | undefined {
    const t = this.table(resource);
    const k = key(namespace, name);
    const prev = t.get(k);
    if (!prev) return undefined;
    t.delete(k);
    const o = structuredClone(prev);
    o.metadata.resourceVersion = String(++this.rv);
    this.publish({ rv: this.rv, resource, type: "DELETED", object: structuredClone(o) });
    return o;
  }

  private publish(e: StoreEvent): void {
    this.history.push(e);
    while (this.history.length > this.historyLimit) {
      const dropped = this.history.shift()!;
      this.compactedThrough = dropped.rv;
    }
    for (const w of [...this.watchers]) {
      if (w.resource === e.resource && (w.namespace === undefined || e.object.metadata.namespace === w.namespace)) {
        w.onEvent(e);
      }
    }
  }

  /** Forget the whole history: every watch from an older resourceVersion will get 410 Gone. */
  compact(): void {
    this.history = [];
    this.compactedThrough = this.rv;
  }

  /** Events after `fromRv` for a resource; throws 410 when they are no longer all in the history. */
  eventsSince(resource: string, namespace: string | undefined, fromRv: number): StoreEvent[] {
    if (fromRv < this.compactedThrough) throw tooOldResourceVersion(fromRv, this.compactedThrough + 1);
    return this.history.filter(
      (e) => e.rv > fromRv && e.resource === resource && (namespace === undefined || e.object.metadata.namespace === namespace),
    );
  }

  checkNotTooOld(fromRv: number): void {
    if (fromRv < this.compactedThrough) throw tooOldResourceVersion(fromRv, this.compactedThrough + 1);
  }

  addWatcher(w: Watcher): () => void {
    this.watchers.add(w);
    return () => this.watchers.delete(w);
  }
}
