// The kaniko builder: no daemon and no shell; it unpacks base images over its own root, as root with the
// file-ownership capabilities and the runtime's default seccomp profile, so its pod fits 'baseline'.
import { PATHS } from "../scripts.js";
import { contextPath, dockerfilePath } from "../strategy/plan.js";
import type { Builder } from "./index.js";

export const kaniko: Builder = {
  name: "kaniko",
  image: "ghcr.io/osscontainertools/kaniko:v1.28.5-debug@sha256:d6d74217dc077acfd3094992e917c357080a2d3fdd1042a49e34e29a7e57c572",
  securityContext: {
    allowPrivilegeEscalation: false, privileged: false, runAsUser: 0,
    capabilities: { drop: ["ALL"], add: ["CHOWN", "DAC_OVERRIDE", "FOWNER", "SETGID", "SETUID", "SETFCAP", "KILL"] },
    seccompProfile: { type: "RuntimeDefault" },
  },
  // Every capability it adds is among those 'baseline' allows.
  podSecurity: "baseline",
  // kaniko has no secret mounts for RUN steps and no manifest annotations, and builds for the platform it
  // runs on.
  supports: { cache: true, secrets: false, platforms: false, annotations: false, registriesConf: false, separatePullSecret: false, provenance: false },
  nodeDaemon: false,
  // Its CA certificates are in /kaniko/ssl/certs (the image sets SSL_CERT_DIR to it), which Go looks in
  // only through SSL_CERT_DIR.
  caDirs: ["/kaniko/ssl/certs"],
  runProxy: "build-args",
  scratch: {},
  env: {},
  container: (req, s, digestFile) => ({
    command: ["/kaniko/executor"],
    args: [
      `--context=dir://${contextPath(req)}`,
      `--dockerfile=${dockerfilePath(req, s.dockerfile)}`,
      ...[req.output.image, ...req.output.tags].map((d) => `--destination=${d}`),
      `--digest-file=${digestFile}`,
      "--reproducible",
      ...Object.keys(s.buildArgs).sort().map((k) => `--build-arg=${k}=${s.buildArgs[k]}`),
      ...Object.keys(req.output.labels).sort().map((k) => `--label=${k}=${req.output.labels[k]}`),
      ...(s.target ? [`--target=${s.target}`] : []),
      // The digest file still gets the built manifest's digest; kaniko reports no image ID.
      ...(req.output.push ? [] : ["--no-push"]),
      // kaniko tries a push once unless told: buildah tries three times (its MaxPullPushRetries), and so
      // does this. A registry's passing trouble should not fail a build that has done its work.
      "--push-retry=3",
      ...(req.output.insecure ? ["--insecure", "--insecure-pull", "--skip-tls-verify", "--skip-tls-verify-pull"] : []),
    ],
  }),
  // Cache look-ups go by registry host: an insecure output makes the cache's registry insecure too.
  cacheOptions: (c, req) => [
    "--cache=true", `--cache-repo=${c.repository}`,
    ...(c.mode === "read" ? ["--no-push-cache"] : []),
    ...(req.output.insecure ? [`--insecure-registry=${c.registry}`, `--skip-tls-verify-registry=${c.registry}`] : []),
  ],
};
