// The fault proxy (test/cluster/cmd/faultproxy) in front of the test cluster's API server without a watch
// cache: on the host's loopback, with the API server's own certificate (valid for 127.0.0.1), so that a
// kubeconfig pointing at it differs from the cluster's in the server address only. The tests set its
// faults over HTTP; see Fault for what it can do.
import { readFileSync } from "node:fs";
import { request } from "node:https";
import { startDaemon, waitFor, type Daemon } from "./daemon.js";
import type { ClusterPki } from "./pki.js";

interface Match {
  /** Regular expression tested against the request's path (without the query string). */
  path?: string;
  /** Regular expression tested against the raw query string ("sinceTime=": a resumed log stream). */
  query?: string;
  /** HTTP method, e.g. "GET". */
  method?: string;
  /** Kubernetes verb, as the API server derives it: get, list, watch, create, update, patch, delete, ... */
  verb?: string;
  /** Used up after this many requests; without it, the fault stays until cleared. */
  count?: number;
}

export type Fault =
  /** Answer with STATUS (default 500) and a Status object, without forwarding. */
  | ({ kind: "error"; status?: number; message?: string } & Match)
  /** Answer 429 with Retry-After, without forwarding. */
  | ({ kind: "tooManyRequests"; retryAfterSeconds?: number } & Match)
  /** Forward, let the server act, then close the connection without its answer. */
  | ({ kind: "loseAnswer" } & Match)
  /** Hold the request, then forward it. Without a match, every request: a slow cluster. */
  | ({ kind: "delay"; ms: number } & Match)
  /**
   * End a watch after AFTEREVENTS events, as a server ends one that timed out. With COMPACT, etcd is compacted
   * first: the watch resumed from the last resourceVersion seen gets etcd's own 410 Gone.
   */
  | ({ kind: "dropWatch"; afterEvents: number; compact?: boolean } & Match)
  /** Cut a log stream after AFTERBYTES bytes: "destroy" breaks the connection, "end" ends it cleanly. */
  | ({ kind: "cutLog"; afterBytes: number; mode?: "destroy" | "end" } & Match);

/** What the proxy saw since its stats were reset. */
export interface FaultStats {
  /** Requests by verb. */
  requests: Record<string, number>;
  /** Faults applied, by kind. */
  applied: Record<string, number>;
  /** 410 Gone answers from the API server (HTTP 410, or a watch's ERROR event with code 410). */
  gone: number;
}

/** The tests' side of the proxy. */
export interface FaultControl {
  add(f: Fault | Fault[]): Promise<void>;
  clear(): Promise<void>;
  stats(): Promise<FaultStats>;
  resetStats(): Promise<void>;
}

export interface FaultProxy extends FaultControl {
  /** https://127.0.0.1:PORT */
  url: string;
  stop(): Promise<void>;
}

export interface FaultProxyOptions {
  binary: string;
  logDir: string;
  pki: ClusterPki;
  /** The API server it stands in front of. */
  upstream: string;
  /** etcd's client URL, for compactions. */
  etcdUrl: string;
}

export async function startFaultProxy(o: FaultProxyOptions): Promise<FaultProxy> {
  const d: Daemon = startDaemon("faultproxy", [o.binary, "--listen=127.0.0.1:0", `--upstream=${o.upstream}`,
    `--ca=${o.pki.caPath}`, `--cert=${o.pki.apiserver.cert}`, `--key=${o.pki.apiserver.key}`, `--etcd=${o.etcdUrl}`], { logDir: o.logDir });
  let url = "";
  await waitFor("the fault proxy", async () => {
    const m = /listening on (\S+)/.exec(readFileSync(d.logPath, "utf8"));
    if (m) url = `https://${m[1]}`;
    return m !== null;
  }, [d], 10_000);
  return { url, ...faultControl(url, o.pki.caPath), stop: () => d.stop() };
}

/** The controls of the proxy at URL (whose certificate CAPATH's CA signed). */
export function faultControl(url: string, caPath: string): FaultControl {
  const ca = readFileSync(caPath);
  const control = (method: string, path: string, body?: unknown) => new Promise<string>((resolve, reject) => {
    const req = request(`${url}${path}`, { method, ca, headers: { "content-type": "application/json" } }, (res) => {
      let text = "";
      res.on("data", (c: Buffer) => (text += c.toString()));
      res.on("end", () => (res.statusCode! < 300 ? resolve(text) : reject(new Error(`fault proxy: ${method} ${path}: ${res.statusCode} ${text}`))));
    });
    req.on("error", reject);
    req.end(body === undefined ? undefined : JSON.stringify(body));
  });
  return {
    add: async (f) => void (await control("POST", "/_test/faults", f)),
    clear: async () => void (await control("DELETE", "/_test/faults")),
    stats: async () => JSON.parse(await control("GET", "/_test/stats")) as FaultStats,
    resetStats: async () => void (await control("DELETE", "/_test/stats")),
  };
}
