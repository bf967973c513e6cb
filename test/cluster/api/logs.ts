// pods/log served from the node's CRI-format log files, as a kubelet serves them: follow, timestamps, sinceTime,
// sinceSeconds, tailLines, limitBytes, container selection and the real 400 messages.
import { open, type FileHandle } from "node:fs/promises";
import type { ServerResponse } from "node:http";
import { badRequest, ApiError } from "./errors.js";
import type { Obj } from "./store.js";

export interface LogQuery {
  container?: string;
  follow: boolean;
  timestamps: boolean;
  previous: boolean;
  sinceTime?: string;
  sinceSeconds?: number;
  tailLines?: number;
  limitBytes?: number;
}

export interface LogCut {
  afterBytes: number;
  mode: "destroy" | "end";
}

export interface LogContext {
  /** The pod as stored now; undefined once it is gone. */
  currentPod(): Obj | undefined;
  logPath(container: string): string | undefined;
}

/** Which container to read, with the real error messages. */
export function pickContainer(pod: Obj, requested: string | undefined): string {
  const name = pod.metadata.name;
  const containers: string[] = (pod.spec.containers ?? []).map((c: Obj) => c.name);
  const inits: string[] = (pod.spec.initContainers ?? []).map((c: Obj) => c.name);
  if (!requested) {
    if (containers.length === 1) return containers[0];
    let msg = `a container name must be specified for pod ${name}, choose one of: [${containers.join(" ")}]`;
    if (inits.length) msg += ` or one of the init containers: [${inits.join(" ")}]`;
    throw badRequest(msg);
  }
  if (!containers.includes(requested) && !inits.includes(requested)) {
    throw badRequest(`container ${requested} is not valid for pod ${name}`);
  }
  return requested;
}

function containerStatus(pod: Obj, container: string): Obj | undefined {
  return [...(pod.status?.initContainerStatuses ?? []), ...(pod.status?.containerStatuses ?? [])].find((s: Obj) => s.name === container);
}

export function waitingError(pod: Obj, container: string): ApiError | undefined {
  const name = pod.metadata.name;
  if (!pod.spec.nodeName) return badRequest(`container "${container}" in pod "${name}" is waiting to start: ContainerCreating`);
  const st = containerStatus(pod, container);
  const isInit = (pod.spec.initContainers ?? []).some((c: Obj) => c.name === container);
  if (!st || (!st.state?.running && !st.state?.terminated)) {
    const reason: string = st?.state?.waiting?.reason ?? (isInit ? "PodInitializing" : "ContainerCreating");
    let text = reason;
    if (reason === "ErrImagePull" || reason === "ImagePullBackOff") text = "trying and failing to pull image";
    else if (reason === "InvalidImageName") text = "image can't be pulled";
    if (!isInit && !st && (pod.spec.initContainers ?? []).length > 0 && !(pod.status?.conditions ?? []).some((c: Obj) => c.type === "Initialized" && c.status === "True")) text = "PodInitializing";
    return badRequest(`container "${container}" in pod "${name}" is waiting to start: ${text}`);
  }
  return undefined;
}

function isTerminated(pod: Obj | undefined, container: string): boolean {
  if (!pod) return true;
  const st = containerStatus(pod, container);
  if (st?.state?.terminated) return true;
  return pod.status?.phase === "Succeeded" || pod.status?.phase === "Failed";
}

interface Entry {
  ts: string;
  /** Nanoseconds since the epoch, for since* comparisons. */
  ns: bigint;
  full: boolean;
  text: Buffer;
}

function parseTs(ts: string): bigint {
  const m = /^(.*T\d\d:\d\d:\d\d)(?:\.(\d+))?(Z|[+-]\d\d:\d\d)$/.exec(ts);
  if (!m) return 0n;
  const secs = BigInt(Math.floor(Date.parse(m[1] + m[3]) / 1000));
  const frac = BigInt(((m[2] ?? "") + "000000000").slice(0, 9));
  return secs * 1_000_000_000n + frac;
}

/** RFC 3339 with nanoseconds, trailing zeros trimmed, as Go's RFC3339Nano prints it. */
function formatTs(ts: string): string {
  return ts.replace(/\.(\d*?)0+(Z|[+-]\d\d:\d\d)$/, (_, d: string, z: string) => (d ? `.${d}${z}` : z));
}

function parseLine(line: Buffer): Entry | undefined {
  const s1 = line.indexOf(0x20);
  const s2 = s1 < 0 ? -1 : line.indexOf(0x20, s1 + 1);
  const s3 = s2 < 0 ? -1 : line.indexOf(0x20, s2 + 1);
  if (s1 < 0 || s2 < 0) return undefined;
  const ts = line.subarray(0, s1).toString();
  const tag = s3 < 0 ? line.subarray(s2 + 1).toString() : line.subarray(s2 + 1, s3).toString();
  const text = s3 < 0 ? Buffer.alloc(0) : line.subarray(s3 + 1);
  return { ts, ns: parseTs(ts), full: !tag.startsWith("P"), text };
}

/**
 * Where the last `n` logical lines of a CRI log file start, found reading backwards from its end, as
 * kubelet does for tailLines (it does not read a long log from the start to show its tail): just after the
 * (n+1)-th full entry from the end, or 0 if there are not that many. A last line without its newline is
 * still being written and does not count.
 */
async function tailStart(fh: FileHandle, n: number): Promise<number> {
  const { size } = await fh.stat();
  const block = 64 * 1024;
  let buf = Buffer.alloc(0);
  let bufStart = size;
  const more = async (): Promise<boolean> => {
    if (bufStart === 0) return false;
    const from = Math.max(0, bufStart - block);
    const chunk = Buffer.alloc(bufStart - from);
    await fh.read(chunk, 0, chunk.length, from);
    buf = Buffer.concat([chunk, buf]);
    bufStart = from;
    return true;
  };
  // The end of the last complete line.
  let nl = buf.lastIndexOf(0x0a);
  while (nl < 0 && (await more())) nl = buf.lastIndexOf(0x0a);
  if (nl < 0) return 0;
  let cur = bufStart + nl;
  buf = buf.subarray(0, nl);
  let fulls = 0;
  for (;;) {
    let prev = buf.lastIndexOf(0x0a);
    while (prev < 0 && (await more())) prev = buf.lastIndexOf(0x0a);
    if (parseLine(buf.subarray(prev + 1))?.full && ++fulls === n + 1) return cur + 1;
    if (prev < 0) return 0;
    cur = bufStart + prev;
    buf = buf.subarray(0, prev);
  }
}

export async function streamLog(res: ServerResponse, ctx: LogContext, container: string, path: string, q: LogQuery, cut: LogCut | undefined): Promise<void> {
  let since: bigint | undefined;
  if (q.sinceTime) {
    const ms = Date.parse(q.sinceTime);
    if (Number.isNaN(ms)) throw badRequest(`parsing time "${q.sinceTime}" as "2006-01-02T15:04:05Z07:00": cannot parse`);
    since = BigInt(Math.floor(ms / 1000)) * 1_000_000_000n; // whole seconds, as the server passes it on
  } else if (q.sinceSeconds !== undefined) {
    since = BigInt(Date.now() - q.sinceSeconds * 1000) * 1_000_000n;
  }
  let fh: FileHandle;
  try {
    fh = await open(path, "r");
  } catch {
    throw badRequest(`container "${container}" in pod "${ctx.currentPod()?.metadata.name}" is waiting to start: ContainerCreating`);
  }
  res.writeHead(200, { "Content-Type": "text/plain", "Cache-Control": "no-cache, private" });
  res.flushHeaders();
  let sent = 0;
  let closed = false;
  res.on("close", () => {
    closed = true;
  });
  let offset = 0;
  let pendingLine = Buffer.alloc(0);

  const write = (chunk: Buffer): boolean => {
    let c = chunk;
    let stop = false;
    if (q.limitBytes !== undefined && sent + c.length >= q.limitBytes) {
      c = c.subarray(0, q.limitBytes - sent);
      stop = true;
    }
    if (cut && sent + c.length >= cut.afterBytes) {
      c = c.subarray(0, cut.afterBytes - sent);
      if (c.length) res.write(c);
      sent += c.length;
      if (cut.mode === "destroy") {
        // Let the bytes leave before breaking the connection mid-stream.
        setTimeout(() => res.socket?.destroy(), 20);
        closed = true;
        return false;
      }
      stop = true;
    } else if (c.length) res.write(c);
    sent += c.length;
    if (stop) closed = true;
    return !stop;
  };
  // As kubelet does, a line made of partial entries carries only its first entry's timestamp.
  let midLine = false;
  const render = (e: Entry): Buffer => {
    const parts: Buffer[] = [];
    if (q.timestamps && !midLine) parts.push(Buffer.from(formatTs(e.ts) + " "));
    parts.push(e.text);
    if (e.full) parts.push(Buffer.from("\n"));
    midLine = !e.full;
    return Buffer.concat(parts);
  };
  const readNew = async (): Promise<Entry[]> => {
    const out: Entry[] = [];
    const buf = Buffer.alloc(64 * 1024);
    for (;;) {
      const { bytesRead } = await fh.read(buf, 0, buf.length, offset);
      if (bytesRead === 0) break;
      offset += bytesRead;
      let data = Buffer.concat([pendingLine, buf.subarray(0, bytesRead)]);
      let nl: number;
      while ((nl = data.indexOf(0x0a)) >= 0) {
        const e = parseLine(data.subarray(0, nl));
        if (e) out.push(e);
        data = data.subarray(nl + 1);
      }
      pendingLine = Buffer.from(data);
    }
    return out;
  };
  const emit = (entries: Entry[]): boolean => {
    for (const e of entries) {
      if (since !== undefined && e.ns < since) continue;
      if (!write(render(e))) return false;
      if (closed) return false;
    }
    return true;
  };

  try {
    if (q.tailLines !== undefined) offset = await tailStart(fh, q.tailLines);
    let first = await readNew();
    if (q.tailLines !== undefined) {
      // Keep the last N logical lines (a line is its partial entries up to the full one).
      let lines = 0;
      let i = first.length;
      while (i > 0) {
        const e = first[i - 1];
        if (e.full) {
          if (lines === q.tailLines) break;
          lines++;
        }
        i--;
      }
      first = q.tailLines === 0 ? [] : first.slice(i);
    }
    let going = emit(first);
    while (going && q.follow && !closed) {
      const done = isTerminated(ctx.currentPod(), container);
      await new Promise((r) => setTimeout(r, 50));
      const more = await readNew();
      going = emit(more);
      if (done && more.length === 0) break;
    }
  } finally {
    await fh.close();
  }
  if (!res.destroyed && !(cut?.mode === "destroy" && sent >= cut.afterBytes)) res.end();
}
