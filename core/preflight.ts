// Checks before anything is created, so a build that cannot work says why at once, in one message,
// instead of leaving a pod stuck or half a build behind.
import type { V1Job, V1Namespace, V1Pod } from "@kubernetes/client-node";
import { BUILDERS, buildersWhere, DEFAULT_BUILDER } from "./builders/index.js";
import type { Cluster } from "./cluster.js";
import { ClusterError } from "./errors.js";
import { INDEX_LABEL } from "./multi-platform.js";
import { nodePlatforms, placement } from "./platform.js";
import { podRefusal } from "./refusal.js";
import type { BuildRequest, ConfigMapKey } from "./request/index.js";

export class PreflightError extends ClusterError {
  constructor(message: string, reason: string) {
    super(message, undefined, reason);
    this.name = "PreflightError";
  }
}

export interface Access {
  verb: string;
  resource: string;
  group?: string;
  subresource?: string;
  name?: string;
}

function show(a: Access): string {
  const res = `${a.resource}${a.group ? `.${a.group}` : ""}${a.subresource ? `/${a.subresource}` : ""}`;
  return `${a.verb} ${res}${a.name ? ` "${a.name}"` : ""}`;
}

/** What the caller must be allowed to do in the build's namespace for this request. */
export function requiredAccess(req: BuildRequest): Access[] {
  const object: Access = req.workload === "job" ? { verb: "create", resource: "jobs", group: "batch" } : { verb: "create", resource: "pods" };
  const access: Access[] = [
    object,
    { verb: "get", resource: "pods" },
    { verb: "list", resource: "pods" },
    { verb: "watch", resource: "pods" },
    { verb: "get", resource: "pods", subresource: "log" },
    req.workload === "job" ? { verb: "delete", resource: "jobs", group: "batch" } : { verb: "delete", resource: "pods" },
  ];
  if (req.workload === "job") access.push({ verb: "deletecollection", resource: "pods" });
  // A platform's build of a multi-platform build: its index Job is resumed by a patch.
  if (req.labels[INDEX_LABEL]) access.push({ verb: "patch", resource: "jobs", group: "batch" });
  // Exec is a WebSocket GET: "get" before Kubernetes 1.35, "get" and "create" from 1.35.
  if (req.source.binary) access.push({ verb: "get", resource: "pods", subresource: "exec" }, { verb: "create", resource: "pods", subresource: "exec" });
  return access;
}

export type PodSecurityLevel = "privileged" | "baseline" | "restricted";
const LEVELS: PodSecurityLevel[] = ["restricted", "baseline", "privileged"];

/**
 * The least Pod Security level the build pod fits: its builder's (S2I builds with buildah); a custom build
 * fits 'baseline' unless it mounts the node's Docker socket, a hostPath.
 */
export function requiredLevel(req: BuildRequest): PodSecurityLevel {
  const s = req.strategy;
  if (s.type === "docker") return BUILDERS[s.builder].podSecurity;
  if (s.type === "source") return BUILDERS.buildah.podSecurity;
  return s.exposeDockerSocket ? "privileged" : "baseline";
}

/** The builders a namespace that enforces 'baseline' runs: "buildah (default) or kaniko". */
function baselineBuilders(): string {
  return buildersWhere((b) => b.podSecurity === "baseline").map((n) => (n === DEFAULT_BUILDER ? `${n} (default)` : n)).join(" or ");
}

function allowed(cluster: Cluster, namespace: string, a: Access): Promise<boolean> {
  return cluster.mayI(namespace, a, `checking whether you may ${show(a)}`);
}

async function readNamespace(cluster: Cluster, name: string): Promise<V1Namespace | "missing" | "unknown"> {
  try {
    return (await cluster.readNamespace(name)) ?? "missing";
  } catch (err) {
    if (err instanceof ClusterError && err.code === 403) return "unknown";
    throw err;
  }
}

/** A Secret the build mounts or the node pulls with: push or pull credentials, Git credentials, a build secret's key. */
async function checkSecret(cluster: Cluster, namespace: string, name: string, kind: "push" | "pull" | "image pull" | "source" | "build", skipped: string[], key?: string): Promise<void> {
  // Reading a Secret needs its own permission; without it the cluster reports a missing one at pod start.
  if (!(await allowed(cluster, namespace, { verb: "get", resource: "secrets", name }))) {
    skipped.push(`whether the ${kind} secret "${name}" exists (you may not get it; a missing one is reported when the pod starts)`);
    return;
  }
  const secret = await cluster.readSecret(name, namespace);
  if (!secret) {
    const how = kind === "push" || kind === "pull" || kind === "image pull"
      ? `create it with: kubectl -n ${namespace} create secret docker-registry ${name} --docker-server=REGISTRY --docker-username=USER --docker-password=TOKEN`
      : kind === "build"
        ? `create it with: kubectl -n ${namespace} create secret generic ${name} --from-file=${key}=PATH`
        : `create it with: kubectl -n ${namespace} create secret generic ${name} --type=kubernetes.io/basic-auth --from-literal=username=USER --from-literal=password=TOKEN`;
    throw new PreflightError(`the ${kind} secret "${name}" does not exist in namespace ${namespace}; ${how}`, "SecretNotFound");
  }
  if ((kind === "push" || kind === "pull" || kind === "image pull") && !secret.data?.[".dockerconfigjson"]) {
    throw new PreflightError(`the ${kind} secret "${name}" has no .dockerconfigjson key (type ${secret.type ?? "unknown"}); make it with kubectl create secret docker-registry`, "SecretInvalid");
  }
  if (key !== undefined && secret.data?.[key] === undefined) {
    const keys = Object.keys(secret.data ?? {});
    throw new PreflightError(`the build secret "${name}" has no key "${key}" (it has ${keys.length ? keys.join(", ") : "none"}); name one of its keys with key=KEY, or add it`, "SecretKeyNotFound");
  }
}

/** A ConfigMap key the build mounts: the CA bundle or the registries.conf; FILE names a local file in the hint. */
async function checkConfigMap(cluster: Cluster, namespace: string, ref: ConfigMapKey, what: string, file: string, skipped: string[]): Promise<void> {
  if (!(await allowed(cluster, namespace, { verb: "get", resource: "configmaps", name: ref.name }))) {
    skipped.push(`whether the ${what} ConfigMap "${ref.name}" exists (you may not get it; a missing one is reported when the pod starts)`);
    return;
  }
  const map = await cluster.readConfigMap(ref.name, namespace);
  if (!map) {
    throw new PreflightError(`the ${what} ConfigMap "${ref.name}" does not exist in namespace ${namespace}; create it with: kubectl -n ${namespace} create configmap ${ref.name} --from-file=${ref.key}=${file}`, "ConfigMapNotFound");
  }
  if (map.data?.[ref.key] === undefined) {
    const keys = Object.keys(map.data ?? {});
    throw new PreflightError(`the ${what} ConfigMap "${ref.name}" has no key "${ref.key}" (it has ${keys.length ? keys.join(", ") : "none"}); name one of its keys as ${ref.name}/KEY, or add it`, "ConfigMapKeyNotFound");
  }
}

/** Checks under way, per cluster connection, by what they check. */
const underWay = new WeakMap<Cluster, Map<string, Promise<PreflightReport>>>();

/** What the preflight found it could not check, and why (each a phrase: "whether ... (...)"). */
export interface PreflightReport {
  skipped: string[];
  /** Whether the identity may create pods, so that the pod can be tried in a server-side dry run. */
  mayDryRun: boolean;
  /** Where a build for another platform goes: a node of its own, or any node under QEMU. */
  placement?: "native" | "emulated";
}

/**
 * Throws a PreflightError (or ClusterError) naming what is missing and what to do. Builds started
 * together that need the same checks share one run of them (a service starting a hundred builds at once
 * asks nine questions, not nine hundred); a check that has finished is never reused.
 */
export function preflight(cluster: Cluster, req: BuildRequest): Promise<PreflightReport> {
  const s = req.strategy;
  const key = JSON.stringify([req.namespace, requiredAccess(req), requiredLevel(req), s.type === "docker" ? s.builder : s.type, req.output.pushSecret, req.source.git?.secret,
    s.type === "docker" ? s.secrets : [], s.type === "custom" ? undefined : s.pullSecret, req.imagePullSecrets, req.network.caBundle, req.network.registriesConf,
    req.output.platforms, req.scheduling.emulate]);
  let checks = underWay.get(cluster) as Map<string, Promise<PreflightReport>> | undefined;
  if (!checks) underWay.set(cluster, (checks = new Map()));
  const running = checks.get(key);
  if (running) return running;
  const check = checkAll(cluster, req).finally(() => checks.delete(key));
  checks.set(key, check);
  return check;
}

const CREATE_PODS: Access = { verb: "create", resource: "pods" };

async function checkAll(cluster: Cluster, req: BuildRequest): Promise<PreflightReport> {
  const ns = req.namespace;
  const skipped: string[] = [];
  const namespace = await readNamespace(cluster, ns);
  if (namespace === "missing") {
    throw new PreflightError(`namespace ${ns} does not exist; create it (kubectl create namespace ${ns}) or choose another with --namespace`, "NamespaceNotFound");
  }
  const access = requiredAccess(req);
  const [mayDryRun, ...answers] = await Promise.all([CREATE_PODS, ...access].map((a) => allowed(cluster, ns, a)));
  const missing = access.filter((_, i) => !answers[i]);
  if (missing.length) {
    throw new PreflightError(
      `you may not ${missing.map(show).join(", ")} in namespace ${ns}; ask for a Role granting ${missing.length > 1 ? "them" : "it"} (deploy/rbac.yaml lists what buildpod needs)`,
      "Forbidden",
    );
  }
  if (namespace !== "unknown") {
    const enforce = namespace.metadata?.labels?.["pod-security.kubernetes.io/enforce"] as PodSecurityLevel | undefined;
    const need = requiredLevel(req);
    if (enforce && LEVELS.includes(enforce) && LEVELS.indexOf(enforce) < LEVELS.indexOf(need)) {
      const fit = enforce === "baseline" ? ` Use the ${baselineBuilders()} builder, which fit 'baseline'.` : " No builder fits 'restricted': builds need at least 'baseline'; build in another namespace.";
      const what = req.strategy.type === "docker" ? `the ${req.strategy.builder} builder` : `this ${req.strategy.type} build`;
      throw new PreflightError(`namespace ${ns} enforces Pod Security '${enforce}', and ${what} needs '${need}'.${fit}`, "PodSecurity");
    }
  }
  if (namespace === "unknown" && !mayDryRun) {
    skipped.push("the namespace's Pod Security level (you may not get the namespace, nor create pods for a dry run; a refusal is reported when the Job cannot create the pod)");
  }
  if (req.output.pushSecret) await checkSecret(cluster, ns, req.output.pushSecret, "push", skipped);
  if (req.source.git?.secret) await checkSecret(cluster, ns, req.source.git.secret, "source", skipped);
  for (const s of req.strategy.type === "docker" ? req.strategy.secrets : []) await checkSecret(cluster, ns, s.secret, "build", skipped, s.key);
  if (req.strategy.type !== "custom" && req.strategy.pullSecret) await checkSecret(cluster, ns, req.strategy.pullSecret, "pull", skipped);
  // The kubelet pulls anonymously past a missing imagePullSecret, and the pull then fails for want of it.
  for (const name of req.imagePullSecrets) await checkSecret(cluster, ns, name, "image pull", skipped);
  if (req.network.caBundle) await checkConfigMap(cluster, ns, req.network.caBundle, "CA bundle", "bundle.pem", skipped);
  if (req.network.registriesConf) await checkConfigMap(cluster, ns, req.network.registriesConf, "registries.conf", "registries.conf", skipped);
  const platform = req.output.platforms[0];
  if (!platform) return { skipped, mayDryRun };
  const nodes = await nodePlatforms(cluster);
  if (!nodes) skipped.push(`whether the cluster has a ${platform} node (you may not list nodes, a cluster-wide permission that deploy/rbac.yaml shows how to grant; where none fits, the pod waits as Unschedulable)`);
  const placed = placement(platform, nodes, req.scheduling.emulate);
  if (typeof placed !== "string") throw new PreflightError(placed.refused, "PlatformUnavailable");
  return { skipped, mayDryRun, placement: placed };
}

/** The build's pod as the cluster would get it: the bare Pod, or the one the Job's template makes. */
function podOf(obj: V1Job | V1Pod): V1Pod {
  if (obj.kind === "Pod") return obj as V1Pod;
  const t = (obj as V1Job).spec!.template;
  return { apiVersion: "v1", kind: "Pod", metadata: { ...t.metadata, generateName: `${obj.metadata!.name}-`, namespace: obj.metadata!.namespace }, spec: t.spec };
}

/**
 * Creates the build's exact pod in a server-side dry run (dryRun=All: admitted, never stored), so that
 * whatever would refuse it (Pod Security, a ResourceQuota, a LimitRange, a missing service account, an
 * admission webhook) answers before anything is created. A refusal that only a change can fix throws; a
 * full quota, which waiting can fix, and an answer that is not a refusal let the build go on.
 */
export async function dryRunPod(cluster: Cluster, obj: V1Job | V1Pod, onWarning?: (text: string) => void): Promise<void> {
  try {
    await cluster.dryRunPod(podOf(obj), onWarning);
  } catch (err) {
    if (!(err instanceof ClusterError) || err.code === undefined || err.code >= 500) return;
    const refusal = podRefusal(err.message);
    if (refusal?.permanent) throw new PreflightError(`the cluster would refuse the build pod: ${refusal.message}`, refusal.reason);
  }
}
