// custom strategy: the user's builder image does the work and receives the build the way OpenShift's
// custom strategy hands it over: the build as JSON in BUILD, the output in OUTPUT_REGISTRY/OUTPUT_IMAGE,
// the source coordinates, and the push credentials' directory. It reports the pushed digest through its
// termination message, and with --provenance true also in the file BUILDPOD_DIGEST_FILE names.
import type { BuildRequest, CustomStrategy } from "../request/index.js";
import { provenanceAfterBuild } from "../provenance.js";
import { PATHS } from "../scripts.js";
import { contextPath, dockerSocket, env, type StrategyPlan } from "./plan.js";

/** The build as the custom builder sees it in BUILD: what was asked, with no credentials. */
export function buildDescription(req: BuildRequest): Record<string, unknown> {
  const { ref, ...output } = req.output;
  return {
    name: req.name,
    namespace: req.namespace,
    source: {
      git: req.source.git ? { url: req.source.git.url, ref: req.source.git.ref } : undefined,
      binary: req.source.binary ? { format: req.source.binary.format } : undefined,
      contextDir: req.source.contextDir,
      path: PATHS.source,
    },
    strategy: { type: "custom", builderImage: req.strategy.builderImage, exposeDockerSocket: (req.strategy as CustomStrategy).exposeDockerSocket },
    output: { ...output, registry: ref.registry, repository: ref.repository, tag: ref.tag },
  };
}

export function customStrategy(req: BuildRequest, s: CustomStrategy): StrategyPlan {
  const socket = s.exposeDockerSocket ? dockerSocket() : undefined;
  const { ref } = req.output;
  return {
    container: {
      name: "build",
      image: s.builderImage,
      env: env({
        ...s.env,
        BUILD: JSON.stringify(buildDescription(req)),
        OUTPUT_REGISTRY: ref.registry,
        OUTPUT_IMAGE: `${ref.repository}:${ref.tag}`,
        BUILDPOD_OUTPUT_TAGS: req.output.tags.length ? req.output.tags.join("\n") : undefined,
        // "false": build, push nothing, and report {"imageId": ...} in the termination message.
        BUILDPOD_PUSH: String(req.output.push),
        BUILDPOD_OUTPUT_ANNOTATIONS: Object.keys(req.output.annotations).length
          ? Object.keys(req.output.annotations).sort().map((k) => `${k}=${req.output.annotations[k]}`).join("\n") : undefined,
        SOURCE_REPOSITORY: req.source.git?.url,
        SOURCE_URI: req.source.git?.url,
        SOURCE_REF: req.source.git?.ref,
        SOURCE_CONTEXT_DIR: req.source.contextDir,
        BUILDPOD_SOURCE_DIR: contextPath(req),
        BUILDPOD_SOURCE_DATE_EPOCH_FILE: PATHS.sourceDateEpoch,
        PUSH_DOCKERCFG_PATH: req.output.pushSecret ? PATHS.pushConfig : undefined,
        DOCKER_CONFIG: req.output.pushSecret ? PATHS.pushConfig : undefined,
        DOCKER_SOCKET: s.exposeDockerSocket ? PATHS.dockerSocket : undefined,
        // With --provenance true: where the builder leaves the digest it pushed, for the provenance container.
        BUILDPOD_DIGEST_FILE: provenanceAfterBuild(req) ? PATHS.pushedDigest : undefined,
      }),
      // Not privileged, and no seccomp profile of its own: custom builders are often buildah, whose RUN steps
      // need a user namespace that containerd's RuntimeDefault profile refuses (see the buildah builder).
      securityContext: { allowPrivilegeEscalation: false, privileged: false },
      volumeMounts: socket ? [socket.mount] : [],
    },
    volumes: socket ? [socket.volume] : [],
    sourceEnv: env({ BUILDPOD_DOCKERFILE_CONTENT: req.source.dockerfile }),
  };
}
