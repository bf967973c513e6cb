// request -> the Job (or bare Pod) that runs the build. Pure: no cluster, no clock, no randomness; the
// run id comes in from the caller.
import type { V1Container, V1EnvVar, V1Job, V1ObjectMeta, V1Pod, V1PodSpec, V1ResourceRequirements, V1Volume, V1VolumeMount } from "@kubernetes/client-node";
import { BUILDERS } from "./builders/index.js";
import { SOURCE_IMAGE } from "./images.js";
import type { BuildRequest, ResourceList } from "./request/index.js";
import { provenanceContainer } from "./provenance-container.js";
import { PATHS, SOURCE_SCRIPT } from "./scripts.js";
import { customStrategy } from "./strategy/custom.js";
import { dockerStrategy } from "./strategy/docker.js";
import { platformSelector } from "./platform.js";
import { attachesProvenance, provenanceAfterBuild, provenanceEnv } from "./provenance.js";
import { networkPlan, type NetworkPlan } from "./strategy/network.js";
import { env, type StrategyPlan, UNPRIVILEGED, UNPRIVILEGED_UID } from "./strategy/plan.js";
import { sourceStrategy } from "./strategy/source.js";

export const LABELS = {
  managedBy: "app.kubernetes.io/managed-by",
  build: "buildpod.dev/build",
  run: "buildpod.dev/run",
  strategy: "buildpod.dev/strategy",
} as const;

export const ANNOTATIONS = {
  image: "buildpod.dev/image",
  source: "buildpod.dev/source",
  ref: "buildpod.dev/ref",
  startTimeout: "buildpod.dev/start-timeout",
  /** "false" on a build asked not to push. */
  push: "buildpod.dev/push",
  /** Set on create only, to recognise our own object when a create's answer was lost and it is retried. */
  createToken: "buildpod.dev/create-token",
} as const;

/**
 * With retries, the Job starts the build again only when the cluster ended it: a pod with the
 * DisruptionTarget condition (evicted, preempted, deleted with a lost node) counts against backoffLimit;
 * any container's failure (the first rule not having matched) fails the Job at once. The order matters: a
 * disrupted pod's containers exit non-zero too. The Job replaces a pod only once it is terminal.
 */
const RETRY_DISRUPTIONS_ONLY = {
  rules: [
    { action: "Count", onPodConditions: [{ type: "DisruptionTarget", status: "True" }] },
    { action: "FailJob", onExitCodes: { operator: "NotIn", values: [0] } },
  ],
};

export interface RenderOptions {
  /** Distinguishes this run from other runs of the same build: the object is named "<name>-<id>". */
  id: string;
}

/** A short run id: lower-case letters and digits, as Kubernetes' generateName uses. */
export function newRunId(random: () => number = Math.random): string {
  const alphabet = "bcdfghjklmnpqrstvwxz2456789";
  return Array.from({ length: 5 }, () => alphabet[Math.floor(random() * alphabet.length)]).join("");
}

export function runName(req: BuildRequest, id: string): string {
  return `${req.name}-${id}`;
}

export function strategyPlan(req: BuildRequest): StrategyPlan {
  switch (req.strategy.type) {
    case "docker":
      return dockerStrategy(req, req.strategy);
    case "source":
      return sourceStrategy(req, req.strategy);
    case "custom":
      return customStrategy(req, req.strategy);
  }
}

function resources(req: BuildRequest): V1ResourceRequirements | undefined {
  const pick = (list: ResourceList) => {
    const out = Object.fromEntries(Object.entries(list).filter(([, v]) => v !== undefined)) as Record<string, string>;
    return Object.keys(out).length ? out : undefined;
  };
  const requests = pick(req.resources.requests);
  const limits = pick(req.resources.limits);
  if (!requests && !limits) return undefined;
  return { ...(requests ? { requests } : {}), ...(limits ? { limits } : {}) };
}

function sourceContainer(req: BuildRequest, plan: StrategyPlan, net: NetworkPlan, res: V1ResourceRequirements | undefined): V1Container {
  const { git, binary } = req.source;
  const mounts: V1VolumeMount[] = [{ name: "workspace", mountPath: PATHS.workspace }, ...net.sourceMounts];
  if (git?.secret) mounts.push({ name: "source-secret", mountPath: PATHS.sourceSecret, readOnly: true });
  return {
    name: "source",
    image: req.images.source ?? SOURCE_IMAGE,
    command: ["/bin/sh", "-c", SOURCE_SCRIPT, "buildpod-source"],
    env: [
      ...env({
        BUILDPOD_SOURCE_MODE: git ? "git" : binary ? "upload" : "none",
        BUILDPOD_GIT_URL: git?.url,
        BUILDPOD_GIT_REF: git?.ref,
        BUILDPOD_GIT_DEPTH: git ? String(git.depth) : undefined,
        BUILDPOD_UPLOAD_TIMEOUT: binary ? String(req.uploadTimeout) : undefined,
        BUILDPOD_SOURCE_DATE_EPOCH: req.source.sourceDateEpoch?.toString(),
        BUILDPOD_CONTEXT_DIR: req.source.contextDir,
        // The upload's digest, for the provenance.
        BUILDPOD_INPUT_DIGEST: binary && attachesProvenance(req) ? "true" : undefined,
      }),
      ...plan.sourceEnv,
      ...net.sourceEnv,
    ],
    securityContext: UNPRIVILEGED(),
    volumeMounts: mounts,
    ...(res ? { resources: res } : {}),
    terminationMessagePolicy: "FallbackToLogsOnError",
  };
}

/** The build image's own certificate directories that a CA bundle is added to. */
function caDirs(req: BuildRequest): string[] {
  const s = req.strategy;
  return s.type === "docker" ? BUILDERS[s.builder].caDirs : s.type === "source" ? BUILDERS.buildah.caDirs : [];
}

/** ENV with OVER laid on it: a name in both takes OVER's value, in ENV's place. */
function overlay(env: V1EnvVar[], over: Record<string, string | undefined>): V1EnvVar[] {
  const given = Object.entries(over).filter((e): e is [string, string] => e[1] !== undefined);
  const names = new Set(given.map(([n]) => n));
  return [...env.filter((e) => !names.has(e.name)), ...given.map(([name, value]) => ({ name, value }))];
}

/** What runs in a pod: the strategy's build, or another job such as an image index (core/index-job.ts). */
export interface PodPlan {
  plan: StrategyPlan;
  /** The certificate directories of the container's image that a CA bundle is added to. */
  caDirs: string[];
  /** Whether the source container runs first. */
  source: boolean;
}

/**
 * RUN: the Job's (or Pod's) name, where known, which the provenance names the invocation by. PART: what the
 * pod runs, by default the request's build.
 */
export function renderPodSpec(req: BuildRequest, run?: string, part: PodPlan = { plan: strategyPlan(req), caDirs: caDirs(req), source: true }): V1PodSpec {
  const plan = part.plan;
  const net = networkPlan(req, part.caDirs);
  const res = resources(req);
  const volumes: V1Volume[] = [{ name: "workspace", emptyDir: {} }, ...plan.volumes, ...net.volumes];
  // The disk limit bounds each scratch volume too (the kubelet's own sizeLimit check names the volume).
  const disk = req.resources.limits["ephemeral-storage"];
  for (const v of volumes) if (disk && v.emptyDir && !v.emptyDir.medium) v.emptyDir.sizeLimit = disk;
  const buildMounts: V1VolumeMount[] = [{ name: "workspace", mountPath: PATHS.workspace }, ...(plan.container.volumeMounts ?? []), ...net.buildMounts];
  if (req.output.pushSecret) {
    // A kubernetes.io/dockerconfigjson Secret, projected to the config.json every builder reads.
    volumes.push({
      name: "push-secret",
      secret: { secretName: req.output.pushSecret, items: [{ key: ".dockerconfigjson", path: "config.json" }], defaultMode: 0o440 },
    });
    buildMounts.push({ name: "push-secret", mountPath: PATHS.pushConfig, readOnly: true });
  }
  if (req.source.git?.secret) {
    volumes.push({ name: "source-secret", secret: { secretName: req.source.git.secret, defaultMode: 0o440 } });
  }
  // A builder without curl builds as the last init container; the provenance container runs after it.
  const after = part.source && provenanceAfterBuild(req);
  const build: V1Container = {
    ...plan.container,
    env: overlay(plan.container.env ?? [], { ...net.buildEnv, ...(after ? {} : provenanceEnv(req, plan.container.image ?? "", run)) }),
    volumeMounts: buildMounts,
    ...(res ? { resources: res } : {}),
    terminationMessagePolicy: "FallbackToLogsOnError",
  };
  const s = req.scheduling;
  const spec: V1PodSpec = {
    restartPolicy: "Never",
    // A build talks to registries, not to the cluster API.
    automountServiceAccountToken: false,
    enableServiceLinks: false,
    terminationGracePeriodSeconds: 10,
    // The unprivileged containers' group: they share the workspace, and read the mounted Secrets (0440).
    securityContext: { fsGroup: UNPRIVILEGED_UID },
    ...(part.source ? { initContainers: [sourceContainer(req, plan, net, res), ...(after ? [build] : [])] } : {}),
    containers: after ? [provenanceContainer(req, plan.container.image ?? "", run, res)] : [build],
    volumes,
  };
  // A build for another platform goes to a node of that platform, unless it is emulated. (A pod for
  // several platforms, an index's, goes anywhere.)
  const platform = req.output.platforms.length === 1 ? req.output.platforms[0] : undefined;
  const selector = platform && !s.emulate ? { ...platformSelector(platform), ...s.nodeSelector } : s.nodeSelector;
  if (Object.keys(selector).length) spec.nodeSelector = selector;
  if (s.tolerations.length) spec.tolerations = s.tolerations;
  if (s.affinity) spec.affinity = s.affinity as V1PodSpec["affinity"];
  if (s.serviceAccountName) spec.serviceAccountName = s.serviceAccountName;
  if (s.priorityClassName) spec.priorityClassName = s.priorityClassName;
  if (s.runtimeClassName) spec.runtimeClassName = s.runtimeClassName;
  if (req.imagePullSecrets.length) spec.imagePullSecrets = req.imagePullSecrets.map((name) => ({ name }));
  return spec;
}

export function metadata(req: BuildRequest, name: string): V1ObjectMeta {
  const { git, binary } = req.source;
  const annotations: Record<string, string> = {
    [ANNOTATIONS.image]: req.output.image,
    [ANNOTATIONS.source]: git ? git.url : binary ? `${binary.format}:upload` : "inline",
    [ANNOTATIONS.startTimeout]: String(req.startTimeout),
  };
  if (git?.ref) annotations[ANNOTATIONS.ref] = git.ref;
  if (!req.output.push) annotations[ANNOTATIONS.push] = "false";
  return {
    name,
    namespace: req.namespace,
    labels: {
      ...req.labels,
      [LABELS.managedBy]: "buildpod",
      [LABELS.build]: req.name,
      [LABELS.run]: name,
      [LABELS.strategy]: req.strategy.type,
    },
    annotations,
  };
}

/** The object to create: a batch/v1 Job wrapping the build pod, or the bare Pod. */
export function render(req: BuildRequest, opts: RenderOptions): V1Job | V1Pod {
  const name = runName(req, opts.id);
  const meta = metadata(req, name);
  const podSpec = renderPodSpec(req, name);
  if (req.workload === "pod") {
    return { apiVersion: "v1", kind: "Pod", metadata: meta, spec: { ...podSpec, activeDeadlineSeconds: req.timeout } };
  }
  return {
    apiVersion: "batch/v1",
    kind: "Job",
    metadata: meta,
    spec: {
      backoffLimit: req.retries,
      ...(req.retries ? { podFailurePolicy: RETRY_DISRUPTIONS_ONLY } : {}),
      completions: 1,
      parallelism: 1,
      activeDeadlineSeconds: req.timeout,
      ttlSecondsAfterFinished: req.deleteAfter,
      template: { metadata: { labels: { ...meta.labels }, annotations: { ...meta.annotations } }, spec: podSpec },
    },
  };
}
