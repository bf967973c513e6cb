// A list-watch that lasts: one watch request while nothing goes wrong, resumed from the last resourceVersion
// whenever it ends (the server's timeout, a dropped connection, a stream silent for too long), a re-list on
// 410 Gone that reports the objects that vanished meanwhile. The pod watch of every build and the shared
// watch of Job warnings (job-warnings.ts) run on it.
import { explain, httpStatus, renewed, retryAfterMs, sleep } from "./api-call.js";
import type { Transport, TransportError } from "./transport.js";

type Query = Record<string, string | number | boolean | undefined>;

interface Named {
  metadata?: { name?: string; resourceVersion?: string };
}

export interface WatchTarget<T extends Named> {
  /** What is watched, for errors: "watching pods (app=x) in namespace builds". */
  what: string;
  path: string;
  /** labelSelector and fieldSelector. */
  query: Query;
  /** The same selection, listed: for the re-list after 410 Gone. */
  list(signal: AbortSignal): Promise<{ items: T[]; metadata?: { resourceVersion?: string } }>;
}

export interface WatchHandlers<T> {
  changed(obj: T): void;
  deleted(obj: T): void;
}

/** Watches TARGET until the signal aborts, or throws once the server refuses it for good. */
export async function watchList<T extends Named>(transport: Transport, target: WatchTarget<T>, on: WatchHandlers<T>, signal: AbortSignal): Promise<void> {
  const known = new Map<string, T>();
  let rv: string | undefined;
  const relist = async () => {
    const list = await target.list(signal);
    const seen = new Set<string>();
    for (const o of list.items) {
      seen.add(o.metadata!.name!);
      known.set(o.metadata!.name!, o);
      on.changed(o);
    }
    for (const [name, o] of known) {
      if (!seen.has(name)) {
        known.delete(name);
        on.deleted(o);
      }
    }
    rv = list.metadata?.resourceVersion;
  };
  // The first watch has no resourceVersion: the server starts it with the objects that exist, as ADDED
  // events, so no list is needed first (nor can the list's version be too old by the time the watch asks).
  let failures = 0;
  let renewedOnce = false;
  while (!signal.aborted) {
    const started = Date.now();
    let events = 0;
    let gone = false;
    const result: { err?: unknown } = {};
    await transport
      .watch(target.path, { ...target.query, resourceVersion: rv, allowWatchBookmarks: true, timeoutSeconds: 290 }, (type, obj) => {
        events++;
        if (type === "ERROR") {
          if (obj?.code === 410) gone = true;
          return;
        }
        if (obj?.metadata?.resourceVersion) rv = obj.metadata.resourceVersion;
        if (type === "BOOKMARK") return;
        const name = obj?.metadata?.name as string;
        if (type === "DELETED") {
          known.delete(name);
          on.deleted(obj);
        } else {
          known.set(name, obj);
          on.changed(obj);
        }
      }, signal)
      .catch((err: unknown) => (result.err = err));
    if (signal.aborted) return;
    const code = result.err ? httpStatus(result.err) : undefined;
    if (gone || code === 410) {
      await relist();
      continue;
    }
    // A silent watch is resumed like one the server ended.
    const timedOut = (result.err as TransportError | undefined)?.code === "ETIMEDOUT";
    if (result.err && !timedOut) {
      if (code === 401 && renewed(result.err) && !renewedOnce) {
        renewedOnce = true;
        continue;
      }
      if (code !== undefined && code < 500 && code !== 429) throw explain(target.what, result.err);
      if (++failures > 8) throw explain(target.what, result.err);
      await sleep(retryAfterMs(result.err) ?? Math.min(8000, 200 * 2 ** failures), signal);
      continue;
    }
    failures = 0;
    renewedOnce = false;
    // A watch the server closes at once, again and again, must not turn into a busy loop.
    if (events === 0 && Date.now() - started < 1000) await sleep(500, signal);
  }
}
