// The builder records (core/builders): what each supports is pinned, so that a change is deliberate; the Pod
// Security level each states is the least its rendered pod fits; preflight and validation read the records.
import type { V1PodSpec } from "@kubernetes/client-node";
import { describe, expect, it } from "vitest";
import { BUILDERS } from "../../core/builders/index.js";
import { parseRequest, preflight, renderPodSpec, requiredLevel, type Cluster } from "../../core/index.js";

const request = (strategy: Record<string, unknown>, extra: Record<string, unknown> = {}) =>
  parseRequest({ name: "app", namespace: "builds", source: { git: { url: "https://git.example.com/app" } }, strategy, output: { image: "registry.example.com/app:1" }, ...extra });

const forBuilder = (builder: string) => request({ type: "docker", builder, allowDockerSocket: builder === "docker" });

describe("the builder records", () => {
  it("support what they support", () => {
    const supports = Object.fromEntries(Object.values(BUILDERS).map((b) => [b.name, b.supports]));
    expect(supports).toEqual({
      buildah: { cache: true, secrets: true, platforms: true, annotations: true, registriesConf: true, separatePullSecret: true, provenance: true },
      buildkit: { cache: true, secrets: true, platforms: true, annotations: true, registriesConf: false, separatePullSecret: false, provenance: false },
      kaniko: { cache: true, secrets: false, platforms: false, annotations: false, registriesConf: false, separatePullSecret: false, provenance: false },
      docker: { cache: false, secrets: true, platforms: false, annotations: false, registriesConf: false, separatePullSecret: false, provenance: false },
    });
  });

  it("have cache options exactly when they support a cache", () => {
    for (const b of Object.values(BUILDERS)) expect(b.cacheOptions !== undefined, b.name).toBe(b.supports.cache);
  });

  it("are keyed by their names, with images pinned by digest", () => {
    for (const [key, b] of Object.entries(BUILDERS)) {
      expect(b.name).toBe(key);
      expect(b.image).toMatch(/@sha256:[a-f0-9]{64}$/);
    }
  });
});

/** The capabilities Pod Security 'baseline' lets a container add. */
const BASELINE_CAPABILITIES = ["AUDIT_WRITE", "CHOWN", "DAC_OVERRIDE", "FOWNER", "FSETID", "KILL", "MKNOD", "NET_BIND_SERVICE", "SETFCAP", "SETGID", "SETPCAP", "SETUID", "SYS_CHROOT"];

/** What in a pod 'baseline' refuses, for the fields builders set (Kubernetes' Pod Security Standards). */
function baselineViolations(spec: V1PodSpec): string[] {
  const found: string[] = [];
  if (spec.volumes?.some((v) => v.hostPath)) found.push("hostPath");
  for (const c of [...(spec.initContainers ?? []), ...spec.containers]) {
    const sc = c.securityContext ?? {};
    if (sc.privileged) found.push(`${c.name}: privileged`);
    if (sc.seccompProfile?.type === "Unconfined") found.push(`${c.name}: seccomp Unconfined`);
    if (sc.appArmorProfile?.type === "Unconfined") found.push(`${c.name}: AppArmor Unconfined`);
    for (const cap of sc.capabilities?.add ?? []) if (!BASELINE_CAPABILITIES.includes(cap)) found.push(`${c.name}: adds ${cap}`);
  }
  return found;
}

describe("the Pod Security level", () => {
  for (const b of Object.values(BUILDERS)) {
    it(`${b.name}: '${b.podSecurity}', the least its pod fits`, () => {
      const req = forBuilder(b.name);
      expect(requiredLevel(req)).toBe(b.podSecurity);
      expect(baselineViolations(renderPodSpec(req)).length > 0).toBe(b.podSecurity === "privileged");
    });
  }

  it("S2I: buildah's; custom: 'baseline', 'privileged' with the node's Docker socket", () => {
    expect(requiredLevel(request({ type: "source", builderImage: "registry.example.com/s2i:1" }))).toBe(BUILDERS.buildah.podSecurity);
    expect(requiredLevel(request({ type: "custom", builderImage: "registry.example.com/c:1" }))).toBe("baseline");
    const exposed = request({ type: "custom", builderImage: "registry.example.com/c:1", exposeDockerSocket: true, allowDockerSocket: true });
    expect(requiredLevel(exposed)).toBe("privileged");
    expect(baselineViolations(renderPodSpec(exposed))).toEqual(["hostPath"]);
  });

  it("a namespace that enforces 'baseline' is told the builders that fit it", async () => {
    const cluster = {
      readNamespace: async (name: string) => ({ metadata: { name, labels: { "pod-security.kubernetes.io/enforce": "baseline" } } }),
      mayI: async () => true,
    } as unknown as Cluster;
    await expect(preflight(cluster, forBuilder("buildkit"))).rejects.toThrow(
      "namespace builds enforces Pod Security 'baseline', and the buildkit builder needs 'privileged'. Use the buildah (default) or kaniko builder, which fit 'baseline'.",
    );
    await expect(preflight(cluster, forBuilder("kaniko"))).resolves.toMatchObject({ skipped: [] });
  });
});

describe("validation reads the records", () => {
  it("a cache only with a builder that supports one, naming those", () => {
    expect(() => request({ type: "docker", builder: "docker", allowDockerSocket: true }, { cache: { repository: "registry.example.com/c" } }))
      .toThrow("cache: the docker builder keeps its cache on the node; a registry layer cache works with buildah, buildkit, kaniko");
    for (const builder of ["buildah", "buildkit", "kaniko"]) {
      expect(request({ type: "docker", builder }, { cache: { repository: "registry.example.com/c" } }).cache?.repository).toBe("registry.example.com/c");
    }
  });

  it("the node's daemon only when allowed, and never with output.insecure", () => {
    expect(() => request({ type: "docker", builder: "docker" })).toThrow(/^strategy\.builder: the docker builder uses the node's Docker socket, .*, or use buildah$/);
    expect(() => request({ type: "docker", builder: "docker", allowDockerSocket: true }, { output: { image: "registry.example.com/app:1", insecure: true } }))
      .toThrow(/^output\.insecure: does not apply to the docker builder: .*configure the daemon, or use buildah$/);
    for (const b of Object.values(BUILDERS)) expect(b.nodeDaemon).toBe(b.name === "docker");
  });
});
