// Following a build to its end (and runBuild: start, follow, delete if cancelled). Many builds can run at
// once in one process; each has its own watch, log streams and timers, and reports through callbacks.
import type { V1Pod } from "@kubernetes/client-node";
import { sleep } from "./api-call.js";
import type { Cluster } from "./cluster.js";
import { slowStartMessage, type FollowEvent, type Outcome } from "./follower.js";
import { followLog } from "./logstream.js";
import type { LogGap, LogLine } from "./logs.js";
import { PodTracker } from "./pod-tracker.js";
import { LABELS } from "./render.js";
import { report } from "./report.js";
import { runPlatforms } from "./run-platforms.js";
import type { BuildRequest } from "./request/index.js";
import type { BuildResult } from "./result.js";
import { cancelBuild, startBuild, type BuildHandle, type StartOptions } from "./start.js";
import { packParts } from "./upload.js";
import { sendInput, type UploadReport } from "./upload-send.js";

export { cancelBuild, checkBuild, createBuild, findBuild, startBuild, type BuildHandle, type StartOptions } from "./start.js";
export { runPlatforms } from "./run-platforms.js";

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

export interface FollowOptions extends BuildEvents {
  signal?: AbortSignal;
  /** Seconds the pod may take to start (default: the request's, or the object's annotation). */
  startTimeout?: number;
  /** Seconds the upload of a binary input may take (default: the request's uploadTimeout). */
  uploadTimeout?: number;
  /** Lines kept of each container's log, for the failure report. */
  tailLines?: number;
  /** Retries of a disrupted pod the Job makes (default: the request's, or those a found build's Job has left). */
  retries?: number;
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
  const tracker = new PodTracker({ createdAt: handle.createdAt, startTimeout, kind: handle.kind, retries: opts.retries ?? req?.retries ?? handle.retries ?? 0 });
  const done = new Deferred<Outcome>();
  const tailSize = opts.tailLines ?? 30;
  const tails = new Map<string, string[]>();
  let podName: string | undefined;
  /** Pods of earlier attempts: their last snapshots and their deletion are no longer this build's news. */
  const retired = new Set<string>();
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
      else if (e.type === "retry") {
        // The next pod starts from nothing: its own logs, tails and upload.
        if (podName) retired.add(podName);
        podName = undefined;
        tails.clear();
        uploading = undefined;
        initChain = Promise.resolve();
        jobAt = Date.now() + 1000;
        jobGap = 1000;
      }
      else if (e.type === "readJob") {
        void cluster.readJob(handle.name, ns).then((job) => job, () => undefined).then((job) => handleEvents(tracker.feed({ type: "job", job })));
      }
      else if (e.type === "logs" && podName) {
        const target = { namespace: ns, pod: podName, container: e.container };
        const attempt = tracker.attempt;
        const onGap = (g: LogGap) => progress(`${e.container}: lines written after ${g.after} and before ${g.before} are not shown: the kubelet rotated the log (containerLogMaxSize) while the stream was reconnecting, and serves only its newest file`);
        const follow = () => followLog(cluster, target, { terminated: () => tracker.attempt !== attempt || tracker.terminated(e.container), changed, onLine: onLine(e.container), onGap, afterChunk: opts.afterLogBatch, signal: stop.signal });
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
            handleEvents(tracker.feed({ type: "uploadFailed", message: `uploading ${binary.path} failed: ${why}` }));
          });
        }
      }
    }
  };

  const observe = (pod: V1Pod) => {
    if (retired.has(pod.metadata?.name ?? "")) return;
    if (podName && pod.metadata?.name !== podName) return; // one pod at a time: ignore strays
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
        if (retired.has(pod.metadata?.name ?? "")) return;
        if (pod.metadata?.name === podName || !podName) handleEvents(tracker.deleted(Date.now()));
      },
    }, stop.signal)
    .catch((err: Error) => {
      if (!stop.signal.aborted) handleEvents(tracker.feed({ type: "watchFailed", message: err.message }));
    });

  // A Job that cannot create its pod says so only in its events, which the process's one watch of Job
  // warnings (job-warnings.ts) passes on while this build waits for its pod: from 1 s after the create (a
  // pod the cluster accepts is there within a few hundred ms), so a build that starts costs nothing.
  let unsubscribe: (() => void) | undefined;
  const jobWarnings = (now: number) => {
    const waiting = handle.kind === "job" && tracker.state === "Waiting" && !stop.signal.aborted;
    if (waiting && !unsubscribe && now >= handle.createdAt + 1000) {
      unsubscribe = cluster.jobWarnings.subscribe(ns, handle.name, (events) => !stop.signal.aborted && handleEvents(tracker.jobEvents(events, Date.now())));
    } else if (!waiting && unsubscribe) {
      unsubscribe();
      unsubscribe = undefined;
    }
  };
  // Waiting for a retry's pod, the Job itself is read, at doubling gaps up to 30 s: one that failed
  // meanwhile makes no more pods.
  let jobAt = 0;
  let jobGap = 1000;
  const lookAtJob = (now: number) => {
    if (handle.kind !== "job" || tracker.state !== "Waiting" || tracker.attempt < 2 || now < jobAt) return;
    jobGap = Math.min(jobGap * 2, 30_000);
    jobAt = now + jobGap;
    handleEvents([{ type: "readJob" }]);
  };
  const ticker = setInterval(() => {
    const now = Date.now();
    jobWarnings(now);
    lookAtJob(now);
    handleEvents(tracker.tick(now));
  }, 1000);
  const cancelled = new Promise<Outcome>((resolve) => {
    if (outer.aborted) resolve({ status: "Cancelled", reason: "Cancelled", message: "the build was cancelled" });
    outer.addEventListener("abort", () => resolve({ status: "Cancelled", reason: "Cancelled", message: "the build was cancelled" }), { once: true });
  });

  const outcome = await Promise.race([done.promise, cancelled]);
  clearInterval(ticker);
  unsubscribe?.();
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

  return report(cluster, handle, outcome, {
    pod: tracker.pod, podName, tails, tailSize, container: (name) => tracker.container(name), attempt: tracker.attempt,
  }, progress);
}

export interface RunOptions extends StartOptions, FollowOptions {
  /** Delete the build when the signal aborts (default: true). */
  deleteOnCancel?: boolean;
}

/**
 * Starts a build, follows it to its end, and deletes it if cancelled. A build for several platforms is
 * one build per platform and an image index of them (core/run-platforms.ts).
 */
export async function runBuild(cluster: Cluster, req: BuildRequest, opts: RunOptions = {}): Promise<BuildResult> {
  const start: RunOptions = {
    onWarning: (w) => opts.onProgress?.(`the cluster warns: ${w}`),
    onSkippedCheck: (s) => opts.onProgress?.(`not checked beforehand: ${s}`),
    ...opts,
  };
  if (req.output.platforms.length > 1) return runPlatforms(cluster, req, start);
  const handle = await startBuild(cluster, req, start);
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
