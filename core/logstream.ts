// Reading one container's log to its end, across streams that end early or drop, each line once.
import { Writable } from "node:stream";
import { StringDecoder } from "node:string_decoder";
import { ClusterError, httpStatus, sleep, type Cluster } from "./cluster.js";
import { LogCursor, type LogLine } from "./logs.js";

export interface LogTarget {
  namespace: string;
  pod: string;
  container: string;
}

export interface FollowLogOptions {
  /** Whether the container has terminated, as far as the pod watch knows. */
  terminated(): boolean;
  /** Resolves at the pod's next change (or soon): to wait between streams without polling hard. */
  changed(): Promise<void>;
  onLine(line: LogLine): void;
  signal: AbortSignal;
}

/** Reads one stream into the cursor; resolves when it ends, however it ends. */
function readStream(cluster: Cluster, t: LogTarget, cursor: LogCursor, opts: FollowLogOptions, final: boolean): Promise<{ lines: number; error?: unknown }> {
  return new Promise((resolve) => {
    const decoder = new StringDecoder("utf8");
    let lines = 0;
    let settled = false;
    const deliver = (out: LogLine[]) => {
      lines += out.length;
      for (const l of out) opts.onLine(l);
    };
    const finish = (error?: unknown) => {
      if (settled) return;
      settled = true;
      opts.signal.removeEventListener("abort", onAbort);
      deliver(cursor.push(decoder.end()));
      deliver(cursor.end(final && error === undefined));
      resolve({ lines, error });
    };
    let ctrl: AbortController | undefined;
    const onAbort = () => {
      ctrl?.abort();
      finish();
    };
    const sink = new Writable({
      write(chunk: Buffer, _enc, cb) {
        deliver(cursor.push(decoder.write(chunk)));
        cb();
      },
    });
    sink.on("finish", () => finish());
    sink.on("close", () => finish());
    sink.on("error", (err) => finish(err));
    const { sinceTime } = cursor.nextStream();
    opts.signal.addEventListener("abort", onAbort, { once: true });
    cluster
      .streamLog(t.namespace, t.pod, t.container, sink, { follow: true, sinceTime })
      .then((c) => {
        ctrl = c;
        if (opts.signal.aborted) c.abort();
      })
      .catch((err: unknown) => finish(err));
  });
}

/**
 * Follows a container's log until the container has terminated and its log has been read to the end.
 * A stream that ends while the container still runs is resumed where it stopped.
 */
export async function followLog(cluster: Cluster, t: LogTarget, opts: FollowLogOptions): Promise<number> {
  const cursor = new LogCursor();
  let failures = 0;
  while (!opts.signal.aborted) {
    const wasTerminated = opts.terminated();
    const { lines, error } = await readStream(cluster, t, cursor, opts, wasTerminated);
    if (opts.signal.aborted) break;
    if (error) {
      const code = httpStatus(error);
      if (code === 404) return cursor.count; // the pod is gone: nothing more to read
      // 400: the container is still being created; others: try again a few times.
      if (code !== 400 && ++failures > 10) {
        throw new ClusterError(`reading the log of ${t.pod}/${t.container}: ${(error as Error).message}`, code);
      }
      await Promise.race([opts.changed(), sleep(Math.min(5000, 250 * 2 ** Math.min(failures, 5)), opts.signal)]);
      continue;
    }
    failures = 0;
    // A stream read after the container ended holds the whole rest of the log.
    if (wasTerminated) return cursor.count;
    // The stream ended by itself: most often the container just ended and the watch has not said so yet.
    if (lines === 0) await Promise.race([opts.changed(), sleep(1000, opts.signal)]);
  }
  return cursor.count;
}
