// The result of a build: one model for every adapter (command line, GitHub Action, Jenkins, Tekton).
import type { BuildRequest } from "./request/index.js";

export type BuildStatus = "Complete" | "Failed" | "StartFailed" | "Cancelled" | "Error";

export interface BuildResult {
  status: BuildStatus;
  /** One word a script can branch on: Completed, BuildFailed, SourceFailed, OOMKilled, DeadlineExceeded,
   * Evicted, ImagePullBackOff, ErrImagePull, InvalidImageName, CreateContainerConfigError, Unschedulable,
   * StartTimeout, UploadFailed, Cancelled, Deleted, ClusterError, ... */
  reason: string;
  /** What happened and what to do, for people. */
  message: string;
  /** The image reference built (with its tag). */
  image: string;
  tags: string[];
  /** Registry digest of the pushed image (sha256:...). */
  digest?: string;
  /** repository@digest: the exact image pushed. */
  imageRef?: string;
  /**
   * repository@digest of the build's provenance: an OCI artifact (an in-toto statement, SLSA provenance v1)
   * whose subject is the pushed image, in the image's repository.
   */
  provenance?: string;
  /** false for a completed build asked not to push (--no-push): nothing is in the registry. */
  pushed?: boolean;
  /** The built image's ID, its config digest (docker image ls's IMAGE ID), where a build that did not push
   * reports one (every builder but kaniko). */
  imageId?: string;
  /** inputDigest: an uploaded input's digest (in-toto dirHash), where the provenance recorded one. */
  source: { uri?: string; ref?: string; commit?: string; commitTime?: string; inputDigest?: string };
  build: string;
  /** The Job (or Pod) this run created. */
  run: string;
  pod?: string;
  namespace: string;
  startedAt?: string;
  finishedAt?: string;
  durationSeconds?: number;
  exitCode?: number;
  /** Which attempt this is the outcome of, when the Job started the build again (--retries). */
  attempt?: number;
  failedContainer?: string;
  /** Last lines of the failing container, for summaries. */
  logTail?: string[];
  /**
   * A build for several platforms: each platform's build, in the request's order. Then digest and imageRef
   * are the image index's, which lists the platforms' images.
   */
  platforms?: PlatformResult[];
}

/** One platform's build of a multi-platform build. */
export interface PlatformResult {
  platform: string;
  status: BuildStatus;
  reason: string;
  /** The platform's image, pushed under the image's tag with the platform's added (app:1.0-linux-arm64). */
  image: string;
  digest?: string;
  imageRef?: string;
  provenance?: string;
  /** Its Job. */
  run: string;
  durationSeconds?: number;
}

/**
 * The result of a build that never got going: refused by the preflight, or the cluster could not be
 * reached. Adapters write it like any other, so a pipeline reading the result file sees why.
 */
export function errorResult(req: BuildRequest, err: Error & { reason?: string; code?: number }, run = ""): BuildResult {
  return {
    status: "Error",
    reason: err.reason ?? (err.code ? `HTTP${err.code}` : "ClusterError"),
    message: err.message,
    image: req.output.image,
    tags: req.output.tags,
    source: { uri: req.source.git?.url, ref: req.source.git?.ref },
    build: req.name,
    run,
    namespace: req.namespace,
  };
}

/** What the build container wrote in its termination message: JSON from buildah/BuildKit/custom, or a
 * bare digest from kaniko. */
export function digestFromMessage(message: string | undefined): string | undefined {
  if (!message) return undefined;
  const text = message.trim();
  if (/^sha256:[a-f0-9]{64}$/.test(text)) return text;
  try {
    const parsed = JSON.parse(text) as Record<string, unknown>;
    const d = parsed.digest ?? parsed["containerimage.digest"];
    return typeof d === "string" && /^sha256:[a-f0-9]{64}$/.test(d) ? d : undefined;
  } catch {
    return undefined;
  }
}

/** The provenance's digest the build container reports beside the image's: {"digest": ..., "provenance": ...}. */
export function provenanceFromMessage(message: string | undefined): string | undefined {
  try {
    const d = (JSON.parse(message ?? "") as Record<string, unknown>).provenance;
    return typeof d === "string" && /^sha256:[a-f0-9]{64}$/.test(d) ? d : undefined;
  } catch {
    return undefined;
  }
}

/** The image ID a build that did not push reports: {"imageId": ...}, or BuildKit's metadata. */
export function imageIdFromMessage(message: string | undefined): string | undefined {
  try {
    const parsed = JSON.parse(message ?? "") as Record<string, unknown>;
    const id = String(parsed.imageId ?? parsed["containerimage.config.digest"] ?? "").trim();
    if (/^[a-f0-9]{64}$/.test(id)) return `sha256:${id}`;
    return /^sha256:[a-f0-9]{64}$/.test(id) ? id : undefined;
  } catch {
    return undefined;
  }
}

/** The source container's report: {"commit": "...", "commitTime": 1700000000, "inputDigest": "..."}. */
export function sourceFromMessage(message: string | undefined): { commit?: string; commitTime?: string; inputDigest?: string } {
  if (!message) return {};
  try {
    const parsed = JSON.parse(message) as { commit?: unknown; commitTime?: unknown; inputDigest?: unknown };
    const commit = typeof parsed.commit === "string" && /^[0-9a-f]{40,64}$/.test(parsed.commit) ? parsed.commit : undefined;
    const t = Number(parsed.commitTime);
    const commitTime = commit && Number.isFinite(t) && t > 0 ? new Date(t * 1000).toISOString() : undefined;
    const inputDigest = typeof parsed.inputDigest === "string" && /^[0-9a-f]{64}$/.test(parsed.inputDigest) ? parsed.inputDigest : undefined;
    return { commit, commitTime, ...(inputDigest ? { inputDigest } : {}) };
  } catch {
    return {};
  }
}

/** repository@digest for a reference with a tag: registry.example.com/app:1 -> registry.example.com/app@sha256:... */
export function imageWithDigest(image: string, digest: string): string {
  const lastSlash = image.lastIndexOf("/");
  const colon = image.lastIndexOf(":");
  const repo = colon > lastSlash ? image.slice(0, colon) : image;
  return `${repo}@${digest}`;
}

/** KEY=VALUE lines for CI systems that read properties files (Jenkins readProperties, shell `source`). */
/**
 * Each platform's digest of a multi-platform build, "linux/amd64=sha256:...,linux/arm64=sha256:...", in the
 * request's order; undefined for a build of one platform or one that pushed none.
 */
export function platformDigests(r: BuildResult): string | undefined {
  const pushed = (r.platforms ?? []).filter((p) => p.digest);
  return pushed.length ? pushed.map((p) => `${p.platform}=${p.digest}`).join(",") : undefined;
}

export function resultEnv(r: BuildResult): string {
  const values: Record<string, string | number | boolean | undefined> = {
    BUILDPOD_STATUS: r.status,
    BUILDPOD_REASON: r.reason,
    BUILDPOD_MESSAGE: r.message,
    BUILDPOD_IMAGE: r.image,
    BUILDPOD_DIGEST: r.digest,
    BUILDPOD_IMAGE_REF: r.imageRef,
    BUILDPOD_PUSHED: r.pushed,
    BUILDPOD_PROVENANCE: r.provenance,
    BUILDPOD_PLATFORM_DIGESTS: platformDigests(r),
    BUILDPOD_IMAGE_ID: r.imageId,
    BUILDPOD_COMMIT: r.source.commit,
    BUILDPOD_SOURCE_URI: r.source.uri,
    BUILDPOD_SOURCE_REF: r.source.ref,
    BUILDPOD_BUILD: r.build,
    BUILDPOD_RUN: r.run,
    BUILDPOD_POD: r.pod,
    BUILDPOD_NAMESPACE: r.namespace,
    BUILDPOD_STARTED_AT: r.startedAt,
    BUILDPOD_FINISHED_AT: r.finishedAt,
    BUILDPOD_DURATION_SECONDS: r.durationSeconds,
    BUILDPOD_EXIT_CODE: r.exitCode,
  };
  return Object.entries(values)
    .filter(([, v]) => v !== undefined)
    .map(([k, v]) => `${k}=${String(v).replace(/\r?\n/g, " ")}`)
    .join("\n") + "\n";
}
