// A build for several platforms, run to its end: every platform checked before anything is created; the
// index Job created first, suspended, under the build's run name; one Job per platform, all at once, each
// owned by the index; followed together, their logs and progress prefixed with the platform; the first to
// fail cancels the others; once all have pushed, the index Job is resumed with their images and followed.
import type { V1OwnerReference } from "@kubernetes/client-node";
import type { BuildHandle, RunOptions } from "./build.js";
import { followBuild } from "./build.js";
import type { Cluster } from "./cluster.js";
import { renderIndexJob, resumeIndexPatch } from "./index-job.js";
import { indexAnnotations, platformRequest, platformRunId } from "./multi-platform.js";
import { newRunId, render, runName } from "./render.js";
import type { BuildRequest } from "./request/index.js";
import type { BuildResult, PlatformResult } from "./result.js";
import { cancelBuild, checkBuild, createBuild } from "./start.js";

function platformResult(platform: string, r: BuildResult): PlatformResult {
  return {
    platform, status: r.status, reason: r.reason, image: r.image, run: r.run,
    ...(r.digest ? { digest: r.digest } : {}), ...(r.imageRef ? { imageRef: r.imageRef } : {}),
    ...(r.provenance ? { provenance: r.provenance } : {}),
    ...(r.durationSeconds !== undefined ? { durationSeconds: r.durationSeconds } : {}),
  };
}

/** Deletes builds, saying what went and what could not. */
async function remove(cluster: Cluster, handles: BuildHandle[], say: (m: string) => void): Promise<void> {
  const deleted = await Promise.all(handles.map((h) => cancelBuild(cluster, h).catch((err: Error) => {
    say(`could not delete ${h.name}: ${err.message}; delete it with: kubectl -n ${h.namespace} delete job ${h.name}`);
    return [] as string[];
  })));
  if (deleted.flat().length) say(`deleted ${deleted.flat().join(", ")}`);
}

/** Runs a build for several platforms (req.output.platforms) and reports it as one, with each platform's part. */
export async function runPlatforms(cluster: Cluster, req: BuildRequest, opts: RunOptions = {}): Promise<BuildResult> {
  const say = (m: string) => opts.onProgress?.(m);
  const id = opts.id ?? newRunId();
  const indexRun = runName(req, id);
  const platforms = req.output.platforms;
  // One platform the cluster cannot build refuses the build before anything is created.
  const checked = await Promise.all(platforms.map((p) => checkBuild(cluster, platformRequest(req, p, indexRun), opts)));

  const index = await createBuild(cluster, req, renderIndexJob(req, id), { ...opts, mayDryRun: false });
  say(`created job ${index.name} in namespace ${index.namespace}: the image index, which starts once every platform has pushed`);
  // Owned by the index: deleting the build's one name deletes every platform's Job, and its pods.
  const owner: V1OwnerReference = { apiVersion: "batch/v1", kind: "Job", name: index.name, uid: index.uid! };
  let handles: BuildHandle[];
  try {
    handles = await Promise.all(checked.map((c, i) => {
      const obj = render(c.req, { id: platformRunId(id, platforms[i]!) });
      obj.metadata!.ownerReferences = [owner];
      return createBuild(cluster, c.req, obj, { ...opts, mayDryRun: c.mayDryRun });
    }));
  } catch (err) {
    await remove(cluster, [index], say);
    throw err;
  }
  for (const [i, h] of handles.entries()) say(`${platforms[i]}: created job ${h.name}`);

  // Followed together; the first platform to fail stops the others.
  const stops = platforms.map(() => new AbortController());
  const cancelAll = () => stops.forEach((s) => s.abort());
  opts.signal?.addEventListener("abort", cancelAll, { once: true });
  let failed: number | undefined;
  const results = await Promise.all(handles.map((h, i) => followBuild(cluster, h, {
    ...opts,
    signal: stops[i]!.signal,
    onProgress: (m) => say(`${platforms[i]}: ${m}`),
    onLog: opts.onLog && ((container, line) => opts.onLog!(`${platforms[i]} ${container}`, line)),
  }).then((r) => {
    if (r.status !== "Complete" && failed === undefined && !opts.signal?.aborted) {
      failed = i;
      cancelAll();
    }
    return r;
  })));
  opts.signal?.removeEventListener("abort", cancelAll);
  const parts = results.map((r, i) => platformResult(platforms[i]!, r));
  const first = results[0]!;

  if (failed !== undefined || opts.signal?.aborted) {
    const culprit = failed !== undefined ? results[failed]! : first;
    if (failed !== undefined || opts.deleteOnCancel !== false) await remove(cluster, [...handles.filter((_, i) => i !== failed), index], say);
    return {
      ...culprit,
      ...(failed !== undefined
        ? { message: `the ${platforms[failed]} build ${culprit.status === "StartFailed" ? "failed to start" : "failed"}: ${culprit.message}; the other platforms' builds were cancelled` }
        : { status: "Cancelled", reason: "Cancelled", message: "the build was cancelled" }),
      image: req.output.image, tags: req.output.tags, digest: undefined, imageRef: undefined, provenance: undefined,
      build: req.name, run: index.name, platforms: parts,
    };
  }

  const pushed = results.map((r) => ({ imageRef: r.imageRef!, commit: r.source.commit, inputDigest: r.source.inputDigest, startedAt: r.startedAt }));
  await cluster.patchJob(index.name, index.namespace, resumeIndexPatch(indexAnnotations(pushed)), opts.signal);
  say(`every platform pushed its image; job ${index.name} makes the index`);
  const made = await followBuild(cluster, { ...index, createdAt: Date.now() }, opts);
  if (made.status === "Cancelled" ? opts.deleteOnCancel !== false : made.status === "StartFailed") await remove(cluster, [index], say);
  const started = results.map((r) => r.startedAt).filter((t): t is string => !!t).sort()[0];
  return {
    ...made,
    source: first.source,
    platforms: parts,
    ...(started ? { startedAt: started } : {}),
    ...(started && made.finishedAt ? { durationSeconds: Math.round((Date.parse(made.finishedAt) - Date.parse(started)) / 1000) } : {}),
  };
}
