// A build for several platforms: one build per platform, each its own Job, then an image index of their
// images. Pure: what each platform's build is, and what the index Job is told once they have pushed.
//
// Each platform's image is pushed under its own tag, TAG-<os>-<arch>[-<variant>], before the index goes
// under the build's tags: buildah before 1.35 cannot push by digest alone, a distribution 2.x registry
// cannot delete a tag, and its garbage collector (--delete-untagged) would remove untagged manifests that
// an index still names. Shipwright (SHIP-0043) tags them the same way.
import type { BuildRequest } from "./request/index.js";

/** The label every platform's Job and pod carries: the run name of the build they are part of. */
export const INDEX_LABEL = "buildpod.dev/index";

/** What the index Job is told once the platforms have pushed: pod annotations its container reads. */
export const INDEX_ANNOTATIONS = {
  /** Lines "repository@digest", one per platform, in the request's order. */
  manifests: "buildpod.dev/manifests",
  /** The source commit the platforms built. */
  commit: "buildpod.dev/commit",
  /** The uploaded input's digest (in-toto dirHash). */
  inputDigest: "buildpod.dev/input-digest",
  /** When the first platform's build started. */
  started: "buildpod.dev/started",
} as const;

/** "linux/arm64" -> ["linux", "arm64", undefined]. */
function parts(platform: string): [string, string, string | undefined] {
  const [os, arch, variant] = platform.split("/");
  return [os!, arch!, variant];
}

/** The end of a platform's Job name: "arm64", "armv7", or with the OS where it is not Linux: "windows-amd64". */
export function platformJobSuffix(platform: string): string {
  const [os, arch, variant] = parts(platform);
  return `${os === "linux" ? "" : `${os}-`}${arch}${variant ?? ""}`;
}

/**
 * The tag a platform's image is pushed under: registry/app:1.0 -> registry/app:1.0-linux-arm64. IMAGE ends
 * in its tag, as the request's output.image always does (it adds ":latest").
 */
export function platformImage(image: string, platform: string): string {
  return `${image}-${parts(platform).filter(Boolean).join("-")}`;
}

/** The Job name of a platform's build, given the build's run name. */
export function platformRunId(id: string, platform: string): string {
  return `${id}-${platformJobSuffix(platform)}`;
}

/**
 * One platform's build: the request with that platform alone, pushed under the platform's tag (the
 * build's tags go on the index), labelled with the index's run name.
 */
export function platformRequest(req: BuildRequest, platform: string, indexRun: string): BuildRequest {
  const image = platformImage(req.output.image, platform);
  const tag = image.slice(image.lastIndexOf(":") + 1);
  return {
    ...req,
    labels: { ...req.labels, [INDEX_LABEL]: indexRun },
    output: { ...req.output, image, ref: { ...req.output.ref, tag }, tags: [], platforms: [platform] },
  };
}

/** What one platform's build gave the index. */
export interface PlatformPushed {
  /** repository@digest */
  imageRef: string;
  commit?: string;
  inputDigest?: string;
  startedAt?: string;
}

/**
 * The pod annotations that start the index Job: its manifests in the request's order (the same inputs
 * give the same index), the commit, the input and the earliest start. Only digests, hex and times: the
 * index container checks them again before use.
 */
export function indexAnnotations(pushed: PlatformPushed[]): Record<string, string> {
  const first = <K extends keyof PlatformPushed>(k: K) => pushed.map((p) => p[k]).find((v) => v !== undefined) as string | undefined;
  const started = pushed.map((p) => p.startedAt).filter((t): t is string => !!t).sort()[0];
  return {
    [INDEX_ANNOTATIONS.manifests]: pushed.map((p) => p.imageRef).join("\n"),
    [INDEX_ANNOTATIONS.commit]: first("commit") ?? "",
    [INDEX_ANNOTATIONS.inputDigest]: first("inputDigest") ?? "",
    [INDEX_ANNOTATIONS.started]: started ? started.replace(/\.\d+Z$/, "Z") : "",
  };
}
