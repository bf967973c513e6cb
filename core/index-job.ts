// The Job that pushes a multi-platform build's image index. Pure. It is created first, suspended, under the
// build's own run name: the one object that stands for the build (each platform's Job names it as owner,
// so deleting it deletes them), and that starts once every platform has pushed. Its container learns the
// platforms' images from its pod's annotations, which a suspended Job that never ran may still change
// (Kubernetes 1.27+; its env may not change).
import type { V1EnvVar, V1Job, V1Pod } from "@kubernetes/client-node";
import { BUILDERS } from "./builders/index.js";
import { INDEX_ANNOTATIONS, platformRequest, platformRunId } from "./multi-platform.js";
import { metadata, render, renderPodSpec, runName } from "./render.js";
import type { BuildRequest } from "./request/index.js";
import { INDEX_SCRIPT } from "./scripts.js";
import { emptyDir, env, outputEnv } from "./strategy/plan.js";

/** The index container's environment read from its pod's annotations. */
const FROM_ANNOTATIONS: Record<string, string> = {
  BUILDPOD_MANIFESTS: INDEX_ANNOTATIONS.manifests,
  BUILDPOD_INDEX_COMMIT: INDEX_ANNOTATIONS.commit,
  BUILDPOD_INDEX_INPUT: INDEX_ANNOTATIONS.inputDigest,
  BUILDPOD_INDEX_STARTED: INDEX_ANNOTATIONS.started,
};

/** The index Job of a build for several platforms, suspended until the platforms have pushed. */
export function renderIndexJob(req: BuildRequest, id: string): V1Job {
  const name = runName(req, id);
  const buildah = BUILDERS.buildah;
  const fromAnnotations: V1EnvVar[] = Object.entries(FROM_ANNOTATIONS).map(([n, key]) => ({
    name: n, valueFrom: { fieldRef: { fieldPath: `metadata.annotations['${key}']` } },
  }));
  const spec = renderPodSpec(req, name, {
    plan: {
      container: {
        name: "index",
        image: req.images.buildah ?? buildah.image,
        command: ["/bin/sh", "-c", INDEX_SCRIPT, "buildpod-index"],
        env: [...env({ ...buildah.env, ...outputEnv(req) }), ...fromAnnotations],
        securityContext: buildah.securityContext,
        volumeMounts: Object.entries(buildah.scratch).map(([n, mountPath]) => ({ name: n, mountPath })),
      },
      volumes: Object.keys(buildah.scratch).map((n) => emptyDir(n)),
      sourceEnv: [],
    },
    caDirs: buildah.caDirs,
    source: false,
  });
  const meta = metadata(req, name);
  return {
    apiVersion: "batch/v1",
    kind: "Job",
    metadata: meta,
    spec: {
      suspend: true,
      backoffLimit: 0,
      completions: 1,
      parallelism: 1,
      // Counted from when it is resumed: a suspended Job's clock does not run.
      activeDeadlineSeconds: req.timeout,
      ttlSecondsAfterFinished: req.deleteAfter,
      template: { metadata: { labels: { ...meta.labels }, annotations: { ...meta.annotations } }, spec },
    },
  };
}

/** The merge patch that gives the index its platforms' images and starts it. */
export function resumeIndexPatch(annotations: Record<string, string>): Record<string, unknown> {
  return { spec: { suspend: false, template: { metadata: { annotations } } } };
}

/**
 * Every object a build creates: its Job (or Pod); for several platforms, the index Job and each platform's
 * Job (which the run makes owned by the index, once the index has its uid).
 */
export function renderAll(req: BuildRequest, id: string): (V1Job | V1Pod)[] {
  if (req.output.platforms.length < 2) return [render(req, { id })];
  const index = runName(req, id);
  return [renderIndexJob(req, id), ...req.output.platforms.map((p) => render(platformRequest(req, p, index), { id: platformRunId(id, p) }))];
}
