// The build request: one model, validated here and nowhere else. Adapters (build file, flags, action
// inputs) produce a plain object of the build-file shape; parseRequest turns it into a BuildRequest or
// throws an InputError naming the field.
import { parseDuration } from "./duration.js";
import { InputError } from "./errors.js";
import { dnsLabelProblem, dnsSubdomainProblem, envNameProblem, labelKeyProblem, labelValueProblem } from "./names.js";
import { parseQuantity } from "./quantity.js";
import { isTag, parseReference, repositoryOf, type ImageReference } from "./reference.js";

export const STRATEGIES = ["docker", "source", "custom"] as const;
export const BUILDERS = ["buildah", "buildkit", "kaniko", "docker"] as const;
export type StrategyType = (typeof STRATEGIES)[number];
export type BuilderName = (typeof BUILDERS)[number];
/** read-write: reuse the cache and update it; read: reuse only (builds that should not change it, such as pull requests). */
export const CACHE_MODES = ["read-write", "read"] as const;
export type CacheMode = (typeof CACHE_MODES)[number];
/** Builders that keep a layer cache in a registry; the node's Docker daemon keeps its own on the node. */
export const CACHE_BUILDERS: readonly BuilderName[] = ["buildah", "buildkit", "kaniko"];

export interface GitSource {
  url: string;
  /** Branch, tag or commit SHA; the remote's default branch when absent. */
  ref?: string;
  /** A Secret with basic-auth (username/password) or ssh-auth (ssh-privatekey) keys. */
  secret?: string;
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
}

export interface SourceStrategy {
  type: "source";
  builderImage: string;
  incremental: boolean;
  scriptsUrl?: string;
  env: Record<string, string>;
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
  scheduling: Scheduling;
  /** Kubernetes labels added to the build's Job and Pod. */
  labels: Record<string, string>;
  /** Replacements for the pinned tool images (mirrors in the cluster's own registry, say). */
  images: ToolImages;
}

export const DEFAULTS = {
  namespace: "default",
  timeout: 3600,
  startTimeout: 300,
  uploadTimeout: 600,
  deleteAfter: 3600,
  contextDir: ".",
};

/** Label prefix that buildpod owns; users may not set labels under it. */
export const LABEL_PREFIX = "buildpod.dev/";

type Raw = Record<string, unknown>;

const KNOWN: Record<string, readonly string[]> = {
  "": ["name", "namespace", "workload", "source", "strategy", "output", "cache", "resources", "timeout", "startTimeout", "uploadTimeout", "deleteAfter", "scheduling", "labels", "images"],
  images: ["source", "buildah", "buildkit", "kaniko", "docker"],
  source: ["git", "binary", "dockerfile", "contextDir", "sourceDateEpoch"],
  "source.git": ["url", "ref", "secret"],
  "source.binary": ["dir", "archive"],
  strategy: ["type", "builder", "dockerfile", "target", "buildArgs", "builderImage", "allowDockerSocket", "incremental", "scriptsUrl", "env", "exposeDockerSocket"],
  output: ["image", "tags", "pushSecret", "insecure", "labels"],
  cache: ["repository", "mode"],
  resources: ["requests", "limits"],
  "resources.requests": ["cpu", "memory"],
  "resources.limits": ["cpu", "memory"],
  scheduling: ["nodeSelector", "tolerations", "affinity", "serviceAccountName", "priorityClassName", "runtimeClassName"],
};

/** Every field a build file can set, as dotted paths ("source.git.url"): what the adapters offer. */
export function requestFields(): string[] {
  const walk = (path: string): string[] => KNOWN[path].flatMap((key) => (KNOWN[join(path, key)] ? walk(join(path, key)) : [join(path, key)]));
  return walk("");
}

const STRATEGY_FIELDS: Record<StrategyType, readonly string[]> = {
  docker: ["type", "builder", "dockerfile", "target", "buildArgs", "builderImage", "allowDockerSocket"],
  source: ["type", "builderImage", "incremental", "scriptsUrl", "env"],
  custom: ["type", "builderImage", "env", "exposeDockerSocket", "allowDockerSocket"],
};

function join(path: string, key: string): string {
  return path ? `${path}.${key}` : key;
}

function closest(word: string, candidates: readonly string[]): string | undefined {
  let best: string | undefined;
  let bestScore = Infinity;
  for (const c of candidates) {
    const d = editDistance(word.toLowerCase(), c.toLowerCase());
    if (d < bestScore) [best, bestScore] = [c, d];
  }
  return bestScore <= Math.max(2, Math.floor(word.length / 3)) ? best : undefined;
}

function editDistance(a: string, b: string): number {
  const row = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    let prev = row[0];
    row[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const cur = row[j];
      row[j] = Math.min(row[j] + 1, row[j - 1] + 1, prev + (a[i - 1] === b[j - 1] ? 0 : 1));
      prev = cur;
    }
  }
  return row[b.length];
}

function object(value: unknown, path: string): Raw | undefined {
  if (value === undefined || value === null) return undefined;
  if (typeof value !== "object" || Array.isArray(value)) throw new InputError(path, "must be a mapping of fields");
  const known = KNOWN[path];
  if (known) {
    for (const key of Object.keys(value)) {
      if (!known.includes(key)) {
        const hint = closest(key, known);
        throw new InputError(join(path, key), `unknown field${hint ? ` (did you mean ${join(path, hint)}?)` : `; known fields: ${known.join(", ")}`}`);
      }
    }
  }
  return value as Raw;
}

function string(value: unknown, path: string): string | undefined {
  if (value === undefined || value === null) return undefined;
  if (typeof value === "number") return String(value);
  if (typeof value !== "string") throw new InputError(path, "must be a string");
  return value;
}

function required(value: string | undefined, path: string, hint: string): string {
  if (value === undefined || value === "") throw new InputError(path, `is required: ${hint}`);
  return value;
}

function boolean(value: unknown, path: string): boolean | undefined {
  if (value === undefined || value === null) return undefined;
  if (typeof value === "boolean") return value;
  if (value === "true") return true;
  if (value === "false") return false;
  throw new InputError(path, `must be true or false, not ${JSON.stringify(value)}`);
}

function oneOf<T extends string>(value: unknown, path: string, allowed: readonly T[]): T | undefined {
  const s = string(value, path);
  if (s === undefined) return undefined;
  if (!(allowed as readonly string[]).includes(s)) {
    throw new InputError(path, `unknown value "${s}"; choose one of ${allowed.join(", ")}`);
  }
  return s as T;
}

function stringMap(value: unknown, path: string, checkKey?: (key: string) => string | undefined): Record<string, string> {
  if (value === undefined || value === null) return {};
  let entries: [string, unknown][];
  if (Array.isArray(value)) {
    // Lists of KEY=VALUE, as CI inputs and flags give them.
    entries = value.map((item, i) => {
      const s = string(item, `${path}[${i}]`) ?? "";
      const eq = s.indexOf("=");
      if (eq <= 0) throw new InputError(path, `"${s}" is not KEY=VALUE`);
      return [s.slice(0, eq), s.slice(eq + 1)];
    });
  } else if (typeof value === "object") {
    entries = Object.entries(value);
  } else {
    throw new InputError(path, "must be a mapping of KEY: value");
  }
  const out: Record<string, string> = {};
  for (const [key, v] of entries) {
    const problem = checkKey?.(key);
    if (problem) throw new InputError(join(path, key), problem);
    const s = string(v, join(path, key));
    out[key] = s ?? "";
  }
  return out;
}

/** The largest int32: the Kubernetes fields that durations land in are (or are kept to) 32 bits. */
const INT32_MAX = 2 ** 31 - 1;

/** Each duration field: its default, bounds in seconds, and what sets the upper bound. */
const DURATIONS = {
  timeout: { fallback: DEFAULTS.timeout, min: 1, max: INT32_MAX, limit: "the build's deadline (activeDeadlineSeconds) may be at most 2147483647s" },
  startTimeout: { fallback: DEFAULTS.startTimeout, min: 1, max: INT32_MAX, limit: "the start timeout may be at most 2147483647s" },
  // The client's upload timer: Node.js timers hold at most 2^31-1 ms and fire at once beyond that.
  uploadTimeout: { fallback: DEFAULTS.uploadTimeout, min: 1, max: Math.floor(INT32_MAX / 1000), limit: "the upload timer holds at most 2147483s" },
  deleteAfter: { fallback: DEFAULTS.deleteAfter, min: 0, max: INT32_MAX, limit: "the Job's ttlSecondsAfterFinished is a 32-bit number of seconds, at most 2147483647" },
} as const;

function duration(value: unknown, path: keyof typeof DURATIONS): number {
  const { fallback, min, max, limit } = DURATIONS[path];
  if (value === undefined || value === null || value === "") return fallback;
  const seconds = parseDuration(value);
  if (seconds === undefined) {
    throw new InputError(path, `${JSON.stringify(value)} is not a duration; write it like 90s, 15m, 1h30m or 2d`);
  }
  if (seconds < min) throw new InputError(path, `must be at least ${min}s`);
  if (seconds > max) throw new InputError(path, `${JSON.stringify(value)} is too long: ${limit}; give ${Math.floor(max / 86400)}d or less`);
  return seconds;
}

/** A whole number in [min, max] from a YAML/JSON number or a string of digits; undefined when absent. `what` says both. */
function wholeNumber(value: unknown, path: string, min: number, max: number, what: string): number | undefined {
  if (value === undefined || value === null || value === "") return undefined;
  const n = typeof value === "number" ? value : typeof value === "string" && /^\s*-?\d+\s*$/.test(value) ? Number(value) : NaN;
  if (!Number.isSafeInteger(n) || n < min || n > max) throw new InputError(path, `must be ${what}, not ${JSON.stringify(value)}`);
  return n;
}

function quantity(value: unknown, path: string, kind: "cpu" | "memory"): string | undefined {
  const s = string(value, path);
  if (s === undefined || s === "") return undefined;
  const n = parseQuantity(s);
  if (n === undefined) {
    const example = kind === "cpu" ? "500m or 2" : "512Mi or 4Gi";
    throw new InputError(path, `"${s}" is not a Kubernetes quantity; write it like ${example}`);
  }
  if (n <= 0) throw new InputError(path, "must be greater than zero");
  if (kind === "memory" && n < 4 * 2 ** 20) {
    throw new InputError(path, `"${s}" is ${n} bytes: too little for a build (did you mean ${s}Mi?)`);
  }
  return s;
}

function image(value: string, path: string, opts: { allowDigest: boolean }): ImageReference {
  const ref = parseReference(value);
  if (typeof ref === "string") throw new InputError(path, `"${value}" is not a valid image reference: it ${ref}`);
  if (!opts.allowDigest && ref.digest) {
    throw new InputError(path, `"${value}" names a digest; the output must be a tag the build can push to`);
  }
  return ref;
}

function relativePath(value: string, path: string): string {
  if (value.startsWith("/")) throw new InputError(path, `"${value}" must be relative to the source root, not absolute`);
  const parts: string[] = [];
  for (const part of value.split("/")) {
    if (part === "" || part === ".") continue;
    if (part === "..") {
      if (parts.length === 0) throw new InputError(path, `"${value}" points outside the source`);
      parts.pop();
    } else parts.push(part);
  }
  return parts.length ? parts.join("/") : ".";
}

function secretName(value: unknown, path: string): string | undefined {
  const s = string(value, path);
  if (s === undefined || s === "") return undefined;
  const problem = dnsSubdomainProblem(s);
  if (problem) throw new InputError(path, problem);
  return s;
}

/**
 * What the custom strategy sets in the builder's environment besides BUILDPOD_*: OpenShift's custom build
 * contract. These come after the user's env, so a user's value would be silently replaced.
 */
export const CUSTOM_CONTRACT_ENV = [
  "BUILD", "OUTPUT_REGISTRY", "OUTPUT_IMAGE", "SOURCE_REPOSITORY", "SOURCE_URI", "SOURCE_REF", "SOURCE_CONTEXT_DIR",
  "PUSH_DOCKERCFG_PATH", "DOCKER_CONFIG", "DOCKER_SOCKET",
] as const;

function userEnv(value: unknown, path: string): Record<string, string> {
  return stringMap(value, path, (key) =>
    envNameProblem(key) ?? (key.startsWith("BUILDPOD_") ? `"${key}": names starting with BUILDPOD_ are reserved` : undefined),
  );
}

function parseSource(raw: Raw | undefined): Source {
  const src = object(raw ?? {}, "source")!;
  const gitRaw = object(src.git, "source.git");
  const binRaw = object(src.binary, "source.binary");
  const dockerfile = string(src.dockerfile, "source.dockerfile");
  const contextDir = relativePath(string(src.contextDir, "source.contextDir") ?? DEFAULTS.contextDir, "source.contextDir");
  let git: GitSource | undefined;
  let binary: BinarySource | undefined;
  if (gitRaw) {
    const url = required(string(gitRaw.url, "source.git.url"), "source.git.url", "the repository to clone");
    if (!/^(https?:\/\/|git:\/\/|ssh:\/\/|file:\/\/)\S+$/.test(url) && !/^[\w.-]+@[\w.-]+:\S+$/.test(url)) {
      throw new InputError("source.git.url", `"${url}" is not a Git URL (https://, ssh://, git:// or user@host:path)`);
    }
    if (/^https?:\/\/[^/@]*:[^/@]*@/.test(url)) {
      throw new InputError("source.git.url", "must not carry a password; put credentials in a Secret and name it in source.git.secret");
    }
    const ref = string(gitRaw.ref, "source.git.ref") || undefined;
    if (ref !== undefined && (/\s/.test(ref) || ref.startsWith("-") || ref.includes(".."))) {
      throw new InputError("source.git.ref", `"${ref}" is not a valid branch, tag or commit`);
    }
    git = { url, ref, secret: secretName(gitRaw.secret, "source.git.secret") };
  }
  if (binRaw) {
    const dir = string(binRaw.dir, "source.binary.dir");
    const archive = string(binRaw.archive, "source.binary.archive");
    if (dir && archive) throw new InputError("source.binary", "give either dir or archive, not both");
    if (!dir && !archive) throw new InputError("source.binary", "give dir (a local directory) or archive (a .tar or .tar.gz file)");
    binary = dir ? { path: dir, format: "directory" } : { path: archive!, format: "archive" };
  }
  if (git && binary) throw new InputError("source", "give either a Git repository or a binary input, not both");
  if (!git && !binary && dockerfile === undefined) {
    throw new InputError("source", "is required: a Git repository (source.git.url, --git), a local directory or archive (--from-dir, --from-archive), or an inline Dockerfile");
  }
  // Builders read SOURCE_DATE_EPOCH as a decimal integer: no exponents, and no dates past year 9999.
  const sourceDateEpoch = wholeNumber(src.sourceDateEpoch, "source.sourceDateEpoch", 0, 253402300799, "a whole number of seconds since 1970, at most 253402300799 (the end of year 9999)");
  return { git, binary, dockerfile, contextDir, sourceDateEpoch };
}

function parseStrategy(raw: Raw | undefined, source: Source): Strategy {
  const s = object(raw ?? {}, "strategy")!;
  const type = oneOf(s.type, "strategy.type", STRATEGIES) ?? "docker";
  for (const key of Object.keys(s)) {
    if (s[key] !== undefined && !STRATEGY_FIELDS[type].includes(key)) {
      const owners = STRATEGIES.filter((t) => STRATEGY_FIELDS[t].includes(key));
      throw new InputError(`strategy.${key}`, `does not apply to the ${type} strategy (it is for ${owners.join(" and ")})`);
    }
  }
  const builderImage = string(s.builderImage, "strategy.builderImage") || undefined;
  if (builderImage) image(builderImage, "strategy.builderImage", { allowDigest: true });
  if (type === "docker") {
    const builder = oneOf(s.builder, "strategy.builder", BUILDERS) ?? "buildah";
    const allowDockerSocket = boolean(s.allowDockerSocket, "strategy.allowDockerSocket") ?? false;
    if (builder === "docker" && !allowDockerSocket) {
      throw new InputError("strategy.builder", "the docker builder uses the node's Docker socket, which is root on that node; set strategy.allowDockerSocket (--allow-docker-socket) to accept that, or use buildah");
    }
    const dockerfileDefault = source.contextDir === "." ? "Dockerfile" : `${source.contextDir}/Dockerfile`;
    const dockerfile = relativePath(string(s.dockerfile, "strategy.dockerfile") || dockerfileDefault, "strategy.dockerfile");
    const target = string(s.target, "strategy.target") || undefined;
    if (target !== undefined && !/^[A-Za-z0-9][A-Za-z0-9_.-]*$/.test(target)) {
      throw new InputError("strategy.target", `"${target}" is not a build stage name`);
    }
    const buildArgs = stringMap(s.buildArgs, "strategy.buildArgs", (k) => (/^[A-Za-z_][A-Za-z0-9_]*$/.test(k) ? undefined : `"${k}" is not a valid build argument name`));
    return { type, builder, dockerfile, target, buildArgs, builderImage, allowDockerSocket };
  }
  if (type === "source") {
    const img = required(builderImage, "strategy.builderImage", "the S2I builder image (--builder-image)");
    const scriptsUrl = string(s.scriptsUrl, "strategy.scriptsUrl") || undefined;
    if (scriptsUrl !== undefined && !/^image:\/\/\/\S+$/.test(scriptsUrl)) {
      throw new InputError("strategy.scriptsUrl", `"${scriptsUrl}" is not supported: give the scripts' directory inside the builder image as image:///path`);
    }
    for (const [k, v] of Object.entries(s.env && typeof s.env === "object" && !Array.isArray(s.env) ? s.env : {})) {
      if (typeof v === "string" && /[\r\n]/.test(v)) throw new InputError(`strategy.env.${k}`, "must be a single line");
    }
    return {
      type, builderImage: img, scriptsUrl, env: userEnv(s.env, "strategy.env"),
      incremental: boolean(s.incremental, "strategy.incremental") ?? false,
    };
  }
  const img = required(builderImage, "strategy.builderImage", "the custom builder image (--builder-image)");
  const exposeDockerSocket = boolean(s.exposeDockerSocket, "strategy.exposeDockerSocket") ?? false;
  const allowDockerSocket = boolean(s.allowDockerSocket, "strategy.allowDockerSocket") ?? false;
  if (exposeDockerSocket && !allowDockerSocket) {
    throw new InputError("strategy.exposeDockerSocket", "exposes the node's Docker socket, which is root on that node; set strategy.allowDockerSocket (--allow-docker-socket) to accept that");
  }
  const env = userEnv(s.env, "strategy.env");
  for (const name of Object.keys(env)) {
    if ((CUSTOM_CONTRACT_ENV as readonly string[]).includes(name)) {
      throw new InputError(`strategy.env.${name}`, `"${name}" is set by buildpod for the custom builder (OpenShift's custom build contract), so your value would be replaced; use another name`);
    }
  }
  return { type, builderImage: img, env, exposeDockerSocket, allowDockerSocket };
}

function parseOutput(raw: Raw | undefined): Output {
  const o = object(raw ?? {}, "output")!;
  const img = required(string(o.image, "output.image"), "output.image", "the image to push, e.g. registry.example.com/team/app:1.0 (--image)");
  const ref = image(img, "output.image", { allowDigest: false });
  const withTag = ref.tag ? img : `${img}:latest`;
  const tagList = o.tags === undefined || o.tags === null ? [] : Array.isArray(o.tags) ? o.tags : String(o.tags).split(/[\s,]+/).filter(Boolean);
  const tags: string[] = [];
  tagList.forEach((t, i) => {
    const path = `output.tags[${i}]`;
    const text = string(t, path) ?? "";
    const full = isTag(text) ? `${repositoryOf(img)}:${text}` : text;
    image(full, path, { allowDigest: false });
    if (full !== withTag && !tags.includes(full)) tags.push(full);
  });
  const labels = stringMap(o.labels, "output.labels", (k) => (k.length === 0 || /[\s=]/.test(k) ? `"${k}" is not a valid image label key` : undefined));
  return {
    image: withTag, ref: { ...ref, tag: ref.tag ?? "latest" }, tags, labels,
    pushSecret: secretName(o.pushSecret, "output.pushSecret"),
    insecure: boolean(o.insecure, "output.insecure") ?? false,
  };
}

function parseCache(raw: Raw | undefined, strategy: Strategy): LayerCache | undefined {
  if (raw === undefined) return undefined;
  const repository = required(string(raw.repository, "cache.repository"), "cache.repository", "the registry repository to keep the layer cache in, e.g. registry.example.com/team/app-cache (--cache)");
  const ref = parseReference(repository);
  if (typeof ref === "string") throw new InputError("cache.repository", `"${repository}" is not a valid repository: it ${ref}`);
  if (ref.tag || ref.digest) {
    throw new InputError("cache.repository", `"${repository}" names a ${ref.digest ? "digest" : "tag"}; give the repository alone: each builder names its cache entries itself`);
  }
  const mode = oneOf(raw.mode, "cache.mode", CACHE_MODES) ?? "read-write";
  if (strategy.type === "source") {
    throw new InputError("cache", "applies to the docker strategy; S2I builds reuse the previous image's artifacts with strategy.incremental (--incremental)");
  }
  if (strategy.type === "custom") throw new InputError("cache", "applies to the docker strategy; a custom builder keeps its own cache");
  if (!CACHE_BUILDERS.includes(strategy.builder)) {
    throw new InputError("cache", `the ${strategy.builder} builder keeps its cache on the node; a registry layer cache works with ${CACHE_BUILDERS.join(", ")}`);
  }
  return { repository, registry: ref.registry, mode };
}

function parseResources(raw: Raw | undefined): BuildRequest["resources"] {
  const r = object(raw ?? {}, "resources")!;
  const requests = object(r.requests ?? {}, "resources.requests")!;
  const limits = object(r.limits ?? {}, "resources.limits")!;
  const out = {
    requests: { cpu: quantity(requests.cpu, "resources.requests.cpu", "cpu"), memory: quantity(requests.memory, "resources.requests.memory", "memory") },
    limits: { cpu: quantity(limits.cpu, "resources.limits.cpu", "cpu"), memory: quantity(limits.memory, "resources.limits.memory", "memory") },
  };
  for (const kind of ["cpu", "memory"] as const) {
    const req = out.requests[kind];
    const lim = out.limits[kind];
    if (req && lim && parseQuantity(req)! > parseQuantity(lim)!) {
      throw new InputError(`resources.requests.${kind}`, `${req} is more than the limit ${lim}`);
    }
  }
  return out;
}

const TOLERATION_FIELDS = ["key", "operator", "value", "effect", "tolerationSeconds"];

function parseTolerations(value: unknown): Toleration[] {
  if (value === undefined || value === null) return [];
  if (!Array.isArray(value)) throw new InputError("scheduling.tolerations", "must be a list");
  return value.map((item, i) => {
    const path = `scheduling.tolerations[${i}]`;
    if (typeof item === "string") return checkToleration(parseTolerationText(item, path), () => path);
    if (!item || typeof item !== "object" || Array.isArray(item)) throw new InputError(path, "must be a mapping or KEY[=VALUE]:EFFECT");
    const t = item as Raw;
    for (const key of Object.keys(t)) {
      if (!TOLERATION_FIELDS.includes(key)) throw new InputError(`${path}.${key}`, `unknown field; a toleration has ${TOLERATION_FIELDS.join(", ")}`);
    }
    const tol: Toleration = {
      key: string(t.key, `${path}.key`),
      operator: oneOf(t.operator, `${path}.operator`, ["Exists", "Equal"] as const),
      value: string(t.value, `${path}.value`),
      effect: oneOf(t.effect, `${path}.effect`, ["NoSchedule", "PreferNoSchedule", "NoExecute"] as const),
      tolerationSeconds: wholeNumber(t.tolerationSeconds, `${path}.tolerationSeconds`, 0, INT32_MAX, `a whole number of seconds from 0 to ${INT32_MAX}`),
    };
    return checkToleration(Object.fromEntries(Object.entries(tol).filter(([, v]) => v !== undefined)) as Toleration, (f) => `${path}.${f}`);
  });
}

/** The API server's rules between a toleration's fields; `field` names one in errors (the text form has one path). */
function checkToleration(tol: Toleration, field: (name: string) => string): Toleration {
  if (tol.key) {
    const problem = labelKeyProblem(tol.key);
    if (problem) throw new InputError(field("key"), problem);
  } else if (tol.operator !== "Exists") {
    throw new InputError(field("operator"), "must be Exists when key is empty (a toleration of every taint); give a key, or operator: Exists");
  }
  if (tol.operator === "Exists" && tol.value) {
    throw new InputError(field("value"), `must be empty with operator Exists, which matches any value; drop the value, or use operator: Equal to match "${tol.value}"`);
  }
  if (tol.operator !== "Exists" && tol.value) {
    const problem = labelValueProblem(tol.value);
    if (problem) throw new InputError(field("value"), problem);
  }
  if (tol.tolerationSeconds !== undefined && tol.effect !== "NoExecute") {
    throw new InputError(field("tolerationSeconds"), "applies only to effect NoExecute (how long the pod stays on a node after the taint appears); set effect: NoExecute or drop it");
  }
  return tol;
}

/** "key=value:NoSchedule", "key:NoExecute", "key" (Exists, any effect). */
function parseTolerationText(text: string, path: string): Toleration {
  const m = /^([^=:]+)(?:=([^:]*))?(?::(NoSchedule|PreferNoSchedule|NoExecute))?$/.exec(text);
  if (!m) throw new InputError(path, `"${text}" is not a toleration; write KEY[=VALUE][:EFFECT], e.g. dedicated=builds:NoSchedule`);
  const tol: Toleration = { key: m[1], operator: m[2] === undefined ? "Exists" : "Equal" };
  if (m[2] !== undefined) tol.value = m[2];
  if (m[3]) tol.effect = m[3] as Toleration["effect"];
  return tol;
}

function labels(value: unknown, path: string): Record<string, string> {
  const out = stringMap(value, path, (k) =>
    labelKeyProblem(k) ?? (k.startsWith(LABEL_PREFIX) ? `"${k}": labels under ${LABEL_PREFIX} are set by buildpod` : undefined),
  );
  for (const [k, v] of Object.entries(out)) {
    const problem = labelValueProblem(v);
    if (problem) throw new InputError(join(path, k), problem);
  }
  return out;
}

// Affinity: the Kubernetes types as data, so one walk checks and copies any of them. The walk refuses
// unknown fields and wrong types; each shape's `rule` holds the API server's checks between fields.
type Shape =
  | { kind: "object"; type: string; fields: Record<string, Shape>; required?: Record<string, string>; rule?: (v: Raw, path: string) => void }
  | { kind: "list"; item: Shape; nonEmpty?: string }
  | { kind: "string"; problem?: (s: string) => string | undefined; choices?: readonly string[] }
  | { kind: "weight" }
  | { kind: "labels" };

const text = (problem?: (s: string) => string | undefined): Shape => ({ kind: "string", problem });
const list = (item: Shape, nonEmpty?: string): Shape => ({ kind: "list", item, nonEmpty });
const LABEL_KEY = text(labelKeyProblem);
const NODE_OPERATORS = ["In", "NotIn", "Exists", "DoesNotExist", "Gt", "Lt"] as const;
const LABEL_OPERATORS = ["In", "NotIn", "Exists", "DoesNotExist"] as const;

/** How many values each operator takes, as the API server checks it. */
function checkValues(r: Raw, path: string): void {
  const values = (r.values ?? []) as string[];
  const at = `${path}.values`;
  switch (r.operator) {
    case "In": case "NotIn":
      if (!values.length) throw new InputError(at, `must list at least one value for operator ${r.operator}`);
      break;
    case "Exists": case "DoesNotExist":
      if (values.length) throw new InputError(at, `must be empty for operator ${r.operator}, which looks at the key alone`);
      break;
    default: // Gt, Lt
      if (values.length !== 1 || !/^-?\d+$/.test(values[0])) throw new InputError(at, `must be exactly one whole number for operator ${r.operator}, e.g. ["4"]`);
  }
}

const requirement = (type: string, choices: readonly string[], value: Shape, key = LABEL_KEY, more?: (r: Raw, path: string) => void): Shape => ({
  kind: "object", type,
  fields: { key, operator: { kind: "string", choices }, values: list(value) },
  required: { key: "the label to look at", operator: `one of ${choices.join(", ")}` },
  rule: (r, path) => {
    checkValues(r, path);
    more?.(r, path);
  },
});

const NODE_SELECTOR_TERM: Shape = {
  kind: "object", type: "NodeSelectorTerm",
  fields: {
    matchExpressions: list(requirement("NodeSelectorRequirement", NODE_OPERATORS, text())),
    // The API server selects nodes by one field only, their name, with one value.
    matchFields: list(requirement(
      "NodeSelectorRequirement", ["In", "NotIn"], text(),
      text((k) => (k === "metadata.name" ? undefined : `"${k}" is not supported: matchFields selects by metadata.name only`)),
      (r, path) => {
        if ((r.values as string[]).length !== 1) throw new InputError(`${path}.values`, "must be exactly one node name");
      },
    )),
  },
  rule: (t, path) => {
    if (!(t.matchExpressions as unknown[] | undefined)?.length && !(t.matchFields as unknown[] | undefined)?.length) {
      throw new InputError(path, "matches no node: give matchExpressions or matchFields");
    }
  },
};

const LABEL_SELECTOR: Shape = {
  kind: "object", type: "LabelSelector",
  fields: { matchLabels: { kind: "labels" }, matchExpressions: list(requirement("LabelSelectorRequirement", LABEL_OPERATORS, text(labelValueProblem))) },
};

const POD_AFFINITY_TERM: Shape = {
  kind: "object", type: "PodAffinityTerm",
  fields: {
    labelSelector: LABEL_SELECTOR, namespaceSelector: LABEL_SELECTOR, topologyKey: LABEL_KEY,
    namespaces: list(text((n) => dnsLabelProblem(n))), matchLabelKeys: list(LABEL_KEY), mismatchLabelKeys: list(LABEL_KEY),
  },
  required: { topologyKey: "the node label that groups nodes, e.g. kubernetes.io/hostname or topology.kubernetes.io/zone" },
  rule: (t, path) => {
    for (const f of ["matchLabelKeys", "mismatchLabelKeys"]) {
      if ((t[f] as unknown[] | undefined)?.length && !t.labelSelector) throw new InputError(`${path}.${f}`, "needs a labelSelector to add to");
    }
  },
};

const WEIGHT: Shape = { kind: "weight" };
const podAffinity = (type: string): Shape => ({
  kind: "object", type,
  fields: {
    requiredDuringSchedulingIgnoredDuringExecution: list(POD_AFFINITY_TERM),
    preferredDuringSchedulingIgnoredDuringExecution: list({
      kind: "object", type: "WeightedPodAffinityTerm", fields: { weight: WEIGHT, podAffinityTerm: POD_AFFINITY_TERM },
      required: { weight: "1 to 100", podAffinityTerm: "the pods to look for" },
    }),
  },
});

const AFFINITY: Shape = {
  kind: "object", type: "Affinity",
  fields: {
    nodeAffinity: {
      kind: "object", type: "NodeAffinity",
      fields: {
        requiredDuringSchedulingIgnoredDuringExecution: {
          kind: "object", type: "NodeSelector",
          fields: { nodeSelectorTerms: list(NODE_SELECTOR_TERM, "give at least one term; a node must match one of them") },
          required: { nodeSelectorTerms: "a list of terms, one of which a node must match" },
        },
        preferredDuringSchedulingIgnoredDuringExecution: list({
          kind: "object", type: "PreferredSchedulingTerm", fields: { weight: WEIGHT, preference: NODE_SELECTOR_TERM },
          required: { weight: "1 to 100", preference: "the node selector term to prefer" },
        }),
      },
    },
    podAffinity: podAffinity("PodAffinity"),
    podAntiAffinity: podAffinity("PodAntiAffinity"),
  },
};

const an = (type: string) => `${/^[AEIOU]/.test(type) ? "an" : "a"} ${type}`;
const shown = (value: unknown) => {
  const s = JSON.stringify(value) ?? String(value);
  return s.length > 40 ? `${s.slice(0, 37)}...` : s;
};

/** Checks `value` against `shape` and returns a clean copy (numbers in string fields become strings). */
function conform(value: unknown, shape: Shape, path: string): unknown {
  switch (shape.kind) {
    case "string": {
      const s = string(value, path) ?? "";
      if (shape.choices && !shape.choices.includes(s)) throw new InputError(path, `unknown value ${JSON.stringify(s)}; choose one of ${shape.choices.join(", ")}`);
      const problem = shape.problem?.(s);
      if (problem) throw new InputError(path, problem);
      return s;
    }
    case "weight":
      return wholeNumber(value, path, 1, 100, "a whole number from 1 to 100");
    case "labels": {
      const out = stringMap(value, path, labelKeyProblem);
      for (const [k, v] of Object.entries(out)) {
        const problem = labelValueProblem(v);
        if (problem) throw new InputError(join(path, k), problem);
      }
      return out;
    }
    case "list": {
      if (!Array.isArray(value)) throw new InputError(path, `must be a list (not ${shown(value)})`);
      if (shape.nonEmpty && value.length === 0) throw new InputError(path, `is empty: ${shape.nonEmpty}`);
      return value.map((item, i) => conform(item, shape.item, `${path}[${i}]`));
    }
    case "object": {
      const names = Object.keys(shape.fields);
      if (typeof value !== "object" || value === null || Array.isArray(value)) {
        throw new InputError(path, `must be ${an(shape.type)}, a mapping with any of ${names.join(", ")} (not ${shown(value)})`);
      }
      const v = value as Raw;
      for (const key of Object.keys(v)) {
        if (shape.fields[key]) continue;
        const hint = closest(key, names);
        throw new InputError(`${path}.${key}`, `unknown field${hint ? ` (did you mean ${hint}?)` : `; ${an(shape.type)} has ${names.join(", ")}`}`);
      }
      for (const [key, what] of Object.entries(shape.required ?? {})) {
        if (v[key] === undefined || v[key] === null || v[key] === "") throw new InputError(`${path}.${key}`, `is required: ${what}`);
      }
      const out: Raw = {};
      for (const [key, field] of Object.entries(shape.fields)) {
        if (v[key] !== undefined && v[key] !== null) out[key] = conform(v[key], field, `${path}.${key}`);
      }
      shape.rule?.(out, path);
      return out;
    }
  }
}

function parseScheduling(raw: Raw | undefined): Scheduling {
  const s = object(raw ?? {}, "scheduling")!;
  const nodeSelector = labels(s.nodeSelector, "scheduling.nodeSelector");
  const affinity = s.affinity === undefined || s.affinity === null ? undefined : (conform(s.affinity, AFFINITY, "scheduling.affinity") as Raw);
  return {
    nodeSelector, tolerations: parseTolerations(s.tolerations),
    ...(affinity && Object.keys(affinity).length ? { affinity } : {}),
    serviceAccountName: secretName(s.serviceAccountName, "scheduling.serviceAccountName"),
    priorityClassName: secretName(s.priorityClassName, "scheduling.priorityClassName"),
    runtimeClassName: secretName(s.runtimeClassName, "scheduling.runtimeClassName"),
  };
}

/** The default build name: the output repository's last path component, made a valid name. */
function defaultName(ref: ImageReference): string {
  const last = ref.repository.split("/").pop() ?? "build";
  const cleaned = last.toLowerCase().replace(/[^a-z0-9-]+/g, "-").replace(/^-+|-+$/g, "").slice(0, 40);
  return cleaned || "build";
}

/** Builds the one validated request from a build-file-shaped object. Throws InputError. */
export function parseRequest(input: unknown): BuildRequest {
  const raw = object(input ?? {}, "")!;
  const source = parseSource(object(raw.source, "source"));
  const strategy = parseStrategy(object(raw.strategy, "strategy"), source);
  const output = parseOutput(object(raw.output, "output"));
  const cache = parseCache(object(raw.cache, "cache"), strategy);
  const name = string(raw.name, "name") || defaultName(output.ref);
  // Room for the "-xxxxx" run suffix inside a 63-character pod name label.
  const nameProblem = dnsLabelProblem(name, 50);
  if (nameProblem) throw new InputError("name", nameProblem);
  const namespace = string(raw.namespace, "namespace") || DEFAULTS.namespace;
  const nsProblem = dnsLabelProblem(namespace);
  if (nsProblem) throw new InputError("namespace", nsProblem);
  const imagesRaw = object(raw.images, "images") ?? {};
  const images: ToolImages = {};
  for (const key of KNOWN.images as (keyof ToolImages)[]) {
    const value = string(imagesRaw[key], `images.${key}`) || undefined;
    if (!value) continue;
    image(value, `images.${key}`, { allowDigest: true });
    images[key] = value;
  }
  if (strategy.type === "source" && source.dockerfile !== undefined) {
    throw new InputError("source.dockerfile", "does not apply to the source strategy: S2I builds generate their own Dockerfile from the builder image; drop the inline Dockerfile, or build it with the docker strategy");
  }
  if (strategy.type === "docker" && strategy.builder === "docker" && output.insecure) {
    throw new InputError("output.insecure", "does not apply to the docker builder: the node's Docker daemon pushes, and its own configuration (insecure-registries in its daemon.json) decides which registries may be plain HTTP or unverified; drop output.insecure (--insecure-registry) and configure the daemon, or use buildah");
  }
  if (strategy.type === "source" && !source.git && !source.binary) {
    throw new InputError("source", "the source strategy needs source code: a Git repository or a binary input");
  }
  return {
    name, namespace, source, strategy, output, images,
    ...(cache ? { cache } : {}),
    workload: oneOf(raw.workload, "workload", ["job", "pod"] as const) ?? "job",
    resources: parseResources(object(raw.resources, "resources")),
    timeout: duration(raw.timeout, "timeout"),
    startTimeout: duration(raw.startTimeout, "startTimeout"),
    uploadTimeout: duration(raw.uploadTimeout, "uploadTimeout"),
    deleteAfter: duration(raw.deleteAfter, "deleteAfter"),
    scheduling: parseScheduling(object(raw.scheduling, "scheduling")),
    labels: labels(raw.labels, "labels"),
  };
}

/**
 * Tool image mirrors from the environment, BUILDPOD_IMAGE_SOURCE, BUILDPOD_IMAGE_BUILDAH and so on, as a
 * build-file fragment that every adapter lays under its file and inputs.
 */
export function imagesFromEnv(env: Record<string, string | undefined>): Record<string, unknown> {
  const images: Record<string, string> = {};
  for (const key of KNOWN.images) {
    const value = env[`BUILDPOD_IMAGE_${key.toUpperCase()}`];
    if (value) images[key] = value;
  }
  return Object.keys(images).length ? { images } : {};
}
