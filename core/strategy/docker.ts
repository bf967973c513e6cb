// docker strategy: build a Dockerfile with the builder the request names, as its record in core/builders
// describes it: a daemonless builder inside the pod (buildah by default, rootless BuildKit or kaniko by
// choice), or the node's Docker daemon when explicitly allowed.
import { BUILDERS } from "../builders/index.js";
import type { BuildRequest, DockerStrategy } from "../request/index.js";
import { dockerfilePath, dockerSocket, emptyDir, env, outputEnv, type StrategyPlan } from "./plan.js";

export function dockerStrategy(req: BuildRequest, s: DockerStrategy): StrategyPlan {
  const builder = BUILDERS[s.builder];
  const { command, args: own, env: extra } = builder.container(req, s);
  const args = [...(own ?? []), ...(req.cache && builder.cacheOptions ? builder.cacheOptions(req.cache, req) : [])];
  const mounts = Object.entries(builder.scratch).map(([name, mountPath]) => ({ name, mountPath }));
  const volumes = Object.keys(builder.scratch).map((name) => emptyDir(name));
  if (builder.nodeDaemon) {
    const socket = dockerSocket();
    mounts.push(socket.mount);
    volumes.push(socket.volume);
  }
  return {
    container: {
      name: "build",
      image: s.builderImage ?? req.images[s.builder] ?? builder.image,
      command, args,
      env: env({ ...builder.env, ...outputEnv(req), ...extra }),
      securityContext: builder.securityContext,
      volumeMounts: mounts,
    },
    volumes,
    sourceEnv: env({
      BUILDPOD_DOCKERFILE_CONTENT: req.source.dockerfile,
      BUILDPOD_DOCKERFILE_PATH: req.source.dockerfile === undefined ? dockerfilePath(req, s.dockerfile) : undefined,
    }),
  };
}
