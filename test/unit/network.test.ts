// The network settings: a private CA and a registries.conf from ConfigMaps, pull credentials apart from
// push credentials, the tool images' pull secrets and a forward proxy, from the request to the pod.
import { describe, expect, it } from "vitest";
import { InputError, parseRequest, PATHS, render, type BuildRequest } from "../../core/index.js";
import { preflight, PreflightError } from "../../core/preflight.js";
import type { Cluster } from "../../core/cluster.js";
import { PodTracker } from "../../core/pod-tracker.js";
import { expectValidObject } from "./schema.js";
import { buildOf } from "./pod.js";

const IMAGE = "registry.example.com/team/app:1.0";

function request(extra: Record<string, unknown> = {}, env: Record<string, string> = {}): BuildRequest {
  const { strategy, output, ...rest } = extra as { strategy?: object; output?: object };
  return parseRequest({
    name: "app", source: { git: { url: "https://git.internal/team/app.git" } },
    strategy: { type: "docker", ...strategy }, output: { image: IMAGE, ...output }, ...rest,
  }, { env });
}

function podOf(req: BuildRequest): any {
  const job: any = render(req, { id: "abcde" });
  expectValidObject(job);
  return job.spec.template.spec;
}
const byName = (list: any[] | undefined, name: string) => list?.find((x) => x.name === name);
const envOf = (c: any) => Object.fromEntries((c.env ?? []).map((e: any) => [e.name, e.value]));
const problem = (f: () => unknown) => {
  try {
    f();
  } catch (err) {
    if (err instanceof InputError) return `${err.field}: ${err.problem}`;
    throw err;
  }
  throw new Error("no error");
};

describe("a private CA bundle", () => {
  it("mounts the ConfigMap's key into both containers, for Git and for every Go builder besides the system's", () => {
    const spec = podOf(request({ network: { caBundle: "corp-ca/bundle.pem" } }));
    expect(byName(spec.volumes, "ca-bundle")).toEqual({ name: "ca-bundle", configMap: { name: "corp-ca", items: [{ key: "bundle.pem", path: "ca.crt" }], defaultMode: 0o444 } });
    const [source] = spec.initContainers;
    const [build] = spec.containers;
    for (const c of [source, build]) expect(byName(c.volumeMounts, "ca-bundle")).toEqual({ name: "ca-bundle", mountPath: PATHS.caBundle, readOnly: true });
    expect(envOf(source).BUILDPOD_CA_BUNDLE).toBe(`${PATHS.caBundle}/ca.crt`);
    expect(envOf(build).SSL_CERT_DIR).toBe(PATHS.caBundle);
  });

  it("defaults to the key ca.crt, and keeps kaniko's own certificate directory", () => {
    const spec = podOf(request({ strategy: { builder: "kaniko" }, network: { caBundle: "corp-ca" } }));
    expect(byName(spec.volumes, "ca-bundle").configMap.items).toEqual([{ key: "ca.crt", path: "ca.crt" }]);
    expect(envOf(buildOf(spec)).SSL_CERT_DIR).toBe(`/kaniko/ssl/certs:${PATHS.caBundle}`);
  });

  it("refuses a bad ConfigMap name or key, and the node's Docker daemon", () => {
    expect(problem(() => request({ network: { caBundle: "Corp_CA" } }))).toMatch(/^network\.caBundle: "Corp_CA" is not a ConfigMap name/);
    expect(problem(() => request({ network: { caBundle: "corp-ca/a b" } }))).toMatch(/^network\.caBundle: "a b" is not a valid ConfigMap key/);
    expect(problem(() => request({ strategy: { builder: "docker", allowDockerSocket: true }, network: { caBundle: "corp-ca" } })))
      .toMatch(/^network\.caBundle: does not apply to the docker builder: the node's Docker daemon pulls and pushes/);
  });

  it("renders nothing of it when not asked", () => {
    const spec = podOf(request());
    expect(spec.volumes.map((v: any) => v.name)).not.toContain("ca-bundle");
    expect(envOf(buildOf(spec)).SSL_CERT_DIR).toBeUndefined();
    expect(spec.imagePullSecrets).toBeUndefined();
  });
});

describe("a registries.conf", () => {
  it("is mounted for buildah and S2I, and CONTAINERS_REGISTRIES_CONF points at it", () => {
    for (const strategy of [{}, { type: "source", builderImage: "registry.example.com/s2i/python:3.12" }]) {
      const spec = podOf(request({ strategy, network: { registriesConf: "mirrors" } }));
      expect(byName(spec.volumes, "registries-conf").configMap).toEqual({ name: "mirrors", items: [{ key: "registries.conf", path: "registries.conf" }], defaultMode: 0o444 });
      expect(envOf(buildOf(spec)).CONTAINERS_REGISTRIES_CONF).toBe(`${PATHS.registriesConf}/registries.conf`);
      expect(byName(spec.initContainers[0].volumeMounts, "registries-conf")).toBeUndefined();
    }
  });

  it("is refused by builders that read none, naming the one that does", () => {
    expect(problem(() => request({ strategy: { builder: "buildkit" }, network: { registriesConf: "mirrors" } })))
      .toBe("network.registriesConf: the buildkit builder does not read a registries.conf; use buildah, or name the mirrored image in the Dockerfile");
  });
});

describe("pull credentials apart from push credentials", () => {
  it("buildah looks in the push Secret's file first, then in the pull Secret's", () => {
    const spec = podOf(request({ strategy: { pullSecret: "base-pull" }, output: { pushSecret: "push" } }));
    expect(byName(spec.volumes, "pull-secret").secret).toEqual({ secretName: "base-pull", items: [{ key: ".dockerconfigjson", path: "config.json" }], defaultMode: 0o440 });
    const env = envOf(buildOf(spec));
    expect(env.REGISTRY_AUTH_FILE).toBe(`${PATHS.pushConfig}/config.json`);
    expect(env.DOCKER_CONFIG).toBe(PATHS.pullConfig);
    // Each name once: the pull Secret's DOCKER_CONFIG replaces the push Secret's.
    expect(buildOf(spec).env.filter((e: any) => e.name === "DOCKER_CONFIG")).toHaveLength(1);
  });

  it("alone, it is every builder's credentials file", () => {
    const env = envOf(buildOf(podOf(request({ strategy: { builder: "buildkit", pullSecret: "base-pull" } }))));
    expect(env.DOCKER_CONFIG).toBe(PATHS.pullConfig);
    expect(env.REGISTRY_AUTH_FILE).toBe(`${PATHS.pullConfig}/config.json`);
  });

  it("with a push Secret too, is refused by builders that read one file, with the way out", () => {
    expect(problem(() => request({ strategy: { builder: "kaniko", pullSecret: "base-pull" }, output: { pushSecret: "push" } })))
      .toMatch(/^strategy\.pullSecret: the kaniko builder reads one credentials file: put the pull and push registries' credentials in one .* Secret and give it as output\.pushSecret/);
  });

  it("does not apply to a custom build, whose image the node pulls", () => {
    expect(problem(() => request({ strategy: { type: "custom", builderImage: "registry.example.com/b:1", pullSecret: "x" } })))
      .toMatch(/^strategy\.pullSecret: does not apply to the custom strategy/);
  });

  it("the tool images' pull secrets are the pod's imagePullSecrets", () => {
    const spec = podOf(request({ images: { source: "mirror.internal/alpine/git:2", pullSecrets: ["mirror-pull", "other", "mirror-pull"] } }));
    expect(spec.imagePullSecrets).toEqual([{ name: "mirror-pull" }, { name: "other" }]);
    expect(spec.initContainers[0].image).toBe("mirror.internal/alpine/git:2");
  });
});

describe("a forward proxy", () => {
  const PROXY = "http://proxy.internal:3128";

  it("reaches the clone, the builder and, for buildah, its RUN steps through its environment", () => {
    const spec = podOf(request({ network: { proxy: PROXY, noProxy: ["registry.internal", ".svc"] } }));
    for (const c of [spec.initContainers[0], buildOf(spec)]) {
      const env = envOf(c);
      for (const name of ["HTTP_PROXY", "HTTPS_PROXY", "http_proxy", "https_proxy"]) expect(env[name], name).toBe(PROXY);
      expect(env.NO_PROXY).toBe("registry.internal,.svc");
      expect(env.no_proxy).toBe("registry.internal,.svc");
    }
    expect(buildOf(spec).args).not.toContain(`HTTP_PROXY=${PROXY}`);
  });

  it("reaches BuildKit's and kaniko's RUN steps as the predefined build arguments; a user's own wins", () => {
    const buildkit = buildOf(podOf(request({ strategy: { builder: "buildkit" }, network: { proxy: PROXY } })));
    expect(buildkit.args).toEqual(expect.arrayContaining(["--opt", `build-arg:HTTPS_PROXY=${PROXY}`, `build-arg:http_proxy=${PROXY}`]));
    const kaniko = buildOf(podOf(request({ strategy: { builder: "kaniko", buildArgs: { HTTP_PROXY: "http://other:1" } }, network: { proxy: PROXY } })));
    expect(kaniko.args).toContain("--build-arg=HTTP_PROXY=http://other:1");
    expect(kaniko.args).toContain(`--build-arg=https_proxy=${PROXY}`);
    expect(envOf(kaniko).HTTPS_PROXY).toBe(PROXY);
  });

  it("comes from the environment when asked, where the request names none", () => {
    const env = { HTTPS_PROXY: "http://secure-proxy:8080", http_proxy: "http://plain-proxy:3128", NO_PROXY: "localhost, .corp" };
    const fromEnv = request({ network: { proxyFromEnv: true } }, env).network;
    expect(fromEnv).toMatchObject({ httpProxy: "http://plain-proxy:3128", httpsProxy: "http://secure-proxy:8080", noProxy: ["localhost", ".corp"] });
    expect(request({ network: { proxyFromEnv: true, proxy: PROXY } }, env).network).toMatchObject({ httpProxy: PROXY, httpsProxy: PROXY, noProxy: ["localhost", ".corp"] });
    // Not asked: the environment is not read.
    expect(request({}, env).network).toEqual({ noProxy: [] });
  });

  it("refuses a proxy that carries a password, which would sit in the pod's environment", () => {
    expect(problem(() => request({ network: { proxy: "http://user:secret@proxy.internal:3128" } }))).toMatch(/^network\.proxy: carries a user or password/);
    expect(problem(() => request({ network: { proxyFromEnv: true } }, { HTTPS_PROXY: "http://u:p@proxy:1" }))).toMatch(/^network\.proxyFromEnv \(HTTPS_PROXY\): carries a user or password/);
    expect(problem(() => request({ network: { proxy: "socks5://proxy:1080" } }))).toMatch(/is not an http:\/\/ or https:\/\/ proxy/);
    expect(problem(() => request({ network: { proxy: "proxy:3128" } }))).toMatch(/is not an http:\/\/ or https:\/\/ proxy|is not a URL/);
    expect(problem(() => request({ network: { proxy: PROXY, noProxy: ["a b;c"] } }))).toMatch(/^network\.noProxy: "b;c" is not a host/);
  });

  it("a custom builder's env may not hold a name the network settings set", () => {
    expect(problem(() => request({ strategy: { type: "custom", builderImage: "registry.example.com/b:1", env: { HTTPS_PROXY: "x" } }, network: { proxy: PROXY } })))
      .toMatch(/^strategy\.env\.HTTPS_PROXY: is set from the network settings/);
    const spec = podOf(request({ strategy: { type: "custom", builderImage: "registry.example.com/b:1" }, network: { proxy: PROXY, caBundle: "ca", registriesConf: "r" } }));
    expect(envOf(buildOf(spec))).toMatchObject({ HTTPS_PROXY: PROXY, SSL_CERT_DIR: PATHS.caBundle, CONTAINERS_REGISTRIES_CONF: `${PATHS.registriesConf}/registries.conf`, BUILDPOD_CA_BUNDLE: `${PATHS.caBundle}/ca.crt` });
  });
});

describe("the preflight and the pod's events", () => {
  function cluster(objects: { secrets?: Record<string, Record<string, string>>; configMaps?: Record<string, Record<string, string>> }): Cluster {
    return {
      async readNamespace(name: string) { return { metadata: { name } }; },
      async mayI() { return true; },
      async readSecret(name: string) { const data = objects.secrets?.[name]; return data && { type: "kubernetes.io/dockerconfigjson", data }; },
      async readConfigMap(name: string) { const data = objects.configMaps?.[name]; return data && { data }; },
    } as unknown as Cluster;
  }
  const reject = async (p: Promise<unknown>) => p.then(() => { throw new Error("no error"); }, (err) => err as PreflightError);

  it("checks the ConfigMaps and their keys, and the pull secrets", async () => {
    const req = request({ namespace: "builds", network: { caBundle: "corp-ca/bundle.pem" } });
    let err = await reject(preflight(cluster({}), req));
    expect(err.reason).toBe("ConfigMapNotFound");
    expect(err.message).toBe('the CA bundle ConfigMap "corp-ca" does not exist in namespace builds; create it with: kubectl -n builds create configmap corp-ca --from-file=bundle.pem=bundle.pem');
    err = await reject(preflight(cluster({ configMaps: { "corp-ca": { "ca.crt": "x" } } }), req));
    expect(err.reason).toBe("ConfigMapKeyNotFound");
    expect(err.message).toMatch(/has no key "bundle\.pem" \(it has ca\.crt\); name one of its keys as corp-ca\/KEY/);
    await expect(preflight(cluster({ configMaps: { "corp-ca": { "bundle.pem": "x" } } }), req)).resolves.toMatchObject({ skipped: [] });

    err = await reject(preflight(cluster({}), request({ strategy: { pullSecret: "base-pull" } })));
    expect([err.reason, err.message]).toEqual(["SecretNotFound", expect.stringMatching(/^the pull secret "base-pull" does not exist .* create secret docker-registry base-pull/)]);
    err = await reject(preflight(cluster({ secrets: { other: { x: "y" } } }), request({ images: { pullSecrets: ["other"] } })));
    expect([err.reason, err.message]).toEqual(["SecretInvalid", expect.stringMatching(/^the image pull secret "other" has no \.dockerconfigjson key/)]);
  });

  it("a missing ConfigMap or key, as the kubelet reports it, ends the build at once", () => {
    const T0 = 1_000_000;
    const outcome = (message: string) => {
      const t = new PodTracker({ createdAt: T0, startTimeout: 300 });
      t.observe({ metadata: { name: "p", uid: "u" }, status: { phase: "Pending" } } as any, T0);
      return t.podEvents([{ reason: "FailedMount", message }]).find((e: any) => e.type === "done") as any;
    };
    expect(outcome('MountVolume.SetUp failed for volume "ca-bundle" : configmap "corp-ca" not found').outcome)
      .toMatchObject({ status: "StartFailed", reason: "ConfigMapNotFound", message: expect.stringMatching(/^the build cannot start: configmap "corp-ca" not found/) });
    expect(outcome('MountVolume.SetUp failed for volume "ca-bundle" : configmap references non-existent config key: bundle.pem').outcome)
      .toMatchObject({ status: "StartFailed", reason: "ConfigMapKeyNotFound" });
  });
});
