// The edge to the cluster: the operations buildpod does there (pods, Jobs, namespaces, Secrets, events,
// access reviews, the pod watch, log streams, exec), each call through api-call.ts's retries.
import type { CoreV1Event, CoreV1EventList, V1ConfigMap, V1Job, V1JobList, V1Namespace, V1Pod, V1PodList, V1Secret, V1SelfSubjectAccessReview, V1Status } from "@kubernetes/client-node";
// Only the exec client: client-node's index loads its whole generated API.
import { Exec } from "@kubernetes/client-node/dist/exec.js";
import { PassThrough, type Readable, type Writable } from "node:stream";
import { explain, retry, sleep } from "./api-call.js";
import { ClusterError } from "./errors.js";
import { sendStdin, type ExecSocket } from "./exec-stdin.js";
import { loadKubeConfig, type ClusterAccess, type ConnectOptions } from "./kubeconfig.js";
import { streamContainerLog, type LogQuery } from "./log-request.js";
import { Transport } from "./transport.js";
import { watchList } from "./watch.js";
import { JOB_WARNINGS, JobWarnings } from "./job-warnings.js";

export { ClusterError, sleep };

export { loadKubeConfig, type ClusterAccess, type ConnectOptions };

/** The namespace the kubeconfig's current context names, if any. */
export function contextNamespace(kc: ClusterAccess): string | undefined {
  const ctx = kc.getContextObject(kc.getCurrentContext());
  return ctx?.namespace || undefined;
}

type Query = Record<string, string | number | boolean | undefined>;

const enc = encodeURIComponent;
const podsPath = (namespace: string) => `/api/v1/namespaces/${enc(namespace)}/pods`;
const jobsPath = (namespace: string) => `/apis/batch/v1/namespaces/${enc(namespace)}/jobs`;

const eventTime = (e: CoreV1Event) => new Date(e.lastTimestamp ?? e.eventTime ?? 0).getTime();

/** The cluster API buildpod uses, bound to one kubeconfig. */
export class Cluster {
  readonly exec: Exec;
  /** Pooled connections for the API calls and watches (see transport.ts). */
  readonly transport: Transport;
  private warnings?: JobWarnings;

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

  /** Changes a Job by a JSON merge patch. */
  patchJob(name: string, namespace: string, patch: unknown, signal?: AbortSignal): Promise<V1Job> {
    return this.call(`updating Job ${name} in namespace ${namespace}`, "PATCH", `${jobsPath(namespace)}/${enc(name)}`, { body: patch, signal, attempts: 3 });
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

  /** A ConfigMap, or undefined when there is none. */
  readConfigMap(name: string, namespace: string): Promise<V1ConfigMap | undefined> {
    return this.read<V1ConfigMap>(`reading ConfigMap ${name}`, `/api/v1/namespaces/${enc(namespace)}/configmaps/${enc(name)}`);
  }

  /** Deletes a build's Job (with its pod) or bare Pod. Resolves false when it was already gone. */
  async deleteRun(kind: "job" | "pod", name: string, namespace: string, gracePeriodSeconds = 0): Promise<boolean> {
    try {
      if (kind === "job") {
        // The pods first, with our short grace period: left to the garbage collector they would get their
        // full termination grace period. Those of the Jobs it owns too, for a multi-platform build's index.
        await Promise.all(["buildpod.dev/run", "buildpod.dev/index"].map((label) =>
          this.call(`deleting the pods of Job ${name}`, "DELETE", podsPath(namespace), { query: { labelSelector: `${label}=${name}`, gracePeriodSeconds }, attempts: 3 })));
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
   * Watches the pods matching a label selector until the signal aborts, calling back on every change
   * (watch.ts: one request while nothing goes wrong, resumed and re-listed as needed).
   */
  watchPods(namespace: string, labelSelector: string, on: { pod(p: V1Pod): void; deleted(p: V1Pod): void }, signal: AbortSignal): Promise<void> {
    return watchList<V1Pod>(this.transport, {
      what: `watching pods (${labelSelector}) in namespace ${namespace}`,
      path: podsPath(namespace),
      query: { labelSelector },
      list: (s) => this.listPods(namespace, labelSelector, s),
    }, { changed: on.pod, deleted: on.deleted }, signal);
  }

  /** The shared watch of FailedCreate events on Jobs (job-warnings.ts), made on first use. */
  get jobWarnings(): JobWarnings {
    const path = (ns: string) => `/api/v1/namespaces/${enc(ns)}/events`;
    const list = async (ns: string, signal?: AbortSignal) => {
      const l = await this.call<CoreV1EventList>(`listing Job warnings in namespace ${ns}`, "GET", path(ns), { query: { fieldSelector: JOB_WARNINGS }, signal });
      return { ...l, items: l.items.sort((a, b) => eventTime(a) - eventTime(b)) };
    };
    return (this.warnings ??= new JobWarnings({
      list: async (ns, signal) => (await list(ns, signal)).items,
      watch: (ns, on, signal) => watchList<CoreV1Event>(this.transport, {
        what: `watching Job warnings in namespace ${ns}`, path: path(ns), query: { fieldSelector: JOB_WARNINGS }, list: (s) => list(ns, s),
      }, { changed: on, deleted: () => {} }, signal),
    }));
  }

  async listEvents(namespace: string, object: string): Promise<{ type: string; reason: string; message: string; count: number; fieldPath?: string }[]> {
    const list = await this.call<CoreV1EventList>(`listing events of ${object}`, "GET", `/api/v1/namespaces/${enc(namespace)}/events`, { query: { fieldSelector: `involvedObject.name=${object}` } });
    return list.items
      .sort((a, b) => eventTime(a) - eventTime(b))
      .map((e) => ({ type: e.type ?? "Normal", reason: e.reason ?? "", message: e.message ?? "", count: e.count ?? 1, fieldPath: e.involvedObject?.fieldPath }));
  }

  /** Streams a container's log, chunk by chunk (see log-request.ts). */
  streamLog(namespace: string, pod: string, container: string, opts: LogQuery, onChunk: (chunk: Buffer) => void | Promise<void>): Promise<void> {
    return streamContainerLog(this.kc, this.transport, namespace, pod, container, opts, onChunk);
  }

  /**
   * Runs a command in a container, piping stdin; resolves with the exit status, whose message ends with
   * the command's last 2000 bytes of stderr when it failed. The session always asks for stderr: the test
   * cluster's real API server and kubelet refuse one with no stream at all ("Unexpected server response: 400").
   */
  run(namespace: string, pod: string, container: string, command: string[], io: { stdin?: Readable; stdout?: Writable } = {}): Promise<V1Status> {
    return new Promise((resolve, reject) => {
      let settled = false;
      // client-node is given a stand-in that never sends: it makes the session ask for stdin, and sendStdin
      // sends the real one with back-pressure.
      const stdin = io.stdin ? new PassThrough() : null;
      let errText = "";
      const stderr = new PassThrough();
      stderr.on("data", (d: Buffer) => (errText = (errText + d.toString()).slice(-2000)));
      this.exec
        .exec(namespace, pod, container, command, io.stdout ?? null, stderr, stdin, false, (status) => {
          settled = true;
          const said = errText.trim();
          resolve(status.status !== "Success" && said ? { ...status, message: status.message ? `${status.message}: ${said}` : said } : status);
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
