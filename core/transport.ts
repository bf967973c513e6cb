// HTTP to the cluster API for one Cluster: HTTP/2 where the server offers it (h2.ts), else kept-alive
// HTTP/1.1 connection pools; one TLS context per set of credentials. client-node 2.0.1 builds a new HTTP agent for every call and every watch, so each paid a
// TLS handshake and a TLS context of its own (about 40 kB of native memory): a hundred builds started at
// once from one process had 700 connections open at a time and took the process past 330 MB.
import type { ClusterAccess } from "./kubeconfig.js";
import { createHash } from "node:crypto";
import { Agent as HttpAgent, request as httpRequest, type IncomingMessage } from "node:http";
import { Agent as HttpsAgent, request as httpsRequest, type RequestOptions } from "node:https";
import type { Readable } from "node:stream";
import { createSecureContext, type ConnectionOptions, type SecureContext } from "node:tls";
import { CANCEL, H2Pool, negotiate, responseHead } from "./h2.js";
import { VERSION } from "./version.js";

/** The API server's answer other than 2xx: its status code, body (the parsed Status when JSON) and headers. */
export class ApiError extends Error {
  /** A 401 after which the credentials were renewed: the same request may succeed if sent again. */
  renewed = false;
  constructor(readonly code: number, readonly body: unknown, readonly headers: Record<string, string>) {
    super(`HTTP ${code}`);
  }
}

/** A request that failed: no answer (`code`, as Node's network errors), or an unexpected one (`statusCode`). */
export class TransportError extends Error {
  /** As ApiError's. */
  renewed = false;
  constructor(message: string, readonly code?: string, readonly statusCode?: number, readonly headers?: Record<string, string | string[] | undefined>) {
    super(message);
  }
}

/**
 * The texts of an answer's Warning headers, from its raw header list. The API server sends RFC 7234's form,
 * `299 - "text"` (Pod Security's "warn" level, deprecated APIs, unknown or duplicate fields); anything else
 * is passed on whole.
 */
export function warnings(rawHeaders: string[]): string[] {
  const out: string[] = [];
  for (let i = 0; i + 1 < rawHeaders.length; i += 2) {
    if (rawHeaders[i]!.toLowerCase() !== "warning") continue;
    const m = /^\d{3} \S+ "((?:[^"\\]|\\.)*)"/.exec(rawHeaders[i + 1]!);
    out.push(m ? m[1]!.replace(/\\(.)/g, "$1") : rawHeaders[i + 1]!);
  }
  return out;
}

/** Connections for short calls: a burst of calls waits for one of these instead of opening its own. */
const CALL_SOCKETS = 16;
/** A call whose connection stays silent this long has failed (the retry layer decides what next). */
const CALL_IDLE_MS = 60_000;
/** Watch streams: the API server sends a bookmark about every minute, so silence this long is a dead stream. */
const WATCH_IDLE_MS = 90_000;

export type Options = RequestOptions & { secureContext?: SecureContext; contextKey?: string };

/** An answer's head and its body, the same over either protocol. */
interface Answer {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  rawHeaders: string[];
  body: Readable;
}

/** Headers HTTP/2 forbids (RFC 9113 8.2.2), which an HTTP/1.1 request may carry. */
const HOP_BY_HOP = new Set(["connection", "host", "keep-alive", "proxy-connection", "transfer-encoding", "upgrade"]);

/** A request's headers as HTTP/2 sends them: names in lower case, without connection headers. */
function h2Headers(method: string, url: URL, ...sets: (Record<string, unknown> | undefined)[]): Record<string, string> {
  const out: Record<string, string> = { ":method": method, ":path": `${url.pathname}${url.search}` };
  for (const set of sets) {
    for (const [k, v] of Object.entries(set ?? {})) {
      const name = k.toLowerCase();
      if (v !== undefined && !HOP_BY_HOP.has(name)) out[name] = String(v);
    }
  }
  return out;
}

/** What Node's HTTP/1.1 client fails with when a request's signal aborts. */
const aborted = () => Object.assign(new Error("The operation was aborted"), { name: "AbortError", code: "ABORT_ERR" });

/** A raw header list without HTTP/2's pseudo-headers (:status). */
function withoutPseudo(raw: string[]): string[] {
  const out: string[] = [];
  for (let i = 0; i + 1 < raw.length; i += 2) if (!raw[i]!.startsWith(":")) out.push(raw[i]!, raw[i + 1]!);
  return out;
}

export class Transport {
  /** Short calls. */
  private readonly calls: HttpsAgent | HttpAgent;
  /** Watches and log streams hold their connection for as long as they last: unbounded, kept alive. */
  private readonly streams: HttpsAgent | HttpAgent;
  private readonly contexts = new Map<string, SecureContext>();
  /** HTTP/2 sessions per set of TLS credentials (the contexts' keys); undefined where the server speaks only HTTP/1.1. */
  private readonly pools = new Map<string, Promise<H2Pool | undefined>>();
  private readonly tls: boolean;

  constructor(private readonly kc: ClusterAccess) {
    this.tls = !kc.getCurrentCluster()?.server.startsWith("http:");
    const Agent = this.tls ? HttpsAgent : HttpAgent;
    this.calls = new Agent({ keepAlive: true, maxSockets: CALL_SOCKETS, scheduling: "lifo" });
    this.streams = new Agent({ keepAlive: true, scheduling: "lifo" });
  }

  /**
   * Options for one request: the current credentials (client-node's authenticators refresh tokens), a
   * pooled agent, and the TLS context shared by every connection made with the same credentials.
   */
  async options(kind: "call" | "stream"): Promise<Options> {
    const o: Options = {};
    await this.kc.applyToHTTPSOptions(o);
    // Through a proxy (the kubeconfig's proxy-url), client-node's proxy agent set above does the connecting.
    if (this.kc.getCurrentCluster()?.proxyUrl) return o;
    o.agent = kind === "call" ? this.calls : this.streams;
    if (this.tls) o.secureContext = this.context(o);
    return o;
  }

  private context(o: Options): SecureContext {
    const hash = createHash("sha256");
    for (const x of [o.ca, o.cert, o.key, o.pfx, o.passphrase].flat()) {
      hash.update(typeof x === "string" || Buffer.isBuffer(x) ? x : JSON.stringify(x ?? null)).update("\0");
    }
    const key = hash.digest("hex");
    o.contextKey = key;
    let ctx = this.contexts.get(key);
    if (!ctx) {
      // Rotated credentials make new contexts: keep only the latest few.
      if (this.contexts.size >= 4) this.contexts.delete(this.contexts.keys().next().value!);
      ctx = createSecureContext({ ca: o.ca, cert: o.cert, key: o.key, pfx: o.pfx, passphrase: o.passphrase });
      this.contexts.set(key, ctx);
    }
    return ctx;
  }

  /**
   * The server refused the credentials a request was sent with (401). Renewable ones (an exec plugin's, a
   * token file's) are dropped so the next request fetches them afresh, as kubectl does. Says whether the
   * next request will carry other credentials.
   */
  refused(used: RequestOptions): boolean {
    return this.kc.refused?.(used) ?? false;
  }

  /**
   * The HTTP/2 sessions for these options' credentials, or undefined where HTTP/1.1 is spoken: plain HTTP,
   * a proxy (proxy-url), BUILDPOD_HTTP1=1, or a server that does not offer h2. The first request with a set
   * of credentials asks the server (ALPN); the connection it opens for that is the first session's.
   */
  h2(o: Options): Promise<H2Pool | undefined> {
    const cluster = this.kc.getCurrentCluster();
    if (!this.tls || cluster?.proxyUrl || !o.contextKey || process.env.BUILDPOD_HTTP1 === "1") return Promise.resolve(undefined);
    const key = o.contextKey;
    let pool = this.pools.get(key);
    if (!pool) {
      const url = new URL(cluster!.server);
      const tls: ConnectionOptions = { secureContext: o.secureContext, rejectUnauthorized: o.rejectUnauthorized, servername: o.servername ?? undefined };
      pool = negotiate(url, tls).then(({ socket, h2 }) => {
        if (h2) return new H2Pool(url, tls, socket);
        socket.destroy();
        return undefined;
      }, () => {
        // Not reached: the request goes over HTTP/1.1 and reports why; the next one asks again.
        this.pools.delete(key);
        return undefined;
      });
      for (const [k, old] of this.pools) {
        if (this.pools.size < 4) break;
        this.pools.delete(k);
        void old.then((p) => p?.close());
      }
      this.pools.set(key, pool);
    }
    return pool;
  }

  /**
   * Sends one request over HTTP/2 or HTTP/1.1 and hands its answer (head and body) or its failure (no
   * answer, a silence of `idle.ms`, a cut) to `on`. `signal` aborting cancels it.
   */
  private async exchange(kind: "call" | "stream", method: string, url: URL, headers: Record<string, string>, body: string | undefined,
    signal: AbortSignal | undefined, idle: { ms: number; error: () => TransportError }, cut: () => TransportError, on: { answer(a: Answer, o: Options): void; error(err: Error): void }): Promise<void> {
    const o = await this.options(kind);
    const pool = await this.h2(o);
    if (!pool) {
      const req = this.request(url, method, o, headers, signal);
      req.setTimeout(idle.ms, () => req.destroy(idle.error()));
      req.on("error", on.error);
      req.on("response", (res: IncomingMessage) => {
        res.on("aborted", () => on.error(cut()));
        on.answer({ status: res.statusCode ?? 0, headers: res.headers, rawHeaders: res.rawHeaders, body: res }, o);
      });
      req.end(body);
      return;
    }
    if (signal?.aborted) return on.error(aborted());
    const stream = await pool.request(h2Headers(method, url, { "user-agent": `buildpod/${VERSION}` }, o.headers as Record<string, unknown>, headers), body === undefined);
    if (body !== undefined) stream.end(body);
    const onAbort = () => stream.close(CANCEL);
    signal?.addEventListener("abort", onAbort, { once: true });
    let ended = false;
    stream.setTimeout(idle.ms, () => stream.destroy(idle.error()));
    stream.on("error", on.error);
    stream.on("end", () => (ended = true));
    // A stream the server reset, or whose connection went, closes without an end.
    stream.on("close", () => {
      signal?.removeEventListener("abort", onAbort);
      if (!ended) on.error(signal?.aborted ? aborted() : cut());
    });
    stream.on("response", (h, _flags, raw: string[]) => {
      const head = responseHead(h);
      on.answer({ ...head, rawHeaders: withoutPseudo(raw), body: stream }, o);
    });
  }

  /** Starts a request with options from `options()`; `signal` aborting destroys it. */
  private request(url: URL, method: string, o: RequestOptions, headers: Record<string, string>, signal?: AbortSignal) {
    const send = url.protocol === "https:" ? httpsRequest : httpRequest;
    return send(url, { ...o, method, headers: { "User-Agent": `buildpod/${VERSION}`, ...(o.headers as Record<string, string>), ...headers }, signal });
  }

  /**
   * One API call: `body` sent as JSON (a merge patch for PATCH), the answer parsed from JSON. Rejects with ApiError for an answer
   * other than 2xx, TransportError when there was none. `onWarning` hears the answer's Warning headers.
   */
  async call<T>(method: string, path: string, query: Record<string, string | number | boolean | undefined> = {}, body?: unknown, signal?: AbortSignal, onWarning?: (text: string) => void): Promise<T> {
    const url = new URL(`${this.kc.getCurrentCluster()!.server}${path}`);
    for (const [k, v] of Object.entries(query)) if (v !== undefined) url.searchParams.set(k, String(v));
    // At most CALL_SOCKETS calls at a time, as over HTTP/1.1's pool: a thousand builds started at once
    // queue their calls here, bodies not yet made, instead of all sending (and answers all arriving) at once.
    const release = await this.callSlot(signal);
    const headers: Record<string, string> = { Accept: "application/json" };
    const text = body === undefined ? undefined : JSON.stringify(body);
    // A PATCH is a JSON merge patch: the body names only what changes.
    if (text !== undefined) headers["Content-Type"] = method === "PATCH" ? "application/merge-patch+json" : "application/json";
    return new Promise<T>((resolve, reject) => {
      const idle = { ms: CALL_IDLE_MS, error: () => new TransportError(`no answer from the cluster API in ${CALL_IDLE_MS / 1000}s (ETIMEDOUT)`, "ETIMEDOUT") };
      const cut = () => new TransportError("the connection to the cluster API was cut (ECONNRESET)", "ECONNRESET");
      void this.exchange("call", method, url, headers, text, signal, idle, cut, {
        error: reject,
        answer: (res, o) => {
          if (onWarning) for (const w of warnings(res.rawHeaders)) onWarning(w);
          const chunks: Buffer[] = [];
          res.body.on("data", (d: Buffer) => chunks.push(d));
          res.body.on("error", reject);
          res.body.on("end", () => {
            const raw = Buffer.concat(chunks).toString("utf8");
            let parsed: unknown = raw;
            try {
              parsed = raw ? JSON.parse(raw) : undefined;
            } catch {}
            const status = res.status;
            if (status >= 200 && status < 300) return resolve(parsed as T);
            const h: Record<string, string> = {};
            for (const [k, v] of Object.entries(res.headers)) if (v !== undefined) h[k] = Array.isArray(v) ? v.join(", ") : v;
            const err = new ApiError(status, parsed, h);
            if (status === 401) err.renewed = this.refused(o);
            reject(err);
          });
        },
      }).catch(reject);
    }).finally(release);
  }

  private inFlight = 0;
  private readonly waiting: (() => void)[] = [];

  /** Waits for one of CALL_SOCKETS call slots; resolves with its release. */
  private async callSlot(signal?: AbortSignal): Promise<() => void> {
    if (this.inFlight < CALL_SOCKETS) {
      this.inFlight++;
    } else {
      await new Promise<void>((resolve, reject) => {
        const go = () => {
          signal?.removeEventListener("abort", leave);
          resolve();
        };
        const leave = () => {
          this.waiting.splice(this.waiting.indexOf(go), 1);
          reject(aborted());
        };
        if (signal?.aborted) return reject(aborted());
        signal?.addEventListener("abort", leave, { once: true });
        this.waiting.push(go);
      });
    }
    let released = false;
    return () => {
      if (released) return;
      released = true;
      const next = this.waiting.shift();
      // The slot passes to the next call as it is.
      if (next) next();
      else this.inFlight--;
    };
  }

  /**
   * One watch request: calls `onEvent` for each event until the server ends the stream (resolves), or it
   * fails, goes silent for too long, or answers other than 200 (rejects; `statusCode` set when it answered).
   */
  async watch(path: string, query: Record<string, string | number | boolean | undefined>, onEvent: (type: string, object: any) => void, signal: AbortSignal): Promise<void> {
    const url = new URL(`${this.kc.getCurrentCluster()!.server}${path}`);
    url.searchParams.set("watch", "true");
    for (const [k, v] of Object.entries(query)) if (v !== undefined) url.searchParams.set(k, String(v));
    if (signal.aborted) return;
    return new Promise((resolve, reject) => {
      const fail = (err: Error) => (signal.aborted ? resolve() : reject(err));
      const idle = { ms: WATCH_IDLE_MS, error: () => new TransportError(`the watch was silent for ${WATCH_IDLE_MS / 1000}s (ETIMEDOUT)`, "ETIMEDOUT") };
      const cut = () => new TransportError("the watch stream was cut (ECONNRESET)", "ECONNRESET");
      void this.exchange("stream", "GET", url, { Accept: "application/json" }, undefined, signal, idle, cut, {
        error: fail,
        answer: (res, o) => {
          if (res.status !== 200) {
            let text = "";
            res.body.on("data", (d: Buffer) => (text += d.toString()));
            res.body.on("end", () => {
              let message = text.slice(0, 300) || `HTTP ${res.status}`;
              try {
                message = (JSON.parse(text) as { message?: string }).message ?? message;
              } catch {}
              const err = new TransportError(message, undefined, res.status, res.headers);
              if (res.status === 401) err.renewed = this.refused(o);
              fail(err);
            });
            res.body.on("error", fail);
            return;
          }
          res.body.setEncoding("utf8");
          let partial = "";
          res.body.on("data", (chunk: string) => {
            const lines = (partial + chunk).split("\n");
            partial = lines.pop()!;
            for (const line of lines) {
              if (!line.trim()) continue;
              let event: { type?: string; object?: unknown };
              try {
                event = JSON.parse(line) as typeof event;
              } catch {
                continue; // a line cut by a broken stream: the resumed watch delivers its event again
              }
              if (event.type) onEvent(event.type, event.object);
            }
          });
          res.body.on("end", () => resolve());
          res.body.on("error", fail);
        },
      }).catch(fail);
    });
  }
}
