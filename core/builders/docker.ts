// The docker builder: the Docker CLI in the pod drives the node's Docker daemon through its socket, a
// hostPath, so its pod needs Pod Security 'privileged', and the request must allow the socket.
import { DOCKER_SCRIPT, PATHS } from "../scripts.js";
import { dockerBuildOptions, dockerfilePath } from "../strategy/plan.js";
import type { Builder } from "./index.js";

export const docker: Builder = {
  name: "docker",
  image: "docker:28-cli@sha256:625d9431a9f54c5a2bc90f24f0e1c3d55b1349fd857dd85035f98c2c9acbdd4d",
  // The node's daemon does the work; the socket is root on the node, hence the explicit opt-in.
  securityContext: { allowPrivilegeEscalation: false, privileged: false, runAsUser: 0 },
  // 'baseline' refuses hostPath volumes.
  podSecurity: "privileged",
  // The daemon keeps its layer cache on the node, builds for the node's platform, and takes docker build
  // --secret; annotations need buildx, which the classic builder's CLI may not have.
  supports: { cache: false, secrets: true, platforms: false, annotations: false, registriesConf: false, separatePullSecret: false, provenance: false },
  nodeDaemon: true,
  caDirs: [],
  runProxy: "build-args",
  scratch: {},
  env: { DOCKER_HOST: `unix://${PATHS.dockerSocket}` },
  container: (req, s) => ({
    command: ["/bin/sh", "-c", DOCKER_SCRIPT, "buildpod-build"],
    args: dockerBuildOptions(req, s),
    env: { BUILDPOD_DOCKERFILE: dockerfilePath(req, s.dockerfile) },
  }),
};
