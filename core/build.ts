// A build's life on the cluster: start it, follow it to its end, cancel it. Many builds can run at
// once in one process; each has its own watch, log streams and timers, and reports through callbacks.
import type { V1Job, V1Pod } from "@kubernetes/client-node";
import { randomUUID } from "node:crypto";
import { ClusterError, sleep, type Cluster } from "./cluster.js";
import { PodTracker, slowStartMessage, type FollowEvent, type Outcome } from "./follower.js";
import { followLog } from "./logstream.js";
import type { LogLine } from "./logs.js";
import { preflight } from "./preflight.js";
import { ANNOTATIONS, LABELS, newRunId, render } from "./render.js";
import type { BuildRequest } from "./request.js";
import { digestFromMessage, imageWithDigest, sourceFromMessage, type BuildResult } from "./result.js";
import { packParts } from "./upload.js";
import { sendInput, type UploadReport } from "./upload-send.js";

export interface BuildHandle {
  /** The Job's (or bare Pod's) name: the build's name and a run id. */
  name: string;
  namespace: string;
  kind: "job" | "pod";
  /** When the build was created (ms since epoch). */
  createdAt: number;
  request?: BuildRequest;
}

export interface BuildEvents {
  /** A step of the build: scheduled, container started, finished, waiting for a reason... */
  onProgress?(message: string): void;
  /** One line of a container's log, exactly once, in order. */
  onLog?(container: string, line: LogLine): void;
  /**
   * Called after each batch of log lines: a promise it returns pauses reading the logs until it settles,
   * for a consumer slower than the log (a pipe), so that lines do not pile up in memory.
   */
  afterLogBatch?(): Promise<void> | void;
  /** The binary input arrived in the pod: what went and how long it took, for callers that measure it. */
  onUpload?(report: UploadReport): void;
}

export type { UploadReport };

export interface StartOptions {
  /** Run id (default: random). */
  id?: string;
  /** Check access, namespace, secrets and Pod Security first (default: true). */
  preflight?: boolean;
  signal?: AbortSignal;
  /** Annotations to add to the Job or Pod, e.g. who started it. */
  annotations?: Record<string, string>;
  /**
   * What the API server warns of when the build is created: a Pod Security level the namespace warns at
   * ("would violate PodSecurity ..."), deprecated or unknown fields. Each warning once, even if the create
   * was retried. runBuild passes them to onProgress.
   */
  onWarning?(text: string): void;
}

export interface FollowOptions extends BuildEvents {
  signal?: AbortSignal;
  /** Seconds the pod may take to start (default: the request's, or the object's annotation). */
  startTimeout?: number;
  /** Seconds the upload of a binary input may take (default: the request's uploadTimeout). */
  uploadTimeout?: number;
  /** Lines kept of each container's log, for the failure report. */
  tailLines?: number;
}

/** Creates the build's Job (or Pod). */
export async function startBuild(cluster: Cluster, req: BuildRequest, opts: StartOptions = {}): Promise<BuildHandle> {
  if (opts.preflight !== false) await preflight(cluster, req);
  const obj = render(req, { id: opts.id ?? newRunId() });
  if (opts.annotations) {
    Object.assign(obj.metadata!.annotations!, opts.annotations);
    if (obj.kind === "Job") Object.assign((obj as V1Job).spec!.template.metadata!.annotations!, opts.annotations);
  }
  // A create whose answer was lost (dropped connection, timeout, 5xx after the write) is retried and then
  // meets its own object: the token tells our object from someone else's of the same name.
  const token = randomUUID();
  obj.metadata!.annotations![ANNOTATIONS.createToken] = token;
  const createdAt = Date.now();
  const warned = new Set<string>();
  const onWarning = (text: string) => {
    if (warned.has(text)) return;
    warned.add(text);
    opts.onWarning?.(text);
  };
  try {
    await cluster.create(obj, opts.signal, onWarning);
  } catch (err) {
    if (!(err instanceof ClusterError && err.code === 409)) throw err;
    const existing = await cluster.readRun(req.workload, obj.metadata!.name!, req.namespace).catch(() => undefined);
    if (existing?.metadata?.annotations?.[ANNOTATIONS.createToken] !== token) {
      throw new ClusterError(`a build named ${obj.metadata!.name} already exists in namespace ${req.namespace}; use another run id`, 409, "AlreadyExists");
    }
  }
  return { name: obj.metadata!.name!, namespace: req.namespace, kind: req.workload, createdAt, request: req };
}

/** Deletes the build and its pod. Resolves with what was deleted. */
export async function cancelBuild(cluster: Cluster, handle: Pick<BuildHandle, "name" | "namespace" | "kind">): Promise<string[]> {
  const pods = await cluster.listPods(handle.namespace, `${LABELS.run}=${handle.name}`).catch(() => ({ items: [] as V1Pod[] }));
  const gone = await cluster.deleteRun(handle.kind, handle.name, handle.namespace, 1);
  if (!gone) return [];
  const names = pods.items.map((p) => `pod/${p.metadata!.name}`);
  return [`${handle.kind}/${handle.name}`, ...(handle.kind === "job" ? names : [])];
}

/** Finds a build by its run name: a Job, or a bare Pod. */
export async function findBuild(cluster: Cluster, name: string, namespace: string): Promise<BuildHandle | undefined> {
  const job = await cluster.readJob(name, namespace);
  if (job) return { name, namespace, kind: "job", createdAt: new Date(job.metadata?.creationTimestamp ?? Date.now()).getTime() };
  const pods = await cluster.listPods(namespace, `${LABELS.run}=${name}`);
  const pod = pods.items.find((p) => p.metadata?.name === name);
  if (pod) return { name, namespace, kind: "pod", createdAt: new Date(pod.metadata?.creationTimestamp ?? Date.now()).getTime() };
  return undefined;
}

/**
 * Resolves when `done` does, or once `progress()` has stayed the same for `idleMs`. Leaves no timer
 * behind: a pending one would keep a command's process alive after its work is done.
 */
async function settledOrIdle(done: Promise<unknown>, progress: () => number, idleMs: number): Promise<void> {
  let finished = false;
  void done.then(() => (finished = true));
  for (let seen = -1; !finished && seen !== progress(); ) {
    seen = progress();
    const timer = new AbortController();
    await Promise.race([done, sleep(idleMs, timer.signal)]);
    timer.abort();
  }
}

class Deferred<T> {
  resolve!: (v: T) => void;
  readonly promise = new Promise<T>((r) => (this.resolve = r));
}

function podTimes(pod: V1Pod | undefined, createdAt: number): { startedAt?: string; finishedAt?: string; durationSeconds?: number } {
  const all = [...(pod?.status?.initContainerStatuses ?? []), ...(pod?.status?.containerStatuses ?? [])];
  const finished = all.map((s) => s.state?.terminated?.finishedAt).filter(Boolean).map((d) => new Date(d as unknown as string).getTime());
  const end = finished.length ? Math.max(...finished) : Date.now();
  return {
    startedAt: new Date(createdAt).toISOString(),
    finishedAt: new Date(end).toISOString(),
    durationSeconds: Math.round((end - createdAt) / 100) / 10,
  };
}

/**
 * Follows a build to its end and reports the result. Uploads the binary input when the handle carries a
 * request with one. Aborting the signal stops following and yields a Cancelled result (the caller
 * deletes the build: see runBuild).
 */
export async function followBuild(cluster: Cluster, handle: BuildHandle, opts: FollowOptions = {}): Promise<BuildResult> {
  const req = handle.request;
  const ns = handle.namespace;
  const outer = opts.signal ?? new AbortController().signal;
  const stop = new AbortController();
  const onOuterAbort = () => stop.abort();
  outer.addEventListener("abort", onOuterAbort, { once: true });
  const startTimeout = opts.startTimeout ?? req?.startTimeout ?? 300;
  const tracker = new PodTracker({ createdAt: handle.createdAt, startTimeout });
  const done = new Deferred<Outcome>();
  const tailSize = opts.tailLines ?? 30;
  const tails = new Map<string, string[]>();
  let podName: string | undefined;
  let waiters: (() => void)[] = [];
  const changed = () => new Promise<void>((r) => waiters.push(r));
  const logTasks: Promise<unknown>[] = [];
  let initChain: Promise<unknown> = Promise.resolve();
  let uploading: Promise<void> | undefined;

  const progress = (m: string) => opts.onProgress?.(m);
  let delivered = 0;
  const onLine = (container: string) => {
    const tail = tails.get(container) ?? [];
    tails.set(container, tail);
    return (line: LogLine) => {
      delivered++;
      // Trimmed now and then rather than shifted on every line of what can be millions.
      if (tail.push(line.text) >= 2 * tailSize + 16) tail.splice(0, tail.length - tailSize);
      opts.onLog?.(container, line);
    };
  };

  const handleEvents = (events: FollowEvent[]) => {
    for (const e of events) {
      if (e.type === "progress") progress(e.message);
      else if (e.type === "slowStart" && podName) {
        // One look at the pod's events, only for a start slow enough to wonder about.
        const pod = podName;
        void cluster.listEvents(ns, pod).then((list) => {
          if (stop.signal.aborted) return;
          progress(`[${tracker.elapsed(Date.now())}] ${slowStartMessage(e.container, list)}`);
          handleEvents(tracker.podEvents(list));
        }, () => undefined);
      }
      else if (e.type === "done") done.resolve(e.outcome);
      else if (e.type === "logs" && podName) {
        const target = { namespace: ns, pod: podName, container: e.container };
        const follow = () => followLog(cluster, target, { terminated: () => tracker.terminated(e.container), changed, onLine: onLine(e.container), afterChunk: opts.afterLogBatch, signal: stop.signal });
        // Init containers run one after another, and their logs are shown the same way, before the build's.
        const task = initChain.then(follow, follow);
        if (e.init) initChain = task;
        logTasks.push(task.catch((err: Error) => progress(`could not read the log of ${e.container}: ${err.message}`)));
        if (e.container === "source" && req?.source.binary && !uploading) {
          const binary = req.source.binary;
          const dockerfile = req.strategy.type === "docker" && req.source.dockerfile === undefined ? req.strategy.dockerfile : undefined;
          const uploadTimeout = (opts.uploadTimeout ?? req.uploadTimeout) * 1000;
          const guard = AbortSignal.any([stop.signal, AbortSignal.timeout(uploadTimeout)]);
          progress(`uploading ${binary.path}`);
          uploading = sendInput(cluster, ns, podName, () => packParts(binary, req.source.contextDir, dockerfile), progress, guard).then((report) => opts.onUpload?.(report), (err: Error) => {
            if (stop.signal.aborted) return;
            const why = guard.aborted ? `it did not finish within ${uploadTimeout / 1000}s` : err.message;
            handleEvents([tracker.finish({ status: "StartFailed", reason: "UploadFailed", message: `uploading ${binary.path} failed: ${why}` })]);
          });
        }
      }
    }
  };

  const observe = (pod: V1Pod) => {
    if (podName && pod.metadata?.name !== podName) return; // one pod per build: ignore strays
    podName = pod.metadata?.name;
    handleEvents(tracker.observe(pod, Date.now()));
    const w = waiters;
    waiters = [];
    for (const r of w) r();
  };

  const watching = cluster
    .watchPods(ns, `${LABELS.run}=${handle.name}`, {
      pod: observe,
      deleted: (pod) => {
        if (pod.metadata?.name === podName || !podName) handleEvents(tracker.deleted(Date.now()));
      },
    }, stop.signal)
    .catch((err: Error) => {
      if (!stop.signal.aborted) handleEvents([tracker.finish({ status: "Error", reason: "FollowFailed", message: `lost track of the build: ${err.message}` })]);
    });

  // A Job that cannot create its pod says so only in its events. Looked at while no pod has appeared: after
  // 1 s (a pod the cluster accepts is there within a few hundred ms), then at doubling gaps up to 30 s, so a
  // build waiting on a full quota costs a handful of requests, and a build that starts costs none.
  let eventsAt = handle.createdAt + 1000;
  let eventsGap = 1000;
  const lookAtJob = (now: number) => {
    if (handle.kind !== "job" || tracker.state !== "Waiting" || now < eventsAt) return;
    eventsGap = Math.min(eventsGap * 2, 30_000);
    eventsAt = now + eventsGap;
    void cluster.listEvents(ns, handle.name).then((list) => !stop.signal.aborted && handleEvents(tracker.jobEvents(list, Date.now())), () => undefined);
  };
  const ticker = setInterval(() => {
    const now = Date.now();
    lookAtJob(now);
    handleEvents(tracker.tick(now));
  }, 1000);
  const cancelled = new Promise<Outcome>((resolve) => {
    if (outer.aborted) resolve({ status: "Cancelled", reason: "Cancelled", message: "the build was cancelled" });
    outer.addEventListener("abort", () => resolve({ status: "Cancelled", reason: "Cancelled", message: "the build was cancelled" }), { once: true });
  });

  let outcome = await Promise.race([done.promise, cancelled]);
  clearInterval(ticker);
  if (outcome.status === "Complete" || outcome.status === "Failed") {
    // The containers have ended: their logs end too. (A build that failed to start may have a container
    // still waiting, whose log would not end until the build is deleted.) Wait for the streams to deliver
    // the last lines for as long as lines keep coming (a big log takes a while), but not on streams silent
    // for a minute (a connection gone quiet; a slow server can take a while before its first byte).
    await settledOrIdle(Promise.allSettled(logTasks), () => delivered, 60_000);
  }
  stop.abort();
  outer.removeEventListener("abort", onOuterAbort);
  await watching;

  const pod = tracker.pod;
  // A Job past its deadline has its pod killed: the Job, not the pod, says why. Since Kubernetes 1.31 the Job
  // controller writes FailureTarget first, deletes the pod, and writes Failed only once the pod is gone, so
  // either condition decides.
  if (handle.kind === "job" && (outcome.status === "Failed" || outcome.reason === "Deleted") && (pod?.metadata?.deletionTimestamp || outcome.reason === "Deleted")) {
    const job = await cluster.readJob(handle.name, ns).catch(() => undefined);
    const failed = job?.status?.conditions?.find((c) => (c.type === "Failed" || c.type === "FailureTarget") && c.status === "True");
    if (failed?.reason === "DeadlineExceeded") {
      outcome = { status: "Failed", reason: "DeadlineExceeded", message: `the build ran out of time (${job?.spec?.activeDeadlineSeconds}s) and was stopped; raise the timeout or make the build faster` };
    }
  }
  const events: string[] = [];
  if (outcome.status === "StartFailed" && podName) {
    for (const e of await cluster.listEvents(ns, podName).catch(() => [])) {
      if (e.type === "Warning") events.push(`[${e.type}][${ns}/${podName}][${e.reason}] ${e.message}${e.count > 1 ? ` (x${e.count})` : ""}`);
    }
    for (const e of events) progress(e);
  }

  const meta = pod?.metadata;
  const image = req?.output.image ?? meta?.annotations?.[ANNOTATIONS.image] ?? "";
  const src = sourceFromMessage(tracker.container("source")?.state?.terminated?.message);
  const digest = digestFromMessage(tracker.container("build")?.state?.terminated?.message);
  const result: BuildResult = {
    status: outcome.status,
    reason: outcome.reason,
    message: outcome.message,
    image,
    tags: req?.output.tags ?? [],
    source: {
      uri: req?.source.git?.url ?? meta?.annotations?.[ANNOTATIONS.source],
      ref: req?.source.git?.ref ?? meta?.annotations?.[ANNOTATIONS.ref],
      ...src,
    },
    build: req?.name ?? meta?.labels?.[LABELS.build] ?? handle.name,
    run: handle.name,
    pod: podName,
    namespace: ns,
    ...podTimes(pod, handle.createdAt),
  };
  if (outcome.exitCode !== undefined) result.exitCode = outcome.exitCode;
  if (outcome.failedContainer) {
    result.failedContainer = outcome.failedContainer;
    const tail = tails.get(outcome.failedContainer) ?? [];
    result.logTail = tail.slice(Math.max(0, tail.length - tailSize));
  }
  if (outcome.status === "StartFailed" && events.length) result.logTail = events;
  if (digest) {
    result.digest = digest;
    result.imageRef = imageWithDigest(image, digest);
  } else if (outcome.status === "Complete") {
    const strategy = req?.strategy.type ?? meta?.labels?.[LABELS.strategy];
    if (strategy === "custom") {
      result.message = "the build completed, but the custom builder reported no digest in its termination message";
    } else {
      Object.assign(result, { status: "Error", reason: "NoDigest", message: "the build completed but did not report the pushed image's digest" });
    }
  }
  return result;
}

export interface RunOptions extends StartOptions, FollowOptions {
  /** Delete the build when the signal aborts (default: true). */
  deleteOnCancel?: boolean;
}

/** Starts a build, follows it to its end, and deletes it if cancelled. */
export async function runBuild(cluster: Cluster, req: BuildRequest, opts: RunOptions = {}): Promise<BuildResult> {
  const handle = await startBuild(cluster, req, { onWarning: (w) => opts.onProgress?.(`the cluster warns: ${w}`), ...opts });
  opts.onProgress?.(`created ${handle.kind} ${handle.name} in namespace ${handle.namespace}`);
  const result = await followBuild(cluster, handle, opts);
  // A cancelled build must stop; a build that failed to start must not start later and push anyway.
  if ((result.status === "Cancelled" && opts.deleteOnCancel !== false) || result.status === "StartFailed") {
    const deleted = await cancelBuild(cluster, handle).catch((err: Error) => {
      opts.onProgress?.(`could not delete ${handle.name}: ${err.message}; delete it with: kubectl -n ${handle.namespace} delete ${handle.kind} ${handle.name}`);
      return [];
    });
    if (deleted.length) opts.onProgress?.(`deleted ${deleted.join(", ")}`);
  }
  return result;
}
