// What a request's network settings add to the build pod: the CA bundle and the registries.conf mounted
// from their ConfigMaps, the pull credentials, and the proxy's environment. Pure, like the strategies.
import type { V1EnvVar, V1Volume, V1VolumeMount } from "@kubernetes/client-node";
import type { BuildRequest, ConfigMapKey } from "../request/index.js";
import { PATHS } from "../scripts.js";
import { env } from "./plan.js";

/** The file names the ConfigMaps' keys get in the pod, whatever the keys are called. */
export const NETWORK_FILES = { caBundle: `${PATHS.caBundle}/ca.crt`, registriesConf: `${PATHS.registriesConf}/registries.conf` } as const;

/** The environment a forward proxy needs, in both cases: curl (Git) reads only http_proxy in lower case. */
export function proxyEnv(req: BuildRequest): Record<string, string | undefined> {
  const n = req.network;
  const out: Record<string, string | undefined> = {};
  const set = (name: string, value: string | undefined) => {
    out[name] = value;
    out[name.toLowerCase()] = value;
  };
  set("HTTP_PROXY", n.httpProxy);
  set("HTTPS_PROXY", n.httpsProxy);
  set("NO_PROXY", (n.httpProxy || n.httpsProxy) && n.noProxy.length ? n.noProxy.join(",") : undefined);
  return out;
}

function configMapVolume(name: string, from: ConfigMapKey, file: string): V1Volume {
  return { name, configMap: { name: from.name, items: [{ key: from.key, path: file }], defaultMode: 0o444 } };
}

export interface NetworkPlan {
  volumes: V1Volume[];
  sourceMounts: V1VolumeMount[];
  sourceEnv: V1EnvVar[];
  buildMounts: V1VolumeMount[];
  /** The build container's environment; where the request sets a name twice, this wins. */
  buildEnv: Record<string, string | undefined>;
}

/**
 * CA_DIRS: the build image's own certificate directories that Go would not find by itself (kaniko's).
 * Go's SSL_CERT_DIR adds the bundle's directory to the system's certificates for every Go builder.
 */
export function networkPlan(req: BuildRequest, caDirs: string[]): NetworkPlan {
  const n = req.network;
  const plan: NetworkPlan = { volumes: [], sourceMounts: [], sourceEnv: [], buildMounts: [], buildEnv: { ...proxyEnv(req) } };
  if (n.caBundle) {
    plan.volumes.push(configMapVolume("ca-bundle", n.caBundle, "ca.crt"));
    const mount = { name: "ca-bundle", mountPath: PATHS.caBundle, readOnly: true };
    plan.sourceMounts.push(mount);
    plan.buildMounts.push({ ...mount });
    plan.buildEnv.SSL_CERT_DIR = [...caDirs, PATHS.caBundle].join(":");
    plan.buildEnv.BUILDPOD_CA_BUNDLE = NETWORK_FILES.caBundle;
  }
  plan.sourceEnv = env({ ...proxyEnv(req), BUILDPOD_CA_BUNDLE: n.caBundle ? NETWORK_FILES.caBundle : undefined });
  if (n.registriesConf) {
    plan.volumes.push(configMapVolume("registries-conf", n.registriesConf, "registries.conf"));
    plan.buildMounts.push({ name: "registries-conf", mountPath: PATHS.registriesConf, readOnly: true });
    plan.buildEnv.CONTAINERS_REGISTRIES_CONF = NETWORK_FILES.registriesConf;
  }
  const pullSecret = req.strategy.type === "custom" ? undefined : req.strategy.pullSecret;
  if (pullSecret) {
    plan.volumes.push({
      name: "pull-secret",
      secret: { secretName: pullSecret, items: [{ key: ".dockerconfigjson", path: "config.json" }], defaultMode: 0o440 },
    });
    plan.buildMounts.push({ name: "pull-secret", mountPath: PATHS.pullConfig, readOnly: true });
    // containers/image (buildah) looks for a registry's credentials in REGISTRY_AUTH_FILE first, then in
    // DOCKER_CONFIG's config.json: the push Secret's entries go first, the pull Secret's fill the rest.
    // The other builders read DOCKER_CONFIG alone (the request refuses them both Secrets).
    plan.buildEnv.DOCKER_CONFIG = PATHS.pullConfig;
    if (!req.output.pushSecret) plan.buildEnv.REGISTRY_AUTH_FILE = `${PATHS.pullConfig}/config.json`;
  }
  return plan;
}
