// The build request's types, its defaults and the values its fields may take.
import type { ImageReference } from "../reference.js";

export const STRATEGIES = ["docker", "source", "custom"] as const;
export const BUILDERS = ["buildah", "buildkit", "kaniko", "docker"] as const;
export type StrategyType = (typeof STRATEGIES)[number];
export type BuilderName = (typeof BUILDERS)[number];
/** read-write: reuse the cache and update it; read: reuse only (builds that should not change it, such as pull requests). */
export const CACHE_MODES = ["read-write", "read"] as const;
export type CacheMode = (typeof CACHE_MODES)[number];

export interface GitSource {
  url: string;
  /** Branch, tag or commit SHA; the remote's default branch when absent. */
  ref?: string;
  /** A Secret with basic-auth (username/password) or ssh-auth (ssh-privatekey) keys. */
  secret?: string;
  /** Commits to fetch: 1 (the default) gives the tree alone; more, or 0 for all, keep .git in the source. */
  depth: number;
}

export interface BinarySource {
  /** Local path on the machine that runs buildpod; uploaded to the pod as a gzipped tar. */
  path: string;
  format: "directory" | "archive";
}

export interface Source {
  git?: GitSource;
  binary?: BinarySource;
  /** Inline Dockerfile content, used instead of a Dockerfile from the source. */
  dockerfile?: string;
  /** Directory inside the source to build, relative to its root. */
  contextDir: string;
  /** Fixed SOURCE_DATE_EPOCH; the commit time is used for Git sources when absent, 0 for others. */
  sourceDateEpoch?: number;
}

export interface DockerStrategy {
  type: "docker";
  builder: BuilderName;
  /** Dockerfile path relative to the source root. */
  dockerfile: string;
  target?: string;
  buildArgs: Record<string, string>;
  builderImage?: string;
  allowDockerSocket: boolean;
  /** Build secrets for RUN --mount=type=secret: never in a layer, the image's config or the logs. */
  secrets: BuildSecret[];
  /** A kubernetes.io/dockerconfigjson Secret for pulling the Dockerfile's FROM images. */
  pullSecret?: string;
}

/** A key of a Kubernetes Secret, mounted for RUN --mount=type=secret,id=ID. */
export interface BuildSecret {
  id: string;
  /** The Secret in the build's namespace. */
  secret: string;
  /** Its key (default: the id). */
  key: string;
}

export interface SourceStrategy {
  type: "source";
  builderImage: string;
  incremental: boolean;
  scriptsUrl?: string;
  env: Record<string, string>;
  /** A kubernetes.io/dockerconfigjson Secret for pulling the builder image (and the previous image). */
  pullSecret?: string;
}

export interface CustomStrategy {
  type: "custom";
  builderImage: string;
  env: Record<string, string>;
  exposeDockerSocket: boolean;
  allowDockerSocket: boolean;
}

export type Strategy = DockerStrategy | SourceStrategy | CustomStrategy;

export interface Output {
  image: string;
  ref: ImageReference;
  /** Every additional full reference the image is pushed to. */
  tags: string[];
  pushSecret?: string;
  /** The registry is plain HTTP or has a certificate the builder cannot verify. */
  insecure: boolean;
  labels: Record<string, string>;
  /** false: build to the end and push nothing (the builder keeps the image only until its pod goes). */
  push: boolean;
  /** OCI annotations on the image's manifest (labels go in its config). */
  annotations: Record<string, string>;
  /**
   * The build's provenance attached to the pushed image: true asks for it (refused where the builder cannot
   * attach it), false turns it off; unset attaches it where the builder can.
   */
  provenance?: boolean;
  /** Platforms to build for, "os/arch[/variant]" (linux/arm64); none: the node's own. One at most, for now. */
  platforms: string[];
}

/**
 * A registry layer cache for the docker strategy: build pods start empty, so layers are reused from a
 * registry. It is reached with the output's registry settings (insecure, push secret).
 */
export interface LayerCache {
  /** A repository without a tag: each builder names its cache entries itself. */
  repository: string;
  /** The repository's registry host. */
  registry: string;
  mode: CacheMode;
}

export interface ResourceList {
  cpu?: string;
  memory?: string;
  /** Local disk: the containers' writable layers, their logs and the pod's emptyDir volumes. */
  "ephemeral-storage"?: string;
}

export interface Toleration {
  key?: string;
  operator?: "Exists" | "Equal";
  value?: string;
  effect?: "NoSchedule" | "PreferNoSchedule" | "NoExecute";
  tolerationSeconds?: number;
}

export interface Scheduling {
  nodeSelector: Record<string, string>;
  /** Build a platform the cluster has no node of under QEMU, on any node (whose binfmt_misc must emulate it). */
  emulate: boolean;
  tolerations: Toleration[];
  affinity?: Record<string, unknown>;
  serviceAccountName?: string;
  priorityClassName?: string;
  runtimeClassName?: string;
}

/** Tool images: the source container's (Git, tar, a shell) and each builder's. */
export interface ToolImages {
  source?: string;
  buildah?: string;
  buildkit?: string;
  kaniko?: string;
  docker?: string;
}

/** The tool images' keys in the images section (which also holds pullSecrets). */
export const TOOL_IMAGES = ["source", "buildah", "buildkit", "kaniko", "docker"] as const satisfies readonly (keyof ToolImages)[];

/** A key of a ConfigMap in the build's namespace. */
export interface ConfigMapKey {
  name: string;
  key: string;
}

/** How the build reaches the network: a private CA, registry settings, a forward proxy. */
export interface Network {
  /** PEM certificates trusted besides the images' own: by Git in the source container and by the builder. */
  caBundle?: ConfigMapKey;
  /** A containers-registries.conf (mirrors, short-name aliases, blocked registries) for buildah. */
  registriesConf?: ConfigMapKey;
  /** Forward proxy for http:// and https:// requests: the clone, the builder's pulls and pushes, RUN steps. */
  httpProxy?: string;
  httpsProxy?: string;
  /** Hosts, domains (".example.com") and CIDRs reached directly. */
  noProxy: string[];
}

export interface BuildRequest {
  /** The build's name: groups runs of the same build (labels, prune). */
  name: string;
  namespace: string;
  workload: "job" | "pod";
  source: Source;
  strategy: Strategy;
  output: Output;
  cache?: LayerCache;
  resources: { requests: ResourceList; limits: ResourceList };
  /** Seconds the build may run (activeDeadlineSeconds). */
  timeout: number;
  /** Seconds the pod may take to start before the build fails with the pending cause. */
  startTimeout: number;
  /** Seconds the upload of a binary input may take, from the moment the pod can receive it. */
  uploadTimeout: number;
  /** Seconds a finished build is kept before the cluster deletes it (ttlSecondsAfterFinished). */
  deleteAfter: number;
  /**
   * Times the Job starts the build again when the cluster, not the build, ended it (eviction, preemption, a
   * lost node: the pod's DisruptionTarget condition); the build's own failures are never retried.
   */
  retries: number;
  scheduling: Scheduling;
  /** Kubernetes labels added to the build's Job and Pod. */
  labels: Record<string, string>;
  /** Replacements for the pinned tool images (mirrors in the cluster's own registry, say). */
  images: ToolImages;
  /** Secrets the kubelet pulls the tool images with (the pod's imagePullSecrets). */
  imagePullSecrets: string[];
  network: Network;
}

export const DEFAULTS = {
  namespace: "default",
  timeout: 3600,
  startTimeout: 300,
  uploadTimeout: 600,
  deleteAfter: 3600,
  contextDir: ".",
  caBundleKey: "ca.crt",
  registriesConfKey: "registries.conf",
};

/** Label prefix that buildpod owns; users may not set labels under it. */
export const LABEL_PREFIX = "buildpod.dev/";
