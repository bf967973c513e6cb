// The control plane behind the HTTP surface: object semantics (create, delete with grace and garbage collection),
// the scheduler, the job controller, pod deadlines, events, and the bridge to the node (NodeRuntime).
import { randomBytes } from "node:crypto";
import type { V1Pod, V1PodStatus } from "@kubernetes/client-node";
import type { NodeEvent, NodeInfo, NodeRuntime, RunningPod, VolumeSources } from "../node/runtime.js";
import { alreadyExists, ApiError, notFound, success, type V1StatusBody } from "./errors.js";
import type { Faults } from "./faults.js";
import { admitJob, admitMetadata, admitPod, admitSecret, podRequests } from "./objects.js";
import { apiVersionOf, resources, type ResourceDef } from "./resources.js";
import { Store, type Obj, type StoreEvent } from "./store.js";

export function now(): string {
  return new Date().toISOString().replace(/\.\d+Z$/, "Z");
}

const def = (name: string): ResourceDef => resources.find((r) => r.resource === name)!;
const podsDef = def("pods");
const jobsDef = def("jobs");
const nsDef = def("namespaces");

interface PodRuntime {
  running?: RunningPod;
  /** Set when the API decided the outcome (deadline): later node statuses keep this phase and reason. */
  override?: { reason: string; message: string };
  deadlineTimer?: NodeJS.Timeout;
  removing?: boolean;
}

interface JobRuntime {
  /** When the controller started the job, in ms (status.startTime has whole seconds only). */
  startMs?: number;
  succeeded: Set<string>;
  failed: Set<string>;
  deadlineTimer?: NodeJS.Timeout;
  ttlTimer?: NodeJS.Timeout;
}

export interface DeleteOptions {
  gracePeriodSeconds?: number;
  propagationPolicy?: "Background" | "Foreground" | "Orphan";
  preconditions?: { uid?: string; resourceVersion?: string };
}

export interface ClusterOptions {
  node: NodeRuntime;
  faults: Faults;
  historyLimit?: number;
  /** How often unschedulable pods are retried even without a change in capacity (ms). */
  schedulerRetryMs?: number;
}

const timeKey = /(Time|At|Timestamp)$/;

/** Node statuses may carry Date objects and sub-second times; store what the real server would: RFC 3339 seconds. */
function normalizeStatus(status: V1PodStatus): Obj {
  const walk = (v: unknown, k: string): unknown => {
    if (v instanceof Date) return v.toISOString().replace(/\.\d+Z$/, "Z");
    if (Array.isArray(v)) return v.map((x) => walk(x, ""));
    if (v && typeof v === "object") {
      const out: Obj = {};
      for (const [kk, vv] of Object.entries(v)) if (vv !== undefined) out[kk] = walk(vv, kk);
      return out;
    }
    if (typeof v === "string" && timeKey.test(k) && /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d+Z$/.test(v)) {
      return v.replace(/\.\d+Z$/, "Z");
    }
    return v;
  };
  return walk(status, "") as Obj;
}

export class Cluster {
  readonly store: Store;
  readonly node: NodeRuntime;
  readonly nodeInfo: NodeInfo;
  private faults: Faults;
  private pods = new Map<string, PodRuntime>();
  private jobs = new Map<string, JobRuntime>();
  private jobQueue = new Set<string>();
  private jobFlush?: NodeJS.Immediate;
  private schedulePending?: NodeJS.Immediate;
  private scheduleTimer: NodeJS.Timeout;
  private timers = new Set<NodeJS.Timeout>();
  private closed = false;
  readonly sources: VolumeSources;

  constructor(opts: ClusterOptions) {
    this.node = opts.node;
    this.nodeInfo = opts.node.info();
    this.faults = opts.faults;
    this.store = new Store(opts.historyLimit ?? 1000);
    for (const ns of ["default", "kube-system", "kube-public", "kube-node-lease"]) {
      this.store.create("namespaces", this.namespaceObject(ns));
      this.store.create("serviceaccounts", { metadata: { name: "default", namespace: ns } });
    }
    this.store.create("nodes", this.nodeObject());
    this.store.addWatcher({ resource: "pods", onEvent: (e) => this.onPodEvent(e) });
    this.store.addWatcher({ resource: "jobs", onEvent: (e) => this.enqueueJob(e.object) });
    this.scheduleTimer = setInterval(() => this.kickScheduler(), opts.schedulerRetryMs ?? 1000);
    this.scheduleTimer.unref();
    const store = this.store;
    this.sources = {
      secret(namespace, name) {
        const s = store.get("secrets", namespace, name);
        if (!s) return undefined;
        const out: Record<string, Buffer> = {};
        for (const [k, v] of Object.entries(s.data ?? {})) out[k] = Buffer.from(String(v), "base64");
        return out;
      },
      configMap(namespace, name) {
        const c = store.get("configmaps", namespace, name);
        if (!c) return undefined;
        const out: Record<string, Buffer> = {};
        for (const [k, v] of Object.entries(c.data ?? {})) out[k] = Buffer.from(String(v));
        for (const [k, v] of Object.entries(c.binaryData ?? {})) out[k] = Buffer.from(String(v), "base64");
        return out;
      },
    };
  }

  private namespaceObject(name: string): Obj {
    return {
      metadata: { name, labels: { "kubernetes.io/metadata.name": name } },
      spec: { finalizers: ["kubernetes"] },
      status: { phase: "Active" },
    };
  }

  private nodeObject(): Obj {
    const n = this.nodeInfo;
    const cap = { cpu: `${n.allocatable.cpuMilli}m`, memory: String(n.allocatable.memoryBytes), pods: "110" };
    return {
      metadata: { name: n.name, labels: { "kubernetes.io/hostname": n.name, "kubernetes.io/os": "linux", ...n.labels } },
      spec: {},
      status: {
        capacity: cap,
        allocatable: cap,
        conditions: [
          { type: "Ready", status: "True", reason: "KubeletReady", message: "kubelet is posting ready status", lastHeartbeatTime: now(), lastTransitionTime: now() },
        ],
        addresses: [{ type: "InternalIP", address: "127.0.0.1" }, { type: "Hostname", address: n.name }],
        nodeInfo: { kubeletVersion: "v1.32.0-buildpod-test", operatingSystem: "linux", architecture: "amd64", containerRuntimeVersion: "podman" },
      },
    };
  }

  private later(ms: number, fn: () => void): NodeJS.Timeout {
    const t = setTimeout(() => {
      this.timers.delete(t);
      if (!this.closed) fn();
    }, ms);
    t.unref();
    this.timers.add(t);
    return t;
  }

  private clearLater(t: NodeJS.Timeout | undefined): void {
    if (t) {
      clearTimeout(t);
      this.timers.delete(t);
    }
  }

  // ---------------------------------------------------------------- events

  /** Record an event about an object, folding repeats into count and lastTimestamp as the real recorder does. */
  recordEvent(involved: Obj, kind: string, apiVersion: string, type: "Normal" | "Warning", reason: string, message: string, component: string, fieldPath?: string): void {
    const ns = involved.metadata.namespace ?? "default";
    if (!this.store.get("namespaces", undefined, ns)) return;
    const existing = this.store
      .list("events", ns)
      .find((e) => e.involvedObject.uid === involved.metadata.uid && e.reason === reason && e.message === message && e.type === type && e.source?.component === component && (e.involvedObject.fieldPath ?? "") === (fieldPath ?? ""));
    const t = now();
    if (existing) {
      existing.count = (existing.count ?? 1) + 1;
      existing.lastTimestamp = t;
      this.store.update("events", existing);
      return;
    }
    const involvedObject: Obj = { kind, namespace: involved.metadata.namespace, name: involved.metadata.name, uid: involved.metadata.uid, apiVersion, resourceVersion: involved.metadata.resourceVersion };
    if (fieldPath) involvedObject.fieldPath = fieldPath;
    if (!involvedObject.namespace) delete involvedObject.namespace;
    const source: Obj = { component };
    if (component === "kubelet") source.host = this.nodeInfo.name;
    this.store.create("events", {
      metadata: { name: `${involved.metadata.name}.${randomBytes(8).toString("hex")}`, namespace: ns },
      involvedObject,
      reason,
      message,
      source,
      firstTimestamp: t,
      lastTimestamp: t,
      count: 1,
      type,
      eventTime: null,
      reportingComponent: component === "kubelet" ? "kubelet" : component,
      reportingInstance: component === "kubelet" ? this.nodeInfo.name : "",
    });
  }

  // ---------------------------------------------------------------- generic object operations

  create(d: ResourceDef, namespace: string | undefined, body: Obj, dryRun = false): Obj {
    const obj = structuredClone(body);
    delete obj.status;
    admitMetadata(d, obj, namespace);
    if (d.namespaced) {
      const ns = this.store.get("namespaces", undefined, namespace!);
      if (!ns) throw notFound(nsDef, namespace!);
      if (ns.metadata.deletionTimestamp) {
        throw new ApiError(403, "Forbidden", `${d.group ? d.resource + "." + d.group : d.resource} "${obj.metadata.name}" is forbidden: unable to create new content in namespace ${namespace} because it is being terminated`, { name: obj.metadata.name, kind: d.resource });
      }
    }
    if (this.store.get(d.resource, namespace, obj.metadata.name)) throw alreadyExists(d, obj.metadata.name);
    obj.metadata.uid = crypto.randomUUID();
    switch (d.resource) {
      case "pods":
        admitPod(obj);
        break;
      case "jobs":
        admitJob(obj);
        break;
      case "secrets":
        admitSecret(obj);
        break;
      case "namespaces":
        obj.spec = { finalizers: ["kubernetes"] };
        obj.status = { phase: "Active" };
        obj.metadata.labels = { ...obj.metadata.labels, "kubernetes.io/metadata.name": obj.metadata.name };
        break;
      case "events":
        obj.status = body.status;
        break;
      case "serviceaccounts":
        break;
    }
    if (dryRun) {
      obj.metadata.creationTimestamp = now();
      return obj;
    }
    const created = this.store.create(d.resource, obj);
    if (d.resource === "pods") this.kickScheduler();
    return created;
  }

  /** Delete one object. Pods bound to the node are deleted gracefully; owners garbage-collect their dependents. */
  delete(d: ResourceDef, namespace: string | undefined, name: string, opts: DeleteOptions = {}): Obj | V1StatusBody {
    const cur = this.store.get(d.resource, namespace, name);
    if (!cur) throw notFound(d, name);
    if (opts.preconditions?.uid && opts.preconditions.uid !== cur.metadata.uid) {
      throw new ApiError(409, "Conflict", `Precondition failed: UID in precondition: ${opts.preconditions.uid}, UID in object meta: ${cur.metadata.uid}`, { name, kind: d.resource });
    }
    if (opts.preconditions?.resourceVersion && opts.preconditions.resourceVersion !== cur.metadata.resourceVersion) {
      throw new ApiError(409, "Conflict", `Precondition failed: ResourceVersion in precondition: ${opts.preconditions.resourceVersion}, ResourceVersion in object meta: ${cur.metadata.resourceVersion}`, { name, kind: d.resource });
    }
    switch (d.resource) {
      case "pods":
        return this.deletePod(cur, opts.gracePeriodSeconds);
      case "namespaces":
        return this.deleteNamespace(cur);
      case "nodes":
        throw new ApiError(405, "MethodNotAllowed", "the server does not allow this method on the requested resource");
    }
    // jobs default to orphaning their pods when deleted through the API without a policy, as batch/v1 does.
    const policy = opts.propagationPolicy ?? (d.resource === "jobs" ? "Orphan" : "Background");
    const dependents = this.dependents(cur);
    if (policy === "Foreground" && dependents.length > 0) {
      const updated = this.store.mutate(d.resource, namespace, name, (o) => {
        o.metadata.deletionTimestamp ??= now();
        o.metadata.deletionGracePeriodSeconds = 0;
        o.metadata.finalizers = [...new Set([...(o.metadata.finalizers ?? []), "foregroundDeletion"])];
      })!;
      for (const dep of dependents) this.deleteDependent(dep);
      this.finishForegroundLater(d, updated);
      return this.withKind(d, updated);
    }
    const removed = this.store.remove(d.resource, namespace, name)!;
    this.afterRemove(d, removed);
    if (policy === "Orphan") {
      for (const dep of dependents) {
        this.store.mutate(dep.resource, dep.obj.metadata.namespace, dep.obj.metadata.name, (o) => {
          o.metadata.ownerReferences = (o.metadata.ownerReferences ?? []).filter((r: Obj) => r.uid !== removed.metadata.uid);
          if (o.metadata.ownerReferences.length === 0) delete o.metadata.ownerReferences;
        });
      }
    } else {
      for (const dep of dependents) this.deleteDependent(dep);
    }
    return success({ name, group: d.group || undefined, kind: d.resource, uid: removed.metadata.uid });
  }

  private withKind(d: ResourceDef, o: Obj): Obj {
    return { kind: d.kind, apiVersion: apiVersionOf(d), ...o };
  }

  private dependents(owner: Obj): { resource: string; obj: Obj }[] {
    const out: { resource: string; obj: Obj }[] = [];
    for (const r of resources.filter((x) => x.namespaced)) {
      for (const o of this.store.list(r.resource, owner.metadata.namespace)) {
        if ((o.metadata.ownerReferences ?? []).some((ref: Obj) => ref.uid === owner.metadata.uid)) out.push({ resource: r.resource, obj: o });
      }
    }
    return out;
  }

  private deleteDependent(dep: { resource: string; obj: Obj }): void {
    const d = def(dep.resource);
    try {
      this.delete(d, dep.obj.metadata.namespace, dep.obj.metadata.name, { propagationPolicy: "Background" });
    } catch (e) {
      if (!(e instanceof ApiError && e.code === 404)) throw e;
    }
  }

  private finishForegroundLater(d: ResourceDef, owner: Obj): void {
    const check = () => {
      const cur = this.store.get(d.resource, owner.metadata.namespace, owner.metadata.name);
      if (!cur || cur.metadata.uid !== owner.metadata.uid) return;
      if (this.dependents(cur).length === 0) {
        const removed = this.store.remove(d.resource, owner.metadata.namespace, owner.metadata.name);
        if (removed) this.afterRemove(d, removed);
      } else this.later(50, check);
    };
    this.later(10, check);
  }

  private afterRemove(d: ResourceDef, removed: Obj): void {
    if (d.resource === "jobs") {
      const rt = this.jobs.get(removed.metadata.uid);
      if (rt) {
        this.clearLater(rt.deadlineTimer);
        this.clearLater(rt.ttlTimer);
        this.jobs.delete(removed.metadata.uid);
      }
    }
  }

  private deleteNamespace(ns: Obj): Obj {
    if (["default", "kube-system", "kube-public"].includes(ns.metadata.name)) {
      throw new ApiError(403, "Forbidden", `namespaces "${ns.metadata.name}" is forbidden: this namespace may not be deleted`, { name: ns.metadata.name, kind: "namespaces" });
    }
    const updated = this.store.mutate("namespaces", undefined, ns.metadata.name, (o) => {
      o.metadata.deletionTimestamp ??= now();
      o.status = { phase: "Terminating" };
    })!;
    const name = ns.metadata.name;
    for (const r of resources.filter((x) => x.namespaced)) {
      for (const o of this.store.list(r.resource, name)) {
        if (r.resource === "pods") this.deletePod(o, undefined);
        else if (!o.metadata.deletionTimestamp) {
          const removed = this.store.remove(r.resource, name, o.metadata.name);
          if (removed) this.afterRemove(r, removed);
        }
      }
    }
    const finish = () => {
      if (this.store.list("pods", name).length > 0) return void this.later(50, finish);
      for (const r of resources.filter((x) => x.namespaced)) for (const o of this.store.list(r.resource, name)) this.store.remove(r.resource, name, o.metadata.name);
      this.store.remove("namespaces", undefined, name);
    };
    // The namespace controller takes a moment, as a real one does: clients see the Terminating phase.
    this.later(200, finish);
    return this.withKind(nsDef, updated);
  }

  // ---------------------------------------------------------------- pods

  runtimeOf(pod: Obj): RunningPod | undefined {
    return this.pods.get(pod.metadata.uid)?.running;
  }

  private deletePod(pod: Obj, gracePeriodSeconds: number | undefined): Obj {
    const ns = pod.metadata.namespace;
    const name = pod.metadata.name;
    const rt = this.pods.get(pod.metadata.uid);
    const terminal = pod.status?.phase === "Succeeded" || pod.status?.phase === "Failed";
    const grace = gracePeriodSeconds ?? pod.spec.terminationGracePeriodSeconds ?? 30;
    if (!rt?.running || grace === 0 || (pod.metadata.deletionTimestamp && gracePeriodSeconds === 0)) {
      if (rt?.running && !rt.removing) void rt.running.kill(0, "Killing").catch(() => {});
      return this.withKind(podsDef, this.removePod(pod) ?? pod);
    }
    if (pod.metadata.deletionTimestamp) return this.withKind(podsDef, pod);
    const updated = this.store.mutate("pods", ns, name, (o) => {
      o.metadata.deletionTimestamp = new Date(Date.now() + grace * 1000).toISOString().replace(/\.\d+Z$/, "Z");
      o.metadata.deletionGracePeriodSeconds = grace;
    })!;
    const uid = pod.metadata.uid;
    const finish = () => {
      const cur = this.store.get("pods", ns, name);
      if (cur && cur.metadata.uid === uid) this.removePod(cur);
    };
    // A terminal pod has nothing left to stop; a running one is stopped by the node first.
    const killing = terminal ? rt.running.kill(0) : rt.running.kill(grace, "Killing");
    const backstop = this.later(grace * 1000 + 5000, finish);
    killing.catch(() => {}).finally(() => {
      this.clearLater(backstop);
      finish();
    });
    return this.withKind(podsDef, updated);
  }

  private removePod(pod: Obj): Obj | undefined {
    const rt = this.pods.get(pod.metadata.uid);
    if (rt) {
      rt.removing = true;
      this.clearLater(rt.deadlineTimer);
    }
    const removed = this.store.remove("pods", pod.metadata.namespace, pod.metadata.name);
    this.pods.delete(pod.metadata.uid);
    this.kickScheduler();
    return removed;
  }

  private onPodEvent(e: StoreEvent): void {
    const owner = (e.object.metadata.ownerReferences ?? []).find((r: Obj) => r.kind === "Job" && r.controller);
    if (owner) {
      // Account finished pods as they happen: a pod removed right after it failed still counts, and a pod
      // deleted before it finished counts as failed (as with the job-tracking finalizer).
      let rt = this.jobs.get(owner.uid);
      if (!rt) {
        rt = { succeeded: new Set(), failed: new Set() };
        this.jobs.set(owner.uid, rt);
      }
      const phase = e.object.status?.phase;
      const uid = e.object.metadata.uid;
      if (phase === "Succeeded") rt.succeeded.add(uid);
      else if (phase === "Failed" || (e.type === "DELETED" && !rt.succeeded.has(uid))) rt.failed.add(uid);
      const job = this.store.list("jobs", e.object.metadata.namespace).find((j) => j.metadata.uid === owner.uid);
      if (job) this.enqueueJob(job);
      else if (e.type === "DELETED" && !this.store.list("jobs").some((j) => j.metadata.uid === owner.uid)) this.jobs.delete(owner.uid);
    }
  }

  private onNodeStatus(pod: Obj, status: V1PodStatus): void {
    if (this.closed) return;
    const ns = pod.metadata.namespace;
    const name = pod.metadata.name;
    if (this.faults.podLost(ns, name)) return;
    const cur = this.store.get("pods", ns, name);
    if (!cur || cur.metadata.uid !== pod.metadata.uid) return;
    const rt = this.pods.get(pod.metadata.uid);
    const next = normalizeStatus(status);
    const scheduled = (cur.status?.conditions ?? []).find((c: Obj) => c.type === "PodScheduled");
    const conds = (next.conditions ?? []).filter((c: Obj) => c.type !== "PodScheduled");
    if (scheduled) conds.push(scheduled);
    next.conditions = conds;
    next.qosClass ??= cur.status?.qosClass;
    next.startTime ??= cur.status?.startTime;
    if (rt?.override) {
      next.phase = "Failed";
      next.reason = rt.override.reason;
      next.message = rt.override.message;
    }
    // A pod that finished stays finished: the node cannot move it back.
    if ((cur.status?.phase === "Succeeded" || cur.status?.phase === "Failed") && next.phase !== cur.status.phase) next.phase = cur.status.phase;
    cur.status = next;
    this.store.update("pods", cur);
    if (next.phase === "Succeeded" || next.phase === "Failed") {
      if (rt) this.clearLater(rt.deadlineTimer);
      this.kickScheduler();
    }
  }

  /** End a pod for exceeding a deadline: phase Failed, reason DeadlineExceeded, containers killed. */
  failPodDeadline(pod: Obj): void {
    const rt = this.pods.get(pod.metadata.uid) ?? {};
    this.pods.set(pod.metadata.uid, rt);
    if (rt.override) return;
    rt.override = { reason: "DeadlineExceeded", message: "Pod was active on the node longer than the specified deadline" };
    const updated = this.store.mutate("pods", pod.metadata.namespace, pod.metadata.name, (o) => {
      o.status = { ...o.status, phase: "Failed", reason: rt.override!.reason, message: rt.override!.message };
    });
    if (!updated) return;
    this.recordEvent(updated, "Pod", "v1", "Normal", "DeadlineExceeded", rt.override.message, "kubelet");
    if (rt.running) void rt.running.kill(updated.spec.terminationGracePeriodSeconds ?? 30, "DeadlineExceeded").catch(() => {});
    this.kickScheduler();
  }

  // ---------------------------------------------------------------- scheduler

  kickScheduler(): void {
    if (this.schedulePending || this.closed) return;
    this.schedulePending = setImmediate(() => {
      this.schedulePending = undefined;
      this.schedule();
    });
  }

  private schedule(): void {
    const pods = this.store.list("pods");
    const used = { cpuMilli: 0, memoryBytes: 0 };
    for (const p of pods) {
      if (!p.spec.nodeName || p.status?.phase === "Succeeded" || p.status?.phase === "Failed") continue;
      const r = podRequests(p.spec);
      used.cpuMilli += r.cpuMilli;
      used.memoryBytes += r.memoryBytes;
    }
    const alloc = this.nodeInfo.allocatable;
    for (const p of pods) {
      if (p.spec.nodeName || p.metadata.deletionTimestamp) continue;
      const reasons: string[] = [];
      let preemptionHelps = true;
      const sel: Record<string, string> = p.spec.nodeSelector ?? {};
      const labels: Record<string, string> = { "kubernetes.io/hostname": this.nodeInfo.name, "kubernetes.io/os": "linux", ...this.nodeInfo.labels };
      if (Object.entries(sel).some(([k, v]) => labels[k] !== v)) {
        reasons.push("1 node(s) didn't match Pod's node affinity/selector");
        preemptionHelps = false;
      } else {
        const r = podRequests(p.spec);
        if (used.cpuMilli + r.cpuMilli > alloc.cpuMilli) reasons.push("1 Insufficient cpu");
        if (used.memoryBytes + r.memoryBytes > alloc.memoryBytes) reasons.push("1 Insufficient memory");
        if (reasons.length === 0) {
          used.cpuMilli += r.cpuMilli;
          used.memoryBytes += r.memoryBytes;
          this.bind(p);
          continue;
        }
      }
      const message =
        `0/1 nodes are available: ${reasons.sort().join(", ")}. preemption: 0/1 nodes are available: ` +
        (preemptionHelps ? "1 No preemption victims found for incoming pod." : "1 Preemption is not helpful for scheduling.");
      const cond = (p.status?.conditions ?? []).find((c: Obj) => c.type === "PodScheduled");
      if (cond && cond.message === message) continue;
      const updated = this.store.mutate("pods", p.metadata.namespace, p.metadata.name, (o) => {
        o.status.conditions = [{ type: "PodScheduled", status: "False", lastProbeTime: null, lastTransitionTime: now(), reason: "Unschedulable", message }];
      })!;
      this.recordEvent(updated, "Pod", "v1", "Warning", "FailedScheduling", message, "default-scheduler");
    }
  }

  private bind(p: Obj): void {
    const nodeName = this.nodeInfo.name;
    const bound = this.store.mutate("pods", p.metadata.namespace, p.metadata.name, (o) => {
      o.spec.nodeName = nodeName;
      o.status.conditions = [{ type: "PodScheduled", status: "True", lastProbeTime: null, lastTransitionTime: now() }];
      o.status.hostIP = "127.0.0.1";
      o.status.hostIPs = [{ ip: "127.0.0.1" }];
      o.status.startTime = now();
    })!;
    this.recordEvent(bound, "Pod", "v1", "Normal", "Scheduled", `Successfully assigned ${bound.metadata.namespace}/${bound.metadata.name} to ${nodeName}`, "default-scheduler");
    const rt: PodRuntime = {};
    this.pods.set(bound.metadata.uid, rt);
    const ads = bound.spec.activeDeadlineSeconds;
    if (typeof ads === "number") {
      rt.deadlineTimer = this.later(ads * 1000, () => {
        const cur = this.store.get("pods", bound.metadata.namespace, bound.metadata.name);
        if (cur && cur.metadata.uid === bound.metadata.uid && cur.status.phase !== "Succeeded" && cur.status.phase !== "Failed") this.failPodDeadline(cur);
      });
    }
    const podForNode = structuredClone(bound) as V1Pod;
    try {
      rt.running = this.node.runPod(
        podForNode,
        this.sources,
        (status) => this.onNodeStatus(bound, status),
        (ev: NodeEvent) => {
          if (this.closed) return;
          const cur = this.store.get("pods", bound.metadata.namespace, bound.metadata.name);
          this.recordEvent(cur ?? bound, "Pod", "v1", ev.type, ev.reason, ev.message, "kubelet", ev.fieldPath);
        },
      );
    } catch (e) {
      this.recordEvent(bound, "Pod", "v1", "Warning", "Failed", `node could not run the pod: ${(e as Error).message}`, "kubelet");
    }
  }

  // ---------------------------------------------------------------- job controller

  private enqueueJob(job: Obj): void {
    this.jobQueue.add(`${job.metadata.namespace}/${job.metadata.name}`);
    if (this.jobFlush || this.closed) return;
    this.jobFlush = setImmediate(() => {
      this.jobFlush = undefined;
      const keys = [...this.jobQueue];
      this.jobQueue.clear();
      for (const k of keys) {
        const [ns, name] = k.split("/");
        this.syncJob(ns, name);
      }
    });
  }

  private syncJob(ns: string, name: string): void {
    const job = this.store.get("jobs", ns, name);
    if (!job || job.metadata.deletionTimestamp) return;
    const uid = job.metadata.uid;
    let rt = this.jobs.get(uid);
    if (!rt) {
      rt = { succeeded: new Set(), failed: new Set() };
      this.jobs.set(uid, rt);
    }
    const conds: Obj[] = job.status.conditions ?? [];
    const has = (t: string) => conds.some((c) => c.type === t && c.status === "True");
    if (has("Complete") || has("Failed")) {
      this.scheduleTtl(job, rt);
      return;
    }
    if (job.spec.suspend) return;
    const status: Obj = structuredClone(job.status);
    if (!status.startTime) {
      status.startTime = now();
      rt.startMs = Date.now();
    }
    rt.startMs ??= Date.parse(status.startTime);
    if (job.spec.activeDeadlineSeconds !== undefined && !rt.deadlineTimer) {
      const at = rt.startMs + job.spec.activeDeadlineSeconds * 1000;
      rt.deadlineTimer = this.later(Math.max(0, at - Date.now()), () => this.enqueueJob(job));
    }
    const pods = this.store.list("pods", ns).filter((p) => (p.metadata.ownerReferences ?? []).some((r: Obj) => r.uid === uid));
    for (const p of pods) {
      if (p.status?.phase === "Succeeded") rt.succeeded.add(p.metadata.uid);
      if (p.status?.phase === "Failed") rt.failed.add(p.metadata.uid);
    }
    const live = pods.filter((p) => p.status?.phase !== "Succeeded" && p.status?.phase !== "Failed");
    const active = live.filter((p) => !p.metadata.deletionTimestamp);
    const terminating = live.filter((p) => p.metadata.deletionTimestamp);
    const t = now();
    const cond = (type: string, reason: string, message: string): Obj => ({ type, status: "True", lastProbeTime: t, lastTransitionTime: t, reason, message });
    const addCond = (c: Obj) => {
      if (!conds.some((x) => x.type === c.type)) conds.push(c);
    };
    const deadlinePassed = job.spec.activeDeadlineSeconds !== undefined && Date.now() >= rt.startMs + job.spec.activeDeadlineSeconds * 1000;
    let events: [string, string, string][] = [];
    const failureTarget = conds.find((c) => c.type === "FailureTarget");
    if (rt.succeeded.size >= job.spec.completions) {
      addCond(cond("SuccessCriteriaMet", "CompletionsReached", "Reached expected number of succeeded pods"));
      if (live.length === 0) {
        addCond(cond("Complete", "CompletionsReached", "Reached expected number of succeeded pods"));
        status.completionTime = t;
        events.push(["Normal", "Completed", "Job completed"]);
      }
    } else if (failureTarget || rt.failed.size > job.spec.backoffLimit || deadlinePassed) {
      if (!failureTarget) {
        const [reason, message] = deadlinePassed && rt.failed.size <= job.spec.backoffLimit
          ? ["DeadlineExceeded", "Job was active longer than specified deadline"]
          : ["BackoffLimitExceeded", "Job has reached the specified backoff limit"];
        addCond(cond("FailureTarget", reason, message));
        events.push(["Warning", reason, message]);
        for (const p of active) this.failPodDeadlineOrDelete(p, reason);
      }
      const stillLive = this.store.list("pods", ns).filter((p) => (p.metadata.ownerReferences ?? []).some((r: Obj) => r.uid === uid) && p.status?.phase !== "Succeeded" && p.status?.phase !== "Failed");
      if (stillLive.length === 0) {
        const ft = conds.find((c) => c.type === "FailureTarget")!;
        addCond(cond("Failed", ft.reason, ft.message));
      }
    } else if (active.length === 0 && terminating.length === 0) {
      const pod = this.createJobPod(job);
      if (pod) {
        events.push(["Normal", "SuccessfulCreate", `Created pod: ${pod.metadata.name}`]);
        active.push(pod);
      }
    }
    // Recount after possible changes above.
    const after = this.store.list("pods", ns).filter((p) => (p.metadata.ownerReferences ?? []).some((r: Obj) => r.uid === uid));
    for (const p of after) {
      if (p.status?.phase === "Succeeded") rt.succeeded.add(p.metadata.uid);
      if (p.status?.phase === "Failed") rt.failed.add(p.metadata.uid);
    }
    const nowActive = after.filter((p) => p.status?.phase !== "Succeeded" && p.status?.phase !== "Failed" && !p.metadata.deletionTimestamp);
    const nowTerminating = after.filter((p) => p.status?.phase !== "Succeeded" && p.status?.phase !== "Failed" && p.metadata.deletionTimestamp);
    if (nowActive.length) status.active = nowActive.length;
    else delete status.active;
    if (rt.succeeded.size) status.succeeded = rt.succeeded.size;
    else delete status.succeeded;
    if (rt.failed.size) status.failed = rt.failed.size;
    else delete status.failed;
    status.ready = nowActive.filter((p) => (p.status?.conditions ?? []).some((c: Obj) => c.type === "Ready" && c.status === "True")).length;
    status.terminating = nowTerminating.length;
    status.uncountedTerminatedPods = {};
    if (conds.length) status.conditions = conds;
    const updated = this.store.mutate("jobs", ns, name, (o) => {
      o.status = status;
    });
    if (!updated) return;
    for (const [type, reason, message] of events) this.recordEvent(updated, "Job", "batch/v1", type as "Normal" | "Warning", reason, message, "job-controller");
    events = [];
    if (conds.some((c) => (c.type === "Complete" || c.type === "Failed") && c.status === "True")) {
      this.clearLater(rt.deadlineTimer);
      this.scheduleTtl(updated, rt);
    }
  }

  private failPodDeadlineOrDelete(pod: Obj, reason: string): void {
    if (reason === "DeadlineExceeded") this.failPodDeadline(pod);
    else this.deletePod(pod, undefined);
  }

  private createJobPod(job: Obj): Obj | undefined {
    const tpl = structuredClone(job.spec.template);
    const pod: Obj = {
      metadata: {
        generateName: `${job.metadata.name}-`,
        labels: tpl.metadata?.labels ?? {},
        annotations: tpl.metadata?.annotations,
        ownerReferences: [{ apiVersion: "batch/v1", kind: "Job", name: job.metadata.name, uid: job.metadata.uid, controller: true, blockOwnerDeletion: true }],
      },
      spec: tpl.spec,
    };
    if (!pod.metadata.annotations) delete pod.metadata.annotations;
    try {
      return this.create(podsDef, job.metadata.namespace, pod);
    } catch (e) {
      this.recordEvent(job, "Job", "batch/v1", "Warning", "FailedCreate", `Error creating: ${(e as Error).message}`, "job-controller");
      return undefined;
    }
  }

  private scheduleTtl(job: Obj, rt: JobRuntime): void {
    const ttl = job.spec.ttlSecondsAfterFinished;
    if (ttl === undefined || rt.ttlTimer) return;
    const finished = (job.status.conditions ?? []).find((c: Obj) => (c.type === "Complete" || c.type === "Failed") && c.status === "True");
    const at = Date.parse(finished?.lastTransitionTime ?? now()) + ttl * 1000;
    rt.ttlTimer = this.later(Math.max(0, at - Date.now()), () => {
      const cur = this.store.get("jobs", job.metadata.namespace, job.metadata.name);
      if (cur && cur.metadata.uid === job.metadata.uid) {
        try {
          this.delete(jobsDef, cur.metadata.namespace, cur.metadata.name, { propagationPolicy: "Background" });
        } catch {
          // gone meanwhile
        }
      }
    });
  }

  // ---------------------------------------------------------------- lifecycle

  async close(): Promise<void> {
    this.closed = true;
    clearInterval(this.scheduleTimer);
    if (this.schedulePending) clearImmediate(this.schedulePending);
    if (this.jobFlush) clearImmediate(this.jobFlush);
    for (const t of this.timers) clearTimeout(t);
    this.timers.clear();
  }
}
