// Inputs -> request, kubeconfig masking and writing, and the job summary: no runner, no cluster.
import { mkdtempSync, readFileSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { githubContext, requestFromInputs, type GitHubContext } from "../../action/inputs.js";
import { isInside, kubeconfigSecrets, writeKubeconfig } from "../../action/kubeconfig.js";
import { summaryMarkdown } from "../../action/summary.js";
import type { BuildResult } from "../../core/model.js";

const SHA = "0123456789abcdef0123456789abcdef01234567";
const ctx: GitHubContext = { serverUrl: "https://github.com", repository: "org/app", sha: SHA };
const from = (inputs: Record<string, string>, c: GitHubContext = ctx, env: NodeJS.ProcessEnv = {}, files: Record<string, string> = {}) =>
  requestFromInputs((name) => inputs[name] ?? "", c, env, (p) => files[p] ?? "");

describe("inputs -> request", () => {
  it("the network inputs: ca-bundle, registries-conf, pull secrets, and the runner's proxy when asked", () => {
    const env = { HTTPS_PROXY: "http://runner-proxy:3128", NO_PROXY: "localhost,.corp" };
    const { req } = from({
      image: "registry.example.com/org/app:1", "ca-bundle": "corp-ca/root.pem", "registries-conf": "mirrors", "pull-secret": "base",
      "image-pull-secrets": "tools\nmore", "proxy-from-env": "true",
    }, ctx, env);
    expect(req.network).toEqual({ caBundle: { name: "corp-ca", key: "root.pem" }, registriesConf: { name: "mirrors", key: "registries.conf" }, httpsProxy: "http://runner-proxy:3128", noProxy: ["localhost", ".corp"] });
    expect(req.strategy).toMatchObject({ pullSecret: "base" });
    expect(req.imagePullSecrets).toEqual(["tools", "more"]);
    // Not asked: the runner's proxy is not taken.
    expect(from({ image: "registry.example.com/org/app:1", proxy: "http://given:1", "no-proxy": "a\nb,c" }, ctx, env).req.network)
      .toEqual({ httpProxy: "http://given:1", httpsProxy: "http://given:1", noProxy: ["a", "b", "c"] });
  });

  it("maps every kind of input onto the request model", () => {
    const { req } = from({
      git: "https://git.example.com/org/other", ref: "v1.2", "source-secret": "gitcred", context: "app",
      builder: "kaniko", dockerfile: "build/Dockerfile", target: "release", "build-args": "A=1\nB = x=y\n\n",
      image: "registry.example.com/org/app:1.2", tags: "latest, 1\n1.2.0", "push-secret": "regcred",
      "insecure-registry": "TRUE", labels: "team=core", "cpu-request": "500m", "cpu-limit": "2",
      "memory-request": "1Gi", "memory-limit": "4Gi", timeout: "30m", "start-timeout": "2m", namespace: "builds",
      pod: "true", "node-selector": "pool=builds", tolerations: "dedicated=builds:NoSchedule", "source-image": "mirror.example.com/src:1",
    });
    expect(req.source.git).toEqual({ url: "https://git.example.com/org/other", ref: "v1.2", secret: "gitcred", depth: 1 });
    expect(req.source.contextDir).toBe("app");
    expect(req.strategy).toMatchObject({ type: "docker", builder: "kaniko", dockerfile: "build/Dockerfile", target: "release", buildArgs: { A: "1", B: " x=y" } });
    expect(req.output).toMatchObject({
      image: "registry.example.com/org/app:1.2", pushSecret: "regcred", insecure: true,
      tags: ["registry.example.com/org/app:latest", "registry.example.com/org/app:1", "registry.example.com/org/app:1.2.0"],
      labels: { team: "core", "org.opencontainers.image.source": "https://git.example.com/org/other" },
    });
    expect(req.resources).toEqual({ requests: { cpu: "500m", memory: "1Gi" }, limits: { cpu: "2", memory: "4Gi" } });
    expect([req.timeout, req.startTimeout, req.namespace, req.workload]).toEqual([1800, 120, "builds", "pod"]);
    expect(req.scheduling.nodeSelector).toEqual({ pool: "builds" });
    expect(req.scheduling.tolerations).toEqual([{ key: "dedicated", operator: "Equal", value: "builds", effect: "NoSchedule" }]);
    expect(req.images.source).toBe("mirror.example.com/src:1");
  });

  it("without a source input: this repository at this commit, labelled (created is the build's, from the commit)", () => {
    const event = { head_commit: { id: SHA, timestamp: "2024-05-06T07:08:09+02:00" } };
    const { req } = from({ image: "registry.example.com/org/app:1" }, githubContext({ serverUrl: "https://github.com", sha: SHA, payload: event }, "org/app"));
    expect(req.source.git).toEqual({ url: "https://github.com/org/app", ref: SHA, secret: undefined, depth: 1 });
    expect(req.output.labels).toEqual({
      "org.opencontainers.image.source": "https://github.com/org/app",
      "org.opencontainers.image.revision": SHA,
    });
  });

  it("the event's commit time counts only for the commit built", () => {
    expect(githubContext({ serverUrl: "https://github.com", sha: SHA, payload: { head_commit: { id: SHA, timestamp: "2024-05-06T07:08:09+02:00" } } }).commitTime).toBe("2024-05-06T05:08:09.000Z");
    expect(githubContext({ serverUrl: "https://github.com", sha: SHA, payload: { head_commit: { id: "f".repeat(40), timestamp: "2024-05-06T07:08:09Z" } } }).commitTime).toBeUndefined();
    expect(githubContext({ serverUrl: "https://github.com", sha: SHA, payload: { pull_request: { number: 1 } } }).commitTime).toBeUndefined();
  });

  it("a ref alone builds this repository at that ref; user labels win over the defaults", () => {
    const { req } = from({ image: "r.example.com/a:1", ref: "main", labels: "org.opencontainers.image.source=https://example.com/x" });
    expect(req.source.git).toMatchObject({ url: "https://github.com/org/app", ref: "main" });
    expect(req.output.labels).toEqual({ "org.opencontainers.image.source": "https://example.com/x" });
  });

  it("a workspace upload keeps the repository's labels and its commit time as SOURCE_DATE_EPOCH", () => {
    const { req } = from({ image: "r.example.com/a:1", "from-dir": "." }, { ...ctx, commitTime: "2024-01-01T00:00:00.000Z" });
    expect(req.source.git).toBeUndefined();
    expect(req.source.binary).toEqual({ path: ".", format: "directory" });
    expect(req.source.sourceDateEpoch).toBe(1704067200);
    expect(req.output.labels["org.opencontainers.image.revision"]).toBe(SHA);
  });

  it("a build file under the inputs, tool images from the environment under both", () => {
    const file = "strategy:\n  builder: buildkit\noutput:\n  image: r.example.com/file:1\nsource:\n  git:\n    url: https://example.com/f\n";
    const { req } = from({ file: "buildpod.yaml", builder: "kaniko" }, ctx, { BUILDPOD_IMAGE_BUILDAH: "m.example.com/buildah:1" }, { "buildpod.yaml": file });
    expect(req.strategy).toMatchObject({ builder: "kaniko" });
    expect(req.output.image).toBe("r.example.com/file:1");
    expect(req.source.git?.url).toBe("https://example.com/f");
    expect(req.images.buildah).toBe("m.example.com/buildah:1");
  });

  it("cache and cache-mode set the layer cache", () => {
    const { req } = from({ image: "r.example.com/a:1", cache: "r.example.com/a-cache", "cache-mode": "read" });
    expect(req.cache).toEqual({ repository: "r.example.com/a-cache", registry: "r.example.com", mode: "read" });
    expect(() => from({ image: "r.example.com/a:1", cache: "r.example.com/a-cache:v1" })).toThrow(/^input cache \(cache\.repository\): .*names a tag/);
  });

  it("affinity: JSON or YAML, replacing the build file's whole; errors name the input and the field", () => {
    const file = "scheduling:\n  affinity:\n    nodeAffinity:\n      requiredDuringSchedulingIgnoredDuringExecution:\n        nodeSelectorTerms: [{matchExpressions: [{key: pool, operator: In, values: [a]}]}]\n";
    const anti = { podAntiAffinity: { preferredDuringSchedulingIgnoredDuringExecution: [{ weight: 100, podAffinityTerm: { topologyKey: "kubernetes.io/hostname" } }] } };
    const { req } = from({ file: "b.yaml", image: "r.example.com/a:1", affinity: JSON.stringify(anti) }, ctx, {}, { "b.yaml": file });
    expect(req.scheduling.affinity).toEqual(anti);
    expect(from({ image: "r.example.com/a:1", affinity: "nodeAffinity:\n  requiredDuringSchedulingIgnoredDuringExecution:\n    nodeSelectorTerms:\n      - matchExpressions: [{key: pool, operator: Exists}]\n" }).req.scheduling.affinity)
      .toEqual({ nodeAffinity: { requiredDuringSchedulingIgnoredDuringExecution: { nodeSelectorTerms: [{ matchExpressions: [{ key: "pool", operator: "Exists" }] }] } } });
    expect(() => from({ image: "r.example.com/a:1", affinity: "[1, 2]" })).toThrow(/^affinity: must be a JSON or YAML mapping/);
    expect(() => from({ image: "r.example.com/a:1", affinity: '{"nodeAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": {"nodeSelectorTerms": [{"matchExpressions": [{"key": "k", "operator": "Maybe"}]}]}}}' }))
      .toThrow(/^input affinity \(scheduling\.affinity\.nodeAffinity\.requiredDuringSchedulingIgnoredDuringExecution\.nodeSelectorTerms\[0\]\.matchExpressions\[0\]\.operator\)/);
  });

  it("secrets: one per line, commas kept inside each", () => {
    const { req } = from({ image: "r.example.com/a:1", secrets: "id=npm,secret=tokens,key=npmrc\nid=gh,secret=github\n" });
    expect(req.strategy).toMatchObject({ secrets: [{ id: "npm", secret: "tokens", key: "npmrc" }, { id: "gh", secret: "github", key: "gh" }] });
  });

  it("push: false builds without pushing; true and no input push", () => {
    expect(from({ image: "r.example.com/a:1", push: "false" }).req.output.push).toBe(false);
    expect(from({ image: "r.example.com/a:1", push: "true" }).req.output.push).toBe(true);
    expect(from({ image: "r.example.com/a:1" }).req.output.push).toBe(true);
    expect(() => from({ image: "r.example.com/a:1", push: "no" })).toThrow(/^push: must be true or false, not "no"/);
  });

  it("errors name the input", () => {
    expect(() => from({ image: "r.example.com/a:1", "memory-limit": "512" })).toThrow(/^input memory-limit \(resources.limits.memory\): "512" is 512 bytes/);
    expect(() => from({ image: "r.example.com/a:1", "build-args": "NOEQUALS" })).toThrow(/build-args: "NOEQUALS" is not KEY=VALUE/);
    expect(() => from({ image: "r.example.com/a:1", "insecure-registry": "yes" })).toThrow(/insecure-registry: must be true or false/);
    expect(() => from({})).toThrow(/output.image: is required/);
  });
});

const KUBECONFIG = `apiVersion: v1
kind: Config
clusters:
- name: c
  cluster: {server: "https://k.example.com", certificate-authority-data: Q0FEQVRB}
users:
- name: u
  user:
    token: s3cr3t-t0ken-value
    client-key-data: ${Buffer.from("-----BEGIN EC PRIVATE KEY-----\nMHcCAQEEIIsecretkeylinebody\n-----END EC PRIVATE KEY-----\n").toString("base64")}
    client-key: /etc/keys/client.key
- name: e
  user:
    exec: {command: aws-iam-authenticator, apiVersion: client.authentication.k8s.io/v1, env: [{name: AWS_SECRET, value: hunter2hunter2}]}
contexts:
- name: ctx
  context: {cluster: c, user: u}
current-context: ctx
`;

describe("kubeconfig", () => {
  it("masks the whole text and every credential, not paths or commands", () => {
    const secrets = kubeconfigSecrets(KUBECONFIG);
    expect(secrets).toContain(KUBECONFIG.trim());
    expect(secrets).toContain("s3cr3t-t0ken-value");
    expect(secrets).toContain("MHcCAQEEIIsecretkeylinebody");
    expect(secrets).toContain("hunter2hunter2");
    expect(secrets).not.toContain("/etc/keys/client.key");
    expect(secrets).not.toContain("aws-iam-authenticator");
    expect(secrets).not.toContain("https://k.example.com");
  });

  it("is written to RUNNER_TEMP with mode 0600, never inside the workspace", () => {
    const root = mkdtempSync(join(tmpdir(), "buildpod-action-"));
    const env = { RUNNER_TEMP: root, GITHUB_WORKSPACE: join(root, "ws") };
    const f = writeKubeconfig(KUBECONFIG, env);
    expect(isInside(f.path, root)).toBe(true);
    expect(statSync(f.path).mode & 0o777).toBe(0o600);
    expect(readFileSync(f.path, "utf8")).toBe(KUBECONFIG);
    f.remove();
    // A RUNNER_TEMP inside the workspace is not used.
    const inside = writeKubeconfig(KUBECONFIG, { RUNNER_TEMP: join(root, "ws", "tmp"), GITHUB_WORKSPACE: join(root, "ws") });
    expect(isInside(inside.path, join(root, "ws"))).toBe(false);
    inside.remove();
  });
});

describe("summary", () => {
  const base: BuildResult = {
    status: "Complete", reason: "Completed", message: "done", image: "r.example.com/a:1", tags: [],
    digest: `sha256:${"a".repeat(64)}`, imageRef: `r.example.com/a@sha256:${"a".repeat(64)}`,
    source: { uri: "https://github.com/org/app", ref: "main", commit: SHA }, build: "a", run: "a-xyz12", pod: "a-xyz12-p", namespace: "default", durationSeconds: 12.3,
  };
  it("a complete build: status, image, digest, duration, source", () => {
    const md = summaryMarkdown(base);
    for (const s of ["Complete", "r.example.com/a:1", base.digest!, "12.3s", "https://github.com/org/app", SHA.slice(0, 12)]) expect(md).toContain(s);
    expect(md).not.toContain("<details>");
    expect(md).not.toContain("Provenance");
    const attested = summaryMarkdown({ ...base, provenance: `r.example.com/a@sha256:${"b".repeat(64)}` });
    expect(attested).toContain(`| Provenance | <code>r.example.com/a@sha256:${"b".repeat(64)}</code> |`);
  });
  it("a failed build: the message and the failing container's last lines in <details>, escaped", () => {
    const md = summaryMarkdown({ ...base, status: "Failed", reason: "BuildFailed", message: "step failed", digest: undefined, failedContainer: "build", exitCode: 3, logTail: ["<b>boom</b>", "x".repeat(2000)] });
    expect(md).toContain("step failed");
    expect(md).toMatch(/<details>\n<summary>Last lines of container <code>build<\/code> \(exit code 3\)<\/summary>/);
    expect(md).toContain("&lt;b&gt;boom&lt;/b&gt;");
    expect(md.length).toBeLessThan(3000);
  });
});
