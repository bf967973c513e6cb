// The provenance container: after a builder whose image has no curl (kaniko, BuildKit, the docker builder)
// or a custom builder asked for provenance, it attaches the build's provenance to the image the build
// pushed, whose digest the build left in a file (core/scripts/provenance-after.sh).
import type { V1Container, V1ResourceRequirements, V1VolumeMount } from "@kubernetes/client-node";
import { BUILDERS } from "./builders/index.js";
import { provenanceEnv } from "./provenance.js";
import type { BuildRequest } from "./request/index.js";
import { PATHS, PROVENANCE_SCRIPT } from "./scripts.js";
import { NETWORK_FILES, proxyEnv } from "./strategy/network.js";
import { env, outputEnv, UNPRIVILEGED } from "./strategy/plan.js";

/**
 * The container that attaches the provenance after a builder without curl: the buildah image's sh and curl,
 * unprivileged, with the push credentials, the CA bundle and the proxy; nothing else of the build.
 */
export function provenanceContainer(req: BuildRequest, builderImage: string, run: string | undefined, res: V1ResourceRequirements | undefined): V1Container {
  const mounts: V1VolumeMount[] = [{ name: "workspace", mountPath: PATHS.workspace }];
  if (req.output.pushSecret) mounts.push({ name: "push-secret", mountPath: PATHS.pushConfig, readOnly: true });
  if (req.network.caBundle) mounts.push({ name: "ca-bundle", mountPath: PATHS.caBundle, readOnly: true });
  return {
    name: "provenance",
    image: req.images.buildah ?? BUILDERS.buildah.image,
    command: ["/bin/sh", "-c", PROVENANCE_SCRIPT, "buildpod-provenance"],
    env: env({
      ...outputEnv(req),
      TMPDIR: PATHS.provenanceTmp,
      BUILDPOD_DIGEST_FILE: PATHS.pushedDigest,
      BUILDPOD_CA_BUNDLE: req.network.caBundle ? NETWORK_FILES.caBundle : undefined,
      ...proxyEnv(req),
      ...provenanceEnv(req, builderImage, run),
    }),
    securityContext: UNPRIVILEGED(),
    volumeMounts: mounts,
    ...(res ? { resources: res } : {}),
    terminationMessagePolicy: "FallbackToLogsOnError",
  };
}
