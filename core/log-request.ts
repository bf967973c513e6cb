// One container log request: a GET streamed chunk by chunk, as a stream of the Cluster's HTTP/2 session
// (h2.ts), or over HTTP/1.1 on a socket of its own (http-stream.ts), or, behind the kubeconfig's proxy-url,
// through Node's client. Following a log across requests is logstream.ts.
import { EventEmitter } from "node:events";
import { request as httpRequest, type IncomingMessage } from "node:http";
import { request as httpsRequest } from "node:https";
import { explain } from "./api-call.js";
import { ClusterError } from "./errors.js";
import { CANCEL, responseHead, type H2Pool } from "./h2.js";
import { HEAD_TIMEOUT_MS, streamGet, type StreamResponse } from "./http-stream.js";
import type { ClusterAccess } from "./kubeconfig.js";
import type { Options, Transport } from "./transport.js";
import { VERSION } from "./version.js";

type LogResponse = Pick<StreamResponse, "on" | "pause" | "resume" | "isPaused" | "destroy">;

/**
 * A log stream's GET: on a socket of its own, parsed by http-stream.ts; through a proxy (the kubeconfig's
 * proxy-url), by Node's client with client-node's proxy agent, speaking the same events.
 */
async function openLog(url: URL, options: Options, proxied: boolean, pool: H2Pool | undefined): Promise<LogResponse> {
  const headers: Record<string, string> = { "User-Agent": `buildpod/${VERSION}`, Accept: "*/*" };
  for (const [k, v] of Object.entries((options.headers ?? {}) as Record<string, unknown>)) {
    if (v === undefined) continue;
    const value = String(v);
    // A credential with a line break would add lines to the request.
    if (/[\r\n]/.test(value)) throw new ClusterError(`the kubeconfig's ${k} header has a line break in it`);
    headers[k] = value;
  }
  if (pool) return openH2(pool, url, headers);
  if (!proxied) {
    return streamGet({
      url, headers,
      tls: { secureContext: options.secureContext, ca: options.ca, cert: options.cert, key: options.key, rejectUnauthorized: options.rejectUnauthorized, servername: options.servername ?? undefined },
    });
  }
  const out = new EventEmitter() as EventEmitter & LogResponse;
  const get = url.protocol === "https:" ? httpsRequest : httpRequest;
  let response: IncomingMessage | undefined;
  const req = get(url, { ...options, method: "GET", headers }, (r) => {
    response = r;
    out.emit("head", r.statusCode ?? 0, r.headers);
    r.on("data", (d: Buffer) => out.emit("data", d));
    r.on("end", () => out.emit("end"));
    r.on("error", (err) => out.emit("error", err));
    r.on("aborted", () => out.emit("error", new Error("the stream was cut")));
  });
  req.on("error", (err) => out.emit("error", err));
  req.end();
  out.pause = () => void response?.pause();
  out.resume = () => void response?.resume();
  out.isPaused = () => response?.isPaused() ?? false;
  out.destroy = () => void req.destroy();
  return out;
}

/** The GET as a stream of an HTTP/2 session, speaking the same events. */
async function openH2(pool: H2Pool, url: URL, headers: Record<string, string>): Promise<LogResponse> {
  const h2: Record<string, string> = { ":method": "GET", ":path": `${url.pathname}${url.search}` };
  for (const [k, v] of Object.entries(headers)) h2[k.toLowerCase()] = v;
  const stream = await pool.request(h2, true);
  const out = new EventEmitter() as EventEmitter & LogResponse;
  let ended = false;
  const silent = setTimeout(() => stream.destroy(new Error(`the server sent no answer within ${HEAD_TIMEOUT_MS / 1000}s`)), HEAD_TIMEOUT_MS);
  stream.on("response", (h) => {
    clearTimeout(silent);
    const head = responseHead(h);
    out.emit("head", head.status, head.headers);
  });
  stream.on("data", (d: Buffer) => out.emit("data", d));
  stream.on("end", () => {
    ended = true;
    out.emit("end");
  });
  stream.on("error", (err) => out.emit("error", err));
  // Reset by the server, or its connection gone: closed without an end.
  stream.on("close", () => {
    clearTimeout(silent);
    if (!ended) out.emit("error", new Error("the stream was cut"));
  });
  out.pause = () => void stream.pause();
  out.resume = () => void stream.resume();
  out.isPaused = () => stream.isPaused();
  out.destroy = () => void stream.close(CANCEL);
  return out;
}

export interface LogQuery {
  follow: boolean;
  sinceTime?: string;
  tailLines?: number;
  signal?: AbortSignal;
}

/**
 * Streams a container's log (with timestamps), chunk by chunk. Resolves when the stream ends or the
 * signal aborts; rejects with a ClusterError carrying the HTTP status, or none when the connection broke.
 * When onChunk returns a promise, reading pauses until it settles: a slow reader holds the stream back
 * instead of the log piling up in memory.
 * (Written on node:https rather than client-node's Log, whose stream errors cannot be caught.)
 */
export async function streamContainerLog(kc: ClusterAccess, transport: Transport, namespace: string, pod: string, container: string, opts: LogQuery, onChunk: (chunk: Buffer) => void | Promise<void>): Promise<void> {
  const server = kc.getCurrentCluster()!.server;
  const url = new URL(`${server}/api/v1/namespaces/${encodeURIComponent(namespace)}/pods/${encodeURIComponent(pod)}/log`);
  url.searchParams.set("container", container);
  url.searchParams.set("follow", String(opts.follow));
  url.searchParams.set("timestamps", "true");
  if (opts.sinceTime) url.searchParams.set("sinceTime", opts.sinceTime);
  if (opts.tailLines !== undefined) url.searchParams.set("tailLines", String(opts.tailLines));
  const options = await transport.options("stream");
  const what = `reading the log of ${pod}/${container}`;
  if (opts.signal?.aborted) return;
  let res: LogResponse;
  try {
    res = await openLog(url, options, Boolean(kc.getCurrentCluster()?.proxyUrl), await transport.h2(options));
  } catch (err) {
    throw explain(what, err);
  }
  return new Promise((resolve, reject) => {
    if (opts.signal?.aborted) {
      res.destroy();
      return resolve();
    }
    // What one socket read brings goes to the reader as one chunk: a server may write each line on its
    // own, and a call per line would cost more than the line.
    let settled = false;
    /** Ends the call once, unless the caller aborted (then it just resolves). */
    const settle = (err?: Error) => {
      if (settled) return;
      settled = true;
      if (err && !opts.signal?.aborted) reject(err);
      else resolve();
    };
    let status = 0;
    let errorBody = "";
    res.on("head", (code: number) => {
      status = code;
      // Refused credentials are renewed for the next read (followLog reads again).
      if (code === 401) transport.refused(options);
    });
    res.on("data", (chunk: Buffer) => {
      if (settled) return;
      if (status !== 200) return void (errorBody = (errorBody + chunk.toString()).slice(0, 4000));
      const wait = onChunk(chunk);
      if (wait && !res.isPaused()) {
        res.pause();
        const resume = () => void (settled || res.resume());
        wait.then(resume, resume);
      }
    });
    res.on("end", () => {
      if (status === 200) return settle();
      let message = errorBody.slice(0, 500) || `HTTP ${status}`;
      try {
        message = (JSON.parse(errorBody) as { message?: string }).message ?? message;
      } catch {}
      settle(new ClusterError(`${what}: ${message}`, status));
    });
    res.on("error", (err: Error & { code?: string }) => settle(status ? new ClusterError(`${what}: ${err.message}`) : explain(what, err)));
    opts.signal?.addEventListener("abort", () => {
      res.destroy();
      settle();
    }, { once: true });
  });
}
