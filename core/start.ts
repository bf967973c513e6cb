// Starting a build on the cluster, finding one by its name, and cancelling one.
import type { V1Job, V1Pod } from "@kubernetes/client-node";
import { randomUUID } from "node:crypto";
import type { Cluster } from "./cluster.js";
import { ClusterError } from "./errors.js";
import { INDEX_LABEL } from "./multi-platform.js";
import { dryRunPod, preflight } from "./preflight.js";
import { ANNOTATIONS, LABELS, newRunId, render } from "./render.js";
import type { BuildRequest } from "./request/index.js";

export interface BuildHandle {
  /** The Job's (or bare Pod's) name: the build's name and a run id. */
  name: string;
  namespace: string;
  kind: "job" | "pod";
  /** When the build was created (ms since epoch). */
  createdAt: number;
  request?: BuildRequest;
  /** For a build found rather than started: the retries its Job has left (backoffLimit, less its failures). */
  retries?: number;
  /** The object's uid, as created: what an owner reference names. */
  uid?: string;
}

export interface StartOptions {
  /** Run id (default: random). */
  id?: string;
  /**
   * Check access, namespace and secrets first, and try the pod in a server-side dry run (default: true).
   */
  preflight?: boolean;
  /** A check the preflight could not make, and why: each once per cluster connection. */
  onSkippedCheck?(text: string): void;
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

/** A request checked by the preflight, placed where it runs, and whether its pod may be tried in a dry run. */
export interface CheckedRequest {
  req: BuildRequest;
  mayDryRun: boolean;
}

/** The preflight's checks (unless turned off), and the build placed: natively where it can be. */
export async function checkBuild(cluster: Cluster, req: BuildRequest, opts: Pick<StartOptions, "preflight" | "onSkippedCheck"> = {}): Promise<CheckedRequest> {
  const checked = opts.preflight !== false ? await preflight(cluster, req) : undefined;
  for (const s of checked?.skipped ?? []) sayOnce(cluster, s, opts.onSkippedCheck);
  // --emulate with a node of the platform at hand: the build runs there, natively.
  const placed = checked?.placement === "native" && req.scheduling.emulate ? { ...req, scheduling: { ...req.scheduling, emulate: false } } : req;
  return { req: placed, mayDryRun: checked?.mayDryRun ?? false };
}

/** Creates the build's Job (or Pod). */
export async function startBuild(cluster: Cluster, req: BuildRequest, opts: StartOptions = {}): Promise<BuildHandle> {
  if (req.output.platforms.length > 1) {
    throw new Error(`startBuild makes one platform's build; a build for ${req.output.platforms.join(", ")} is run by runBuild (or runPlatforms)`);
  }
  const checked = await checkBuild(cluster, req, opts);
  return createBuild(cluster, checked.req, render(checked.req, { id: opts.id ?? newRunId() }), { ...opts, mayDryRun: checked.mayDryRun });
}

/**
 * Creates OBJ, the rendered build of REQ, with the caller's annotations; tries its pod in a dry run first
 * where the preflight allowed it.
 */
export async function createBuild(cluster: Cluster, req: BuildRequest, obj: V1Job | V1Pod, opts: StartOptions & { mayDryRun?: boolean }): Promise<BuildHandle> {
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
  if (opts.mayDryRun) await dryRunPod(cluster, obj, onWarning);
  let created: V1Job | V1Pod;
  try {
    created = await cluster.create(obj, opts.signal, onWarning);
  } catch (err) {
    if (!(err instanceof ClusterError && err.code === 409)) throw err;
    const existing = await cluster.readRun(req.workload, obj.metadata!.name!, req.namespace).catch(() => undefined);
    if (!existing || existing.metadata?.annotations?.[ANNOTATIONS.createToken] !== token) {
      throw new ClusterError(`a build named ${obj.metadata!.name} already exists in namespace ${req.namespace}; use another run id`, 409, "AlreadyExists");
    }
    created = existing;
  }
  return { name: obj.metadata!.name!, namespace: req.namespace, kind: req.workload, createdAt, request: req, uid: created.metadata?.uid };
}

const said = new WeakMap<Cluster, Set<string>>();
function sayOnce(cluster: Cluster, text: string, say?: (text: string) => void): void {
  let seen = said.get(cluster);
  if (!seen) said.set(cluster, (seen = new Set()));
  if (seen.has(text)) return;
  seen.add(text);
  say?.(text);
}

/** Deletes the build and its pod. Resolves with what was deleted. */
export async function cancelBuild(cluster: Cluster, handle: Pick<BuildHandle, "name" | "namespace" | "kind">): Promise<string[]> {
  // Its pods, and for a multi-platform build's index those of the platforms' Jobs it owns.
  const lists = await Promise.all([LABELS.run, INDEX_LABEL].map((label) => cluster.listPods(handle.namespace, `${label}=${handle.name}`).catch(() => ({ items: [] as V1Pod[] }))));
  const gone = await cluster.deleteRun(handle.kind, handle.name, handle.namespace, 1);
  if (!gone) return [];
  const names = lists.flatMap((l) => l.items).map((p) => `pod/${p.metadata!.name}`);
  return [`${handle.kind}/${handle.name}`, ...(handle.kind === "job" ? names : [])];
}

/** Finds a build by its run name: a Job, or a bare Pod. */
export async function findBuild(cluster: Cluster, name: string, namespace: string): Promise<BuildHandle | undefined> {
  const job = await cluster.readJob(name, namespace);
  if (job) {
    // Only a Job made with --retries carries a pod failure policy; its backoffLimit is then the retries.
    const retries = job.spec?.podFailurePolicy ? Math.max(0, (job.spec.backoffLimit ?? 0) - (job.status?.failed ?? 0)) : 0;
    return { name, namespace, kind: "job", createdAt: new Date(job.metadata?.creationTimestamp ?? Date.now()).getTime(), retries };
  }
  const pods = await cluster.listPods(namespace, `${LABELS.run}=${name}`);
  const pod = pods.items.find((p) => p.metadata?.name === name);
  if (pod) return { name, namespace, kind: "pod", createdAt: new Date(pod.metadata?.creationTimestamp ?? Date.now()).getTime() };
  return undefined;
}

