// The build's provenance: an in-toto statement with a SLSA provenance v1 predicate, saying what built the
// image: the builder and its image, the strategy and its parameters, the source, the times. buildpod
// renders it here, pure; the build pod fills in what only it knows (the pushed digest, the resolved
// commit, the times) and attaches it to the image in the registry (core/scripts/provenance.sh). It names
// Secrets, never their contents.
import { createHash } from "node:crypto";
import { BUILDERS } from "./builders/index.js";
import { parseReference } from "./reference.js";
import type { BuildRequest } from "./request/index.js";
import { VERSION } from "./version.js";

export const STATEMENT_TYPE = "https://in-toto.io/Statement/v1";
export const SLSA_PROVENANCE = "https://slsa.dev/provenance/v1";
/** What the externalParameters and internalParameters below mean: this file's shape, version 1. */
export const BUILD_TYPE = "https://buildpod.dev/provenance/build/v1";
/** The artifact type of the referrer, and its one layer's media type. */
export const IN_TOTO_MEDIA_TYPE = "application/vnd.in-toto+json";

/** What only the pod knows, which it puts in where the rendered statement reads "@@NAME@@". */
export const PLACEHOLDERS = ["SUBJECT", "COMMIT", "INPUT", "STARTED", "FINISHED"] as const;
type Placeholder = (typeof PLACEHOLDERS)[number];

/**
 * Whether the build attaches provenance: it pushes, and provenance is asked for or left to the default,
 * which is on but for two builds that attach it only when asked (output.provenance true): a custom one,
 * whose builder must leave the digest it pushed in BUILDPOD_DIGEST_FILE, which one written without it in
 * mind does not; and the docker builder's, whose registries' trust (certs.d, insecure-registries) is the
 * node daemon's configuration, which the provenance container cannot see.
 */
export function attachesProvenance(req: BuildRequest): boolean {
  const s = req.strategy;
  const onlyWhenAsked = s.type === "custom" || (s.type === "docker" && BUILDERS[s.builder].nodeDaemon);
  return req.output.push && (onlyWhenAsked ? req.output.provenance === true : req.output.provenance !== false);
}

/**
 * Whether a container after the build attaches the provenance: for a builder whose image has no curl
 * (kaniko, BuildKit, the docker builder) and a custom builder, which leave the pushed digest in a file.
 */
export function provenanceAfterBuild(req: BuildRequest): boolean {
  const s = req.strategy;
  return attachesProvenance(req) && (s.type === "custom" || (s.type === "docker" && !BUILDERS[s.builder].supports.provenance));
}

/** A repository the image is pushed to, as the pod reaches it: API host, path, credential keys. */
interface Target {
  name: string;
  apiHost: string;
  repository: string;
  keys: string[];
}

/** Every repository the image goes to (its own and its extra tags'), each once. */
function targets(req: BuildRequest): Target[] {
  const out = new Map<string, Target>();
  for (const text of [req.output.image, ...req.output.tags]) {
    const ref = parseReference(text);
    if (typeof ref === "string") continue; // the request's reader refused these already
    const hub = ref.registry === "docker.io";
    const name = `${ref.registry}/${ref.repository}`;
    out.set(name, {
      name,
      // Docker Hub's API is at registry-1.docker.io; Docker config files key its credentials by either name.
      apiHost: hub ? "registry-1.docker.io" : ref.registry,
      repository: ref.repository,
      keys: hub
        ? ["https://index.docker.io/v1/", "docker.io", "index.docker.io", "registry-1.docker.io"]
        : [ref.registry, `https://${ref.registry}`, `http://${ref.registry}`],
    });
  }
  return [...out.values()];
}

const sha256 = (text: string) => createHash("sha256").update(text).digest("hex");

/**
 * JSON text of what BUILD makes, with "@@NAME@@" wherever it put mark(NAME), and nowhere else: every other
 * "@" is written \u0040 (the same JSON value), so a request value cannot pass for a placeholder. The marks
 * are first made unique by a digest of the document they are in, which no value in it can contain.
 */
function withPlaceholders(build: (mark: (name: Placeholder) => string) => unknown): string {
  const nonce = sha256(JSON.stringify(build((n) => n))).slice(0, 32);
  let text = JSON.stringify(build((n) => `${nonce}:${n}`)).replace(/@/g, "\\u0040");
  for (const n of PLACEHOLDERS) text = text.split(`"${nonce}:${n}"`).join(`"@@${n}@@"`);
  return text;
}

/** The image reference's digest where it is pinned by one. */
function imageDescriptor(image: string): { uri: string; digest?: { sha256: string } } {
  const ref = parseReference(image);
  const hex = typeof ref !== "string" && ref.digest?.startsWith("sha256:") ? ref.digest.slice(7) : undefined;
  return { uri: `oci://${image}`, ...(hex ? { digest: { sha256: hex } } : {}) };
}

/**
 * A Git URL as the provenance records it: an HTTP(S) URL without its user part, which may be a token (the
 * request refuses a password there, not a token given as the user); the record outlives the pod, in the
 * registry.
 */
export function recordedGitUrl(url: string): string {
  return url.replace(/^(https?:\/\/)[^/@]*@/, "$1");
}

function sourceParameters(req: BuildRequest): Record<string, unknown> {
  const { git, binary, dockerfile, contextDir, sourceDateEpoch } = req.source;
  return {
    ...(git ? { git: { url: recordedGitUrl(git.url), ...(git.ref ? { ref: git.ref } : {}), depth: git.depth, ...(git.secret ? { secret: git.secret } : {}) } } : {}),
    ...(binary ? { upload: { format: binary.format } } : {}),
    contextDir,
    ...(dockerfile !== undefined ? { inlineDockerfile: { sha256: sha256(dockerfile) } } : {}),
    ...(sourceDateEpoch !== undefined ? { sourceDateEpoch } : {}),
  };
}

function strategyParameters(req: BuildRequest): Record<string, unknown> {
  const s = req.strategy;
  switch (s.type) {
    case "docker":
      return {
        type: "docker", builder: s.builder, dockerfile: s.dockerfile, ...(s.target ? { target: s.target } : {}),
        buildArgs: s.buildArgs,
        // Which Secret keys RUN steps could read, never what they hold.
        secrets: s.secrets.map((x) => ({ id: x.id, secret: x.secret, key: x.key })),
        ...(s.pullSecret ? { pullSecret: s.pullSecret } : {}),
        ...(req.cache ? { cache: { repository: req.cache.repository, mode: req.cache.mode } } : {}),
      };
    case "source":
      return {
        type: "source", builderImage: s.builderImage, incremental: s.incremental, ...(s.scriptsUrl ? { scriptsUrl: s.scriptsUrl } : {}),
        env: s.env, ...(s.pullSecret ? { pullSecret: s.pullSecret } : {}),
      };
    case "custom":
      return { type: "custom", builderImage: s.builderImage };
  }
}

/**
 * The statement as JSON text, with placeholders for the subject's digest, the commit and the times.
 * BUILDER_IMAGE: the build container's image; RUN: the Job's (or Pod's) name, which identifies this
 * invocation.
 */
export function provenanceStatement(req: BuildRequest, builderImage: string, run?: string): string {
  return withPlaceholders((mark) => statement(req, builderImage, run, mark));
}

function statement(req: BuildRequest, builderImage: string, run: string | undefined, mark: (name: Placeholder) => string): Record<string, unknown> {
  const builder = req.strategy.type === "docker" ? req.strategy.builder : req.strategy.type === "custom" ? "custom" : "buildah";
  const { git, binary } = req.source;
  return {
    _type: STATEMENT_TYPE,
    subject: targets(req).map((t) => ({ name: t.name, digest: { sha256: mark("SUBJECT") } })),
    predicateType: SLSA_PROVENANCE,
    predicate: {
      buildDefinition: {
        buildType: BUILD_TYPE,
        externalParameters: {
          source: sourceParameters(req),
          strategy: strategyParameters(req),
          output: {
            image: req.output.image, tags: req.output.tags, labels: req.output.labels, annotations: req.output.annotations,
            ...(req.output.pushSecret ? { pushSecret: req.output.pushSecret } : {}),
          },
        },
        internalParameters: { namespace: req.namespace, build: req.name },
        resolvedDependencies: git
          ? [{ uri: `git+${recordedGitUrl(git.url)}${git.ref ? `@${git.ref}` : ""}`, digest: { gitCommit: mark("COMMIT") } }]
          : binary
            ? [{ uri: `buildpod:upload`, name: binary.format, digest: { dirHash: mark("INPUT") } }]
            : [],
      },
      runDetails: {
        builder: {
          id: `https://buildpod.dev/builders/${builder}`,
          version: { buildpod: VERSION },
          builderDependencies: [imageDescriptor(builderImage)],
        },
        metadata: {
          ...(run ? { invocationId: `${req.namespace}/${run}` } : {}),
          startedOn: mark("STARTED"),
          finishedOn: mark("FINISHED"),
        },
      },
    },
  };
}

/** The build container's environment that makes it attach the provenance (core/scripts/provenance.sh). */
export function provenanceEnv(req: BuildRequest, builderImage: string, run?: string): Record<string, string | undefined> {
  if (!attachesProvenance(req)) return {};
  return {
    BUILDPOD_PROVENANCE: provenanceStatement(req, builderImage, run),
    BUILDPOD_PROVENANCE_TARGETS: targets(req).map((t) => [t.apiHost, t.repository, ...t.keys].join(" ")).join("\n"),
  };
}
