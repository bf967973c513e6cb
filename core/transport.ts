// HTTP to the cluster API for one Cluster: kept-alive connection pools and one TLS context per set of
// credentials. client-node 2.0.1 builds a new HTTP agent for every call and every watch, so each paid a
// TLS handshake and a TLS context of its own (about 40 kB of native memory): a hundred builds started at
// once from one process had 700 connections open at a time and took the process past 330 MB.
import type { ClusterAccess } from "./kubeconfig.js";
import { createHash } from "node:crypto";
import { Agent as HttpAgent, request as httpRequest, type IncomingMessage } from "node:http";
import { Agent as HttpsAgent, request as httpsRequest, type RequestOptions } from "node:https";
import { createSecureContext, type SecureContext } from "node:tls";
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

export class Transport {
  /** Short calls. */
  private readonly calls: HttpsAgent | HttpAgent;
  /** Watches and log streams hold their connection for as long as they last: unbounded, kept alive. */
  private readonly streams: HttpsAgent | HttpAgent;
  private readonly contexts = new Map<string, SecureContext>();
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
  async options(kind: "call" | "stream"): Promise<RequestOptions & { secureContext?: SecureContext }> {
    const o: RequestOptions & { secureContext?: SecureContext } = {};
    await this.kc.applyToHTTPSOptions(o);
    // Through a proxy (the kubeconfig's proxy-url), client-node's proxy agent set above does the connecting.
    if (this.kc.getCurrentCluster()?.proxyUrl) return o;
    o.agent = kind === "call" ? this.calls : this.streams;
    if (this.tls) o.secureContext = this.context(o);
    return o;
  }

  private context(o: RequestOptions): SecureContext {
    const hash = createHash("sha256");
    for (const x of [o.ca, o.cert, o.key, o.pfx, o.passphrase].flat()) {
      hash.update(typeof x === "string" || Buffer.isBuffer(x) ? x : JSON.stringify(x ?? null)).update("\0");
    }
    const key = hash.digest("hex");
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
    const headers: Record<string, string> = { Accept: "application/json" };
    const text = body === undefined ? undefined : JSON.stringify(body);
    // A PATCH is a JSON merge patch: the body names only what changes.
    if (text !== undefined) headers["Content-Type"] = method === "PATCH" ? "application/merge-patch+json" : "application/json";
    const o = await this.options("call");
    const req = this.request(url, method, o, headers, signal);
    return new Promise((resolve, reject) => {
      req.setTimeout(CALL_IDLE_MS, () => req.destroy(new TransportError(`no answer from the cluster API in ${CALL_IDLE_MS / 1000}s (ETIMEDOUT)`, "ETIMEDOUT")));
      req.on("error", reject);
      req.on("response", (res: IncomingMessage) => {
        if (onWarning) for (const w of warnings(res.rawHeaders)) onWarning(w);
        const chunks: Buffer[] = [];
        res.on("data", (d: Buffer) => chunks.push(d));
        res.on("error", reject);
        res.on("aborted", () => reject(new TransportError("the connection to the cluster API was cut (ECONNRESET)", "ECONNRESET")));
        res.on("end", () => {
          const raw = Buffer.concat(chunks).toString("utf8");
          let parsed: unknown = raw;
          try {
            parsed = raw ? JSON.parse(raw) : undefined;
          } catch {}
          const status = res.statusCode ?? 0;
          if (status >= 200 && status < 300) return resolve(parsed as T);
          const h: Record<string, string> = {};
          for (const [k, v] of Object.entries(res.headers)) if (v !== undefined) h[k] = Array.isArray(v) ? v.join(", ") : v;
          const err = new ApiError(status, parsed, h);
          if (status === 401) err.renewed = this.refused(o);
          reject(err);
        });
      });
      req.end(text);
    });
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
    const o = await this.options("stream");
    const req = this.request(url, "GET", o, { Accept: "application/json" }, signal);
    return new Promise((resolve, reject) => {
      const fail = (err: Error) => (signal.aborted ? resolve() : reject(err));
      req.setTimeout(WATCH_IDLE_MS, () => req.destroy(new TransportError(`the watch was silent for ${WATCH_IDLE_MS / 1000}s (ETIMEDOUT)`, "ETIMEDOUT")));
      req.on("error", fail);
      req.on("response", (res: IncomingMessage) => {
        if (res.statusCode !== 200) {
          let text = "";
          res.on("data", (d: Buffer) => (text += d.toString()));
          res.on("end", () => {
            let message = text.slice(0, 300) || `HTTP ${res.statusCode}`;
            try {
              message = (JSON.parse(text) as { message?: string }).message ?? message;
            } catch {}
            const err = new TransportError(message, undefined, res.statusCode, res.headers);
            if (res.statusCode === 401) err.renewed = this.refused(o);
            fail(err);
          });
          res.on("error", fail);
          return;
        }
        res.setEncoding("utf8");
        let partial = "";
        res.on("data", (chunk: string) => {
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
        res.on("end", () => resolve());
        res.on("error", fail);
        res.on("aborted", () => fail(new TransportError("the watch stream was cut (ECONNRESET)", "ECONNRESET")));
      });
      req.end();
    });
  }
}
