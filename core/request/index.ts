// The build request: one model, validated here and nowhere else. Adapters (build file, flags, action
// inputs) produce a plain object of the build-file shape; parseRequest turns it into a BuildRequest or
// throws an InputError naming the field. Each section has its reader (source.ts, strategy.ts, output.ts,
// scheduling.ts, affinity.ts); the rules between sections are here.
import { BUILDERS, buildersWhere, DEFAULT_BUILDER } from "../builders/index.js";
import { InputError } from "../errors.js";
import { dnsLabelProblem } from "../names.js";
import { platformImage, platformJobSuffix } from "../multi-platform.js";
import { parseReference, type ImageReference } from "../reference.js";
import { platformSelector } from "../platform.js";
import { checkNetwork, parseNetwork } from "./network.js";
import { parseCache, parseOutput } from "./output.js";
import { duration, image, labels, listItems, object, oneOf, secretName, string, wholeNumber } from "./read.js";
import { parseResources, parseScheduling } from "./scheduling.js";
import { parseSource } from "./source.js";
import { parseStrategy } from "./strategy.js";
import { type BuildRequest, DEFAULTS, type Output, TOOL_IMAGES, type ToolImages } from "./types.js";

export * from "./types.js";
export { FIELDS, inputName, stepParameter, taskParam, type FieldKind, type RequestField } from "./fields.js";
export { CUSTOM_CONTRACT_ENV } from "./strategy.js";
/** The default build name: the output repository's last path component, made a valid name. */
function defaultName(ref: ImageReference): string {
  const last = ref.repository.split("/").pop() ?? "build";
  const cleaned = last.toLowerCase().replace(/[^a-z0-9-]+/g, "-").replace(/^-+|-+$/g, "").slice(0, 40);
  return cleaned || "build";
}

/** Each attempt can take a build's whole timeout: more than a few retries hide a cluster's trouble. */
const MAX_RETRIES = 10;

export interface ParseOptions {
  /** The environment of the process that starts the build: read only for network.proxyFromEnv. */
  env?: Record<string, string | undefined>;
}

/** The pod's imagePullSecrets, each once. */
function pullSecrets(value: unknown): string[] {
  const out: string[] = [];
  listItems(value).forEach((item, i) => {
    const name = secretName(item, `images.pullSecrets[${i}]`);
    if (name && !out.includes(name)) out.push(name);
  });
  return out;
}

/** Builds the one validated request from a build-file-shaped object. Throws InputError. */
export function parseRequest(input: unknown, opts: ParseOptions = {}): BuildRequest {
  const raw = object(input ?? {}, "")!;
  const source = parseSource(object(raw.source, "source"));
  const strategy = parseStrategy(object(raw.strategy, "strategy"), source);
  const output = parseOutput(object(raw.output, "output"));
  const cache = parseCache(object(raw.cache, "cache"), strategy);
  const scheduling = parseScheduling(object(raw.scheduling, "scheduling"));
  const name = string(raw.name, "name") || defaultName(output.ref);
  // Room for the "-xxxxx" run suffix inside a 63-character pod name label.
  const nameProblem = dnsLabelProblem(name, 50);
  if (nameProblem) throw new InputError("name", nameProblem);
  const namespace = string(raw.namespace, "namespace") || DEFAULTS.namespace;
  const nsProblem = dnsLabelProblem(namespace);
  if (nsProblem) throw new InputError("namespace", nsProblem);
  const imagesRaw = object(raw.images, "images") ?? {};
  const images: ToolImages = {};
  for (const key of TOOL_IMAGES) {
    const value = string(imagesRaw[key], `images.${key}`) || undefined;
    if (!value) continue;
    image(value, `images.${key}`, { allowDigest: true });
    images[key] = value;
  }
  if (strategy.type === "source" && source.dockerfile !== undefined) {
    throw new InputError("source.dockerfile", "does not apply to the source strategy: S2I builds generate their own Dockerfile from the builder image; drop the inline Dockerfile, or build it with the docker strategy");
  }
  if (strategy.type === "docker" && !BUILDERS[strategy.builder].supports.annotations && Object.keys(output.annotations).length) {
    throw new InputError("output.annotations", `the ${strategy.builder} builder cannot put annotations on the image's manifest; use ${buildersWhere((b) => b.supports.annotations).join(" or ")}, or drop the annotations (labels go on every builder)`);
  }
  if (strategy.type === "docker" && BUILDERS[strategy.builder].nodeDaemon && output.insecure) {
    throw new InputError("output.insecure", `does not apply to the ${strategy.builder} builder: the node's Docker daemon pushes, and its own configuration (insecure-registries in its daemon.json) decides which registries may be plain HTTP or unverified; drop output.insecure (--insecure-registry) and configure the daemon, or use ${DEFAULT_BUILDER}`);
  }
  const platform = output.platforms[0];
  if (platform && !(strategy.type === "docker" && BUILDERS[strategy.builder].supports.platforms)) {
    const who = strategy.type === "docker" ? `the ${strategy.builder} builder builds` : strategy.type === "source" ? "S2I builds build" : "a custom builder builds";
    throw new InputError("output.platforms", `${who} for the node's own platform; build ${platform} with the docker strategy and ${buildersWhere((b) => b.supports.platforms).join(" or ")}, or drop the platform (--platform)`);
  }
  if (scheduling.emulate && !platform) {
    throw new InputError("scheduling.emulate", "applies to a build for another platform; name it with output.platforms (--platform), e.g. linux/arm64");
  }
  for (const p of output.platforms) {
    for (const [label, value] of Object.entries(platformSelector(p))) {
      const given = scheduling.nodeSelector[label];
      if (given !== undefined && given !== value) {
        throw new InputError("scheduling.nodeSelector", `${label}=${given} contradicts the platform ${p}; drop the node selector (the platform places the build)`);
      }
    }
  }
  if (output.platforms.length > 1) checkSeveralPlatforms(name, output, raw.workload);
  const workload = oneOf(raw.workload, "workload", ["job", "pod"] as const) ?? "job";
  const retries = wholeNumber(raw.retries, "retries", 0, MAX_RETRIES, `a whole number from 0 to ${MAX_RETRIES}`) ?? 0;
  if (retries > 0 && workload === "pod") {
    throw new InputError("retries", "needs a Job: a bare Pod (--pod) is never started again; drop --pod or --retries");
  }
  if (strategy.type === "source" && !source.git && !source.binary) {
    throw new InputError("source", "the source strategy needs source code: a Git repository or a binary input");
  }
  const network = parseNetwork(object(raw.network, "network"), opts.env ?? {});
  checkNetwork(network, strategy, output.pushSecret);
  return {
    name, namespace, source, strategy, output, images,
    ...(cache ? { cache } : {}),
    workload,
    resources: parseResources(object(raw.resources, "resources")),
    timeout: duration(raw.timeout, "timeout"),
    startTimeout: duration(raw.startTimeout, "startTimeout"),
    uploadTimeout: duration(raw.uploadTimeout, "uploadTimeout"),
    deleteAfter: duration(raw.deleteAfter, "deleteAfter"),
    retries,
    scheduling,
    labels: labels(raw.labels, "labels"),
    imagePullSecrets: pullSecrets(imagesRaw.pullSecrets),
    network,
  };
}

/**
 * Tool image mirrors from the environment, BUILDPOD_IMAGE_SOURCE, BUILDPOD_IMAGE_BUILDAH and so on, as a
 * build-file fragment that every adapter lays under its file and inputs.
 */
export function imagesFromEnv(env: Record<string, string | undefined>): Record<string, unknown> {
  const images: Record<string, string> = {};
  for (const key of TOOL_IMAGES) {
    const value = env[`BUILDPOD_IMAGE_${key.toUpperCase()}`];
    if (value) images[key] = value;
  }
  return Object.keys(images).length ? { images } : {};
}

/**
 * A build for several platforms pushes each platform's image and an index of them, as Jobs: one per
 * platform, named after the build with the platform's suffix, and one for the index.
 */
function checkSeveralPlatforms(name: string, output: Output, workload: unknown): void {
  const list = output.platforms.join(", ");
  if (!output.push) {
    throw new InputError("output.push", `a build for several platforms (${list}) makes an image index in the registry, so it pushes; drop --no-push, or build one platform`);
  }
  if (workload === "pod") {
    throw new InputError("workload", `a build for several platforms (${list}) runs as Jobs, one per platform and one for the index; drop --pod`);
  }
  for (const p of output.platforms) {
    const job = `${name}-xxxxx-${platformJobSuffix(p)}`;
    if (job.length > 63) {
      throw new InputError("name", `"${name}" is too long for a build for ${p}: its Job's name (${job.length} characters, the run id and "${platformJobSuffix(p)}" added) must fit in 63; give a build name of at most ${name.length - (job.length - 63)} characters`);
    }
    const tagged = platformImage(output.image, p);
    const problem = parseReference(tagged);
    if (typeof problem === "string") {
      throw new InputError("output.image", `the image's tag is too long to add the platform's ("${tagged}" ${problem}); give a shorter tag`);
    }
  }
}
