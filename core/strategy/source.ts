// source strategy (S2I): the source is copied into the builder image, its assemble script runs, and its
// run script becomes the command. Built as a generated Dockerfile, as source-to-image's own dockerfile
// strategy does; an incremental build first runs save-artifacts in the previous image and restores them.
import { BUILDERS } from "../builders/index.js";
import type { BuildRequest, SourceStrategy } from "../request/index.js";
import { S2I_SCRIPT } from "../scripts.js";
import { emptyDir, env, outputEnv, pairs, type StrategyPlan } from "./plan.js";

/**
 * The generated Dockerfile. It names no request value: the builder image, scripts directory, user and
 * every env value arrive as build arguments, resolved in the pod from the builder image itself.
 */
export function s2iDockerfile(s: SourceStrategy, incremental: boolean): string {
  const user = "${BUILDPOD_S2I_USER}";
  // The source and artifacts are copied owned by the assemble user: no RUN as root to chown them (every
  // RUN is a container start and a layer's worth of work for the builder).
  const owned = "--chown=${BUILDPOD_S2I_OWNER}";
  const envNames = Object.keys(s.env).sort();
  const lines: string[] = ["ARG BUILDPOD_S2I_BUILDER"];
  if (incremental) {
    lines.push(
      "ARG BUILDPOD_S2I_PREVIOUS",
      "FROM ${BUILDPOD_S2I_PREVIOUS} AS previous",
      "ARG BUILDPOD_S2I_SCRIPTS",
      "ARG BUILDPOD_S2I_USER",
      `USER ${user}`,
      // save-artifacts streams a tar; it is unpacked here, in the previous image, so that the next stage
      // needs no step of its own to restore it.
      'RUN mkdir -p /tmp/artifacts && if [ -x "$BUILDPOD_S2I_SCRIPTS/save-artifacts" ]; then "$BUILDPOD_S2I_SCRIPTS/save-artifacts" > /tmp/artifacts.tar && tar -xf /tmp/artifacts.tar -C /tmp/artifacts && rm -f /tmp/artifacts.tar; fi',
    );
  }
  lines.push(
    "FROM ${BUILDPOD_S2I_BUILDER}",
    "ARG BUILDPOD_S2I_BUILDER",
    "ARG BUILDPOD_S2I_SCRIPTS",
    "ARG BUILDPOD_S2I_USER",
    "ARG BUILDPOD_S2I_OWNER",
    ...envNames.flatMap((name) => [`ARG ${name}`, `ENV ${name}="\${${name}}"`]),
    'LABEL io.openshift.s2i.build.image="${BUILDPOD_S2I_BUILDER}"',
    `COPY ${owned} . /tmp/src`,
  );
  if (incremental) lines.push(`COPY --from=previous ${owned} /tmp/artifacts /tmp/artifacts`);
  lines.push(
    `USER ${user}`,
    'RUN "$BUILDPOD_S2I_SCRIPTS/assemble"',
    // S2I builder images name their scripts directory STI_SCRIPTS_PATH; the run script becomes the command.
    "ENV STI_SCRIPTS_PATH=${BUILDPOD_S2I_SCRIPTS}",
    'CMD ["/bin/sh", "-c", "exec \\"$STI_SCRIPTS_PATH/run\\""]',
  );
  return lines.join("\n") + "\n";
}

export function sourceStrategy(req: BuildRequest, s: SourceStrategy): StrategyPlan {
  // Built by buildah, as its record describes it: image, storage, environment, security context.
  const buildah = BUILDERS.buildah;
  return {
    container: {
      name: "build",
      image: req.images.buildah ?? buildah.image,
      command: ["/bin/sh", "-c", S2I_SCRIPT, "buildpod-build"],
      args: [...pairs("--build-arg", s.env), ...pairs("--label", req.output.labels), ...pairs("--annotation", req.output.annotations)],
      env: env({
        ...buildah.env,
        ...outputEnv(req),
        BUILDPOD_S2I_BUILDER: s.builderImage,
        BUILDPOD_S2I_SCRIPTS_URL: s.scriptsUrl,
        BUILDPOD_S2I_INCREMENTAL: s.incremental ? "true" : "false",
      }),
      securityContext: buildah.securityContext,
      volumeMounts: Object.entries(buildah.scratch).map(([name, mountPath]) => ({ name, mountPath })),
    },
    volumes: Object.keys(buildah.scratch).map((name) => emptyDir(name)),
    sourceEnv: env({
      BUILDPOD_DOCKERFILE_CONTENT: s2iDockerfile(s, false),
      BUILDPOD_DOCKERFILE_INCREMENTAL_CONTENT: s.incremental ? s2iDockerfile(s, true) : undefined,
    }),
  };
}
