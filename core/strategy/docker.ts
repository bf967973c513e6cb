// docker strategy: build a Dockerfile with the builder the request names, as its record in core/builders
// describes it: a daemonless builder inside the pod (buildah by default, rootless BuildKit or kaniko by
// choice), or the node's Docker daemon when explicitly allowed.
import type { V1Volume, V1VolumeMount } from "@kubernetes/client-node";
import { BUILDERS } from "../builders/index.js";
import type { BuildRequest, DockerStrategy } from "../request/index.js";
import { PATHS } from "../scripts.js";
import { provenanceAfterBuild } from "../provenance.js";
import { proxyEnv } from "./network.js";
import { dockerfilePath, dockerSocket, emptyDir, env, outputEnv, type StrategyPlan } from "./plan.js";

/**
 * One file per build secret, named by its id, from the Secrets' keys. Readable by the owner and the pod's
 * group (fsGroup): rootless BuildKit reads them as that group, buildah as root.
 */
function buildSecretsVolume(s: DockerStrategy): V1Volume {
  const bySecret = new Map<string, { key: string; path: string }[]>();
  for (const x of s.secrets) bySecret.set(x.secret, [...(bySecret.get(x.secret) ?? []), { key: x.key, path: x.id }]);
  return {
    name: "build-secrets",
    projected: { defaultMode: 0o440, sources: [...bySecret].map(([name, items]) => ({ secret: { name, items } })) },
  };
}

/**
 * The proxy as build arguments, for builders that do not pass their own proxy environment on to RUN steps:
 * docker build's predefined proxy arguments, which need no ARG line (BuildKit keeps them out of the image's
 * history).
 */
function withProxyArgs(req: BuildRequest, s: DockerStrategy): DockerStrategy {
  const proxy = Object.fromEntries(Object.entries(proxyEnv(req)).filter((e): e is [string, string] => e[1] !== undefined));
  return Object.keys(proxy).length ? { ...s, buildArgs: { ...proxy, ...s.buildArgs } } : s;
}

export function dockerStrategy(req: BuildRequest, s: DockerStrategy): StrategyPlan {
  const builder = BUILDERS[s.builder];
  // A builder without curl leaves the pushed digest for the provenance container after it.
  const digestFile = provenanceAfterBuild(req) ? PATHS.pushedDigest : PATHS.terminationLog;
  const { command, args: own, env: extra } = builder.container(req, builder.runProxy === "build-args" ? withProxyArgs(req, s) : s, digestFile);
  // Every builder that supports them (the request refuses the others) takes docker build's --secret.
  const secretArgs = s.secrets.flatMap((x) => ["--secret", `id=${x.id},src=${PATHS.buildSecrets}/${x.id}`]);
  const args = [...(own ?? []), ...secretArgs, ...(req.cache && builder.cacheOptions ? builder.cacheOptions(req.cache, req) : [])];
  const mounts: V1VolumeMount[] = Object.entries(builder.scratch).map(([name, mountPath]) => ({ name, mountPath }));
  const volumes = Object.keys(builder.scratch).map((name) => emptyDir(name));
  if (s.secrets.length) {
    mounts.push({ name: "build-secrets", mountPath: PATHS.buildSecrets, readOnly: true });
    volumes.push(buildSecretsVolume(s));
  }
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
      // The Docker CLI hands secrets to the daemon only through BuildKit.
      env: env({
        ...builder.env, ...outputEnv(req), ...extra, ...(builder.nodeDaemon && s.secrets.length ? { DOCKER_BUILDKIT: "1" } : {}),
        BUILDPOD_DIGEST_FILE: digestFile === PATHS.pushedDigest ? digestFile : undefined,
      }),
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
