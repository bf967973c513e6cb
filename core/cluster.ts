// The edge to the cluster: API calls with retries, and one error type that says what failed.
import type {
  CoreV1Event, CoreV1EventList, V1Job, V1JobList, V1Namespace, V1Pod, V1PodList, V1Secret, V1SelfSubjectAccessReview, V1Status,
} from "@kubernetes/client-node";
// Only the exec client: client-node's index loads its whole generated API.
import { Exec } from "@kubernetes/client-node/dist/exec.js";
import { EventEmitter } from "node:events";
import { request as httpRequest, type IncomingMessage } from "node:http";
import { request as httpsRequest, type RequestOptions as HttpsRequestOptions } from "node:https";
import type { SecureContext } from "node:tls";
import { PassThrough, type Readable, type Writable } from "node:stream";
import { ClusterError } from "./errors.js";
import { sendStdin, type ExecSocket } from "./exec-stdin.js";
import { streamGet, type StreamResponse } from "./http-stream.js";
import { loadKubeConfig, type ClusterAccess, type ConnectOptions } from "./kubeconfig.js";
import { Transport, type ApiError, type TransportError } from "./transport.js";
import { VERSION } from "./version.js";

export { ClusterError };

export { loadKubeConfig, type ClusterAccess, type ConnectOptions };

/** The namespace the kubeconfig's current context names, if any. */
export function contextNamespace(kc: ClusterAccess): string | undefined {
  const ctx = kc.getContextObject(kc.getCurrentContext());
  return ctx?.namespace || undefined;
}

function isApiException(err: unknown): err is ApiError {
  return typeof (err as { code?: unknown })?.code === "number" && "body" in (err as object) && "headers" in (err as object);
}

function statusBody(err: ApiError): { message?: string; reason?: string } {
  const body = err.body;
  if (body && typeof body === "object") return body as { message?: string; reason?: string };
  if (typeof body === "string") {
    try {
      return JSON.parse(body) as { message?: string; reason?: string };
    } catch {
      return { message: body.slice(0, 300) };
    }
  }
  return {};
}

/** A 401 after which the credentials were renewed (see Transport.refused). */
const renewed = (err: unknown) => (err as { renewed?: unknown } | undefined)?.renewed === true;

export function httpStatus(err: unknown): number | undefined {
  if (isApiException(err)) return err.code;
  const e = err as { statusCode?: number; code?: unknown };
  if (typeof e?.statusCode === "number") return e.statusCode;
  return undefined;
}

const NETWORK = /ECONNRESET|ECONNREFUSED|EPIPE|ETIMEDOUT|EAI_AGAIN|socket hang up|other side closed|fetch failed|terminated|UND_ERR/i;

function isNetworkError(err: unknown): boolean {
  const e = err as { code?: string; message?: string; cause?: { code?: string; message?: string } };
  return NETWORK.test(`${e?.code ?? ""} ${e?.message ?? ""} ${e?.cause?.code ?? ""} ${e?.cause?.message ?? ""}`);
}

function isRefused(err: unknown): boolean {
  const e = err as { code?: string; message?: string; cause?: { code?: string; message?: string } };
  return /ECONNREFUSED|ENOTFOUND/.test(`${e?.code ?? ""} ${e?.message ?? ""} ${e?.cause?.code ?? ""} ${e?.cause?.message ?? ""}`);
}

export function retryAfterMs(err: unknown): number | undefined {
  const headers = (err as { headers?: Record<string, unknown> })?.headers;
  if (!headers || typeof headers !== "object") return undefined;
  const h = headers["retry-after"] ?? headers["Retry-After"];
  const s = Number(h);
  return Number.isFinite(s) && s >= 0 ? Math.min(s, 30) * 1000 : undefined;
}

export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal?.aborted) return resolve();
    const t = setTimeout(done, ms);
    function done() {
      clearTimeout(t);
      signal?.removeEventListener("abort", done);
      resolve();
    }
    signal?.addEventListener("abort", done, { once: true });
  });
}

/** What to tell a user about a refused or failed call. */
function explain(what: string, err: unknown): ClusterError {
  if (err instanceof ClusterError) return new ClusterError(`${what}: ${err.message}`, err.code, err.reason);
  const code = httpStatus(err);
  if (isApiException(err)) {
    const { message, reason } = statusBody(err);
    let hint = "";
    if (code === 401) hint = "; the credentials in the kubeconfig were refused: log in again or refresh the token";
    // RBAC's refusal ("User "x" cannot create resource ..."), not an admission plugin's (Pod Security, quota),
    // which answers 403 too and says itself what is wrong.
    if (code === 403 && /cannot [\w-]+ resource/.test(message ?? "")) hint = "; ask for a Role that grants it (the RBAC manifest in deploy/rbac.yaml lists what buildpod needs)";
    return new ClusterError(`${what}: ${message ?? `HTTP ${code}`}${hint}`, code, reason);
  }
  if (isNetworkError(err)) {
    const e = err as { message?: string; cause?: { message?: string } };
    return new ClusterError(`${what}: cannot reach the cluster API (${e.cause?.message ?? e.message})`);
  }
  return new ClusterError(`${what}: ${(err as Error)?.message ?? String(err)}`, code);
}

export interface RetryOptions {
  attempts?: number;
  signal?: AbortSignal;
}

/**
 * Runs an API call, retrying what may succeed later: 429 (honouring Retry-After), 5xx and dropped
 * connections. A 4xx other than 429 is final.
 */
export async function retry<T>(what: string, fn: () => Promise<T>, opts: RetryOptions = {}): Promise<T> {
  const attempts = opts.attempts ?? 6;
  let renewedOnce = false;
  for (let attempt = 1; ; attempt++) {
    try {
      return await fn();
    } catch (err) {
      const code = httpStatus(err);
      // Refused credentials that have just been renewed (an exec plugin run again) get one more try, at once.
      if (code === 401 && renewed(err) && !renewedOnce && !opts.signal?.aborted) {
        renewedOnce = true;
        attempt--;
        continue;
      }
      // A ClusterError comes from buildpod's side (a kubeconfig's credentials): no answer will change it.
      const retryable = !(err instanceof ClusterError) && (code === 429 || (code !== undefined && code >= 500) || (code === undefined && isNetworkError(err)));
      // Nothing listening is rarely a blip: give up sooner than on a dropped connection.
      const limit = code === undefined && isRefused(err) ? Math.min(attempts, 3) : attempts;
      if (!retryable || attempt >= limit || opts.signal?.aborted) throw explain(what, err);
      const backoff = Math.min(8000, 200 * 2 ** attempt) * (0.75 + Math.random() / 2);
      await sleep(retryAfterMs(err) ?? backoff, opts.signal);
    }
  }
}

type LogResponse = Pick<StreamResponse, "on" | "pause" | "resume" | "isPaused" | "destroy">;

/**
 * A log stream's GET: on a socket of its own, parsed by http-stream.ts; through a proxy (the kubeconfig's
 * proxy-url), by Node's client with client-node's proxy agent, speaking the same events.
 */
function openLog(url: URL, options: HttpsRequestOptions & { secureContext?: SecureContext }, proxied: boolean): LogResponse {
  const headers: Record<string, string> = { "User-Agent": `buildpod/${VERSION}`, Accept: "*/*" };
  for (const [k, v] of Object.entries((options.headers ?? {}) as Record<string, unknown>)) {
    if (v === undefined) continue;
    const value = String(v);
    // A credential with a line break would add lines to the request.
    if (/[\r\n]/.test(value)) throw new ClusterError(`the kubeconfig's ${k} header has a line break in it`);
    headers[k] = value;
  }
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

type Query = Record<string, string | number | boolean | undefined>;

const enc = encodeURIComponent;
const podsPath = (namespace: string) => `/api/v1/namespaces/${enc(namespace)}/pods`;
const jobsPath = (namespace: string) => `/apis/batch/v1/namespaces/${enc(namespace)}/jobs`;

/** The cluster API buildpod uses, bound to one kubeconfig. */
export class Cluster {
  readonly exec: Exec;
  /** Pooled connections for the API calls and watches (see transport.ts). */
  readonly transport: Transport;

  constructor(readonly kc: ClusterAccess) {
    this.transport = new Transport(kc);
    // client-node's exec client asks only for the current cluster and the request options.
    this.exec = new Exec(kc as unknown as ConstructorParameters<typeof Exec>[0]);
  }

  /** A cluster from a kubeconfig (file, KUBECONFIG, ~/.kube/config, in-cluster), or an already loaded one. */
  static async connect(opts: ConnectOptions | ClusterAccess = {}): Promise<Cluster> {
    return new Cluster("applyToHTTPSOptions" in opts ? opts : await loadKubeConfig(opts));
  }

  /**
   * One API call with retries; `what` says in the error what was being done. `onWarning` hears the
   * Warning headers of every answer.
   */
  call<T>(what: string, method: string, path: string, opts: { query?: Query; body?: unknown; signal?: AbortSignal; attempts?: number; onWarning?: (text: string) => void } = {}): Promise<T> {
    return retry(what, () => this.transport.call<T>(method, path, opts.query, opts.body, opts.signal, opts.onWarning), { signal: opts.signal, attempts: opts.attempts });
  }

  create(obj: V1Job | V1Pod, signal?: AbortSignal, onWarning?: (text: string) => void): Promise<V1Job | V1Pod> {
    const namespace = obj.metadata!.namespace!;
    const job = obj.kind === "Job";
    return this.call(`creating ${job ? "Job" : "Pod"} ${obj.metadata!.name} in namespace ${namespace}`, "POST", job ? jobsPath(namespace) : podsPath(namespace), { body: obj, signal, onWarning });
  }

  /** Admits POD as a create would, without storing it (dryRun=All). */
  async dryRunPod(pod: V1Pod, onWarning?: (text: string) => void): Promise<void> {
    const namespace = pod.metadata!.namespace!;
    await this.call(`trying the build pod in namespace ${namespace} (dry run)`, "POST", podsPath(namespace), { query: { dryRun: "All" }, body: pod, onWarning, attempts: 2 });
  }

  /** An object, or undefined when there is none. */
  private async read<T>(what: string, path: string): Promise<T | undefined> {
    try {
      return await this.call<T>(what, "GET", path);
    } catch (err) {
      if (err instanceof ClusterError && err.code === 404) return undefined;
      throw err;
    }
  }

  /** The build's Job or bare Pod as the cluster has it, or undefined when there is none. */
  async readRun(kind: "job" | "pod", name: string, namespace: string): Promise<V1Job | V1Pod | undefined> {
    if (kind === "job") return this.readJob(name, namespace);
    return this.read<V1Pod>(`reading Pod ${name}`, `${podsPath(namespace)}/${enc(name)}`);
  }

  readJob(name: string, namespace: string): Promise<V1Job | undefined> {
    return this.read<V1Job>(`reading Job ${name}`, `${jobsPath(namespace)}/${enc(name)}`);
  }

  /** A namespace, or undefined when there is none. */
  readNamespace(name: string): Promise<V1Namespace | undefined> {
    return this.read<V1Namespace>(`reading namespace ${name}`, `/api/v1/namespaces/${enc(name)}`);
  }

  /** A Secret, or undefined when there is none. */
  readSecret(name: string, namespace: string): Promise<V1Secret | undefined> {
    return this.read<V1Secret>(`reading Secret ${name}`, `/api/v1/namespaces/${enc(namespace)}/secrets/${enc(name)}`);
  }

  /** Deletes a build's Job (with its pod) or bare Pod. Resolves false when it was already gone. */
  async deleteRun(kind: "job" | "pod", name: string, namespace: string, gracePeriodSeconds = 0): Promise<boolean> {
    try {
      if (kind === "job") {
        // The pods first, with our short grace period: left to the garbage collector they would get their
        // full termination grace period.
        await this.call(`deleting the pods of Job ${name}`, "DELETE", podsPath(namespace), { query: { labelSelector: `buildpod.dev/run=${name}`, gracePeriodSeconds }, attempts: 3 });
        await this.call(`deleting Job ${name}`, "DELETE", `${jobsPath(namespace)}/${enc(name)}`, { query: { propagationPolicy: "Background" }, attempts: 3 });
      } else {
        await this.call(`deleting Pod ${name}`, "DELETE", `${podsPath(namespace)}/${enc(name)}`, { query: { gracePeriodSeconds }, attempts: 3 });
      }
      return true;
    } catch (err) {
      if (err instanceof ClusterError && err.code === 404) return false;
      throw err;
    }
  }

  listPods(namespace: string, labelSelector: string, signal?: AbortSignal): Promise<V1PodList> {
    return this.call(`listing pods (${labelSelector}) in namespace ${namespace}`, "GET", podsPath(namespace), { query: { labelSelector }, signal });
  }

  listJobs(namespace: string, labelSelector: string): Promise<V1JobList> {
    return this.call(`listing Jobs (${labelSelector}) in namespace ${namespace}`, "GET", jobsPath(namespace), { query: { labelSelector } });
  }

  /** Whether the kubeconfig's identity may do something (a SelfSubjectAccessReview). */
  async mayI(namespace: string, a: { verb: string; group?: string; resource: string; subresource?: string; name?: string }, what: string): Promise<boolean> {
    const review = await this.call<V1SelfSubjectAccessReview>(what, "POST", "/apis/authorization.k8s.io/v1/selfsubjectaccessreviews", {
      body: {
        apiVersion: "authorization.k8s.io/v1", kind: "SelfSubjectAccessReview",
        spec: { resourceAttributes: { namespace, verb: a.verb, group: a.group ?? "", resource: a.resource, subresource: a.subresource, name: a.name } },
      },
    });
    return review.status?.allowed === true;
  }

  /**
   * Watches the pods matching a label selector until the signal aborts, calling back on every change.
   * Resumes from the last resourceVersion whenever a watch ends (server timeout, dropped connection, a
   * stream silent for too long) and re-lists on 410 Gone, reporting pods that vanished meanwhile. One
   * request while nothing goes wrong.
   */
  async watchPods(namespace: string, labelSelector: string, on: { pod(p: V1Pod): void; deleted(p: V1Pod): void }, signal: AbortSignal): Promise<void> {
    const known = new Map<string, V1Pod>();
    let rv: string | undefined;
    const relist = async () => {
      const list = await this.listPods(namespace, labelSelector, signal);
      const seen = new Set<string>();
      for (const p of list.items) {
        seen.add(p.metadata!.name!);
        known.set(p.metadata!.name!, p);
        on.pod(p);
      }
      for (const [name, p] of known) {
        if (!seen.has(name)) {
          known.delete(name);
          on.deleted(p);
        }
      }
      rv = list.metadata?.resourceVersion;
    };
    // The first watch has no resourceVersion: the server starts it with the pods that exist, as ADDED
    // events, so no list is needed first (nor can the list's version be too old by the time the watch asks).
    let failures = 0;
    let renewedOnce = false;
    while (!signal.aborted) {
      const started = Date.now();
      let events = 0;
      let gone = false;
      const result: { err?: unknown } = {};
      await this.transport
        .watch(`/api/v1/namespaces/${namespace}/pods`, { labelSelector, resourceVersion: rv, allowWatchBookmarks: true, timeoutSeconds: 290 }, (type, obj) => {
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
            on.pod(obj);
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
        if (code !== undefined && code < 500 && code !== 429) throw explain(`watching pods (${labelSelector}) in namespace ${namespace}`, result.err);
        if (++failures > 8) throw explain(`watching pods (${labelSelector}) in namespace ${namespace}`, result.err);
        await sleep(retryAfterMs(result.err) ?? Math.min(8000, 200 * 2 ** failures), signal);
        continue;
      }
      failures = 0;
      renewedOnce = false;
      // A watch the server closes at once, again and again, must not turn into a busy loop.
      if (events === 0 && Date.now() - started < 1000) await sleep(500, signal);
    }
  }

  async listEvents(namespace: string, object: string): Promise<{ type: string; reason: string; message: string; count: number; fieldPath?: string }[]> {
    const list = await this.call<CoreV1EventList>(`listing events of ${object}`, "GET", `/api/v1/namespaces/${enc(namespace)}/events`, { query: { fieldSelector: `involvedObject.name=${object}` } });
    return list.items
      .sort((a: CoreV1Event, b: CoreV1Event) => new Date(a.lastTimestamp ?? a.eventTime ?? 0).getTime() - new Date(b.lastTimestamp ?? b.eventTime ?? 0).getTime())
      .map((e) => ({ type: e.type ?? "Normal", reason: e.reason ?? "", message: e.message ?? "", count: e.count ?? 1, fieldPath: e.involvedObject?.fieldPath }));
  }

  /**
   * Streams a container's log (with timestamps), chunk by chunk. Resolves when the stream ends or the
   * signal aborts; rejects with a ClusterError carrying the HTTP status, or none when the connection broke.
   * When onChunk returns a promise, reading pauses until it settles: a slow reader holds the stream back
   * instead of the log piling up in memory.
   * (Written on node:https rather than client-node's Log, whose stream errors cannot be caught.)
   */
  async streamLog(namespace: string, pod: string, container: string, opts: { follow: boolean; sinceTime?: string; tailLines?: number; signal?: AbortSignal }, onChunk: (chunk: Buffer) => void | Promise<void>): Promise<void> {
    const server = this.kc.getCurrentCluster()!.server;
    const url = new URL(`${server}${podsPath(namespace)}/${enc(pod)}/log`);
    url.searchParams.set("container", container);
    url.searchParams.set("follow", String(opts.follow));
    url.searchParams.set("timestamps", "true");
    if (opts.sinceTime) url.searchParams.set("sinceTime", opts.sinceTime);
    if (opts.tailLines !== undefined) url.searchParams.set("tailLines", String(opts.tailLines));
    const options = await this.transport.options("stream");
    const what = `reading the log of ${pod}/${container}`;
    return new Promise((resolve, reject) => {
      if (opts.signal?.aborted) return resolve();
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
      let res: LogResponse;
      try {
        res = openLog(url, options, Boolean(this.kc.getCurrentCluster()?.proxyUrl));
      } catch (err) {
        return settle(explain(what, err));
      }
      let status = 0;
      let errorBody = "";
      res.on("head", (code: number) => {
        status = code;
        // Refused credentials are renewed for the next read (followLog reads again).
        if (code === 401) this.transport.refused(options);
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

  /** Runs a command in a container, piping stdin; resolves with the exit status. */
  run(namespace: string, pod: string, container: string, command: string[], io: { stdin?: Readable; stdout?: Writable; stderr?: Writable }): Promise<V1Status> {
    return new Promise((resolve, reject) => {
      let settled = false;
      // client-node is given a stand-in that never sends: it makes the session ask for stdin, and sendStdin
      // sends the real one with back-pressure.
      const stdin = io.stdin ? new PassThrough() : null;
      this.exec
        .exec(namespace, pod, container, command, io.stdout ?? null, io.stderr ?? null, stdin, false, (status) => {
          settled = true;
          resolve(status);
        })
        .then((ws) => {
          ws.on("close", () => {
            if (!settled) reject(new ClusterError(`the connection to ${pod}/${container} closed before ${command[0]} finished`));
          });
          ws.on("error", (err: Error) => {
            if (!settled) reject(explain(`running ${command[0]} in ${pod}/${container}`, err));
          });
          if (io.stdin) {
            sendStdin(ws as unknown as ExecSocket, io.stdin).catch((err: Error) => {
              // A failed source ends the session: the command must not take a partial input for a whole one.
              if (!settled) reject(new ClusterError(`sending input to ${command[0]} in ${pod}/${container}: ${err.message}`));
              settled = true;
              ws.close();
            });
          }
        })
        .catch((err: unknown) => reject(explain(`running ${command[0]} in ${pod}/${container}`, err)));
    });
  }
}
