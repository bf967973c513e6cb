// The command's request options from source (the bundle-level tests are in cli.test.ts): flags -> request.
// That every field has a flag, an input, a parameter and a param: fields.test.ts.
import { Command } from "commander";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { addRequestOptions } from "../../adapters/cli/options.js";
import { requestFromFlags } from "../../adapters/cli/flags.js";

function fromFlags(...args: string[]) {
  const cmd = addRequestOptions(new Command("render").exitOverride());
  cmd.parse(args, { from: "user" });
  return requestFromFlags(cmd.opts());
}

const GIT = ["--git", "https://git.example.com/team/app.git", "-t", "registry.example.com/team/app:1.0"];

describe("layer cache flags", () => {
  it("--cache and --cache-mode set the request's cache", () => {
    expect(fromFlags(...GIT, "--cache", "registry.example.com/team/app-cache").req.cache)
      .toEqual({ repository: "registry.example.com/team/app-cache", registry: "registry.example.com", mode: "read-write" });
    expect(fromFlags(...GIT, "--builder", "kaniko", "--cache", "registry.example.com/c", "--cache-mode", "read").req.cache?.mode).toBe("read");
  });

  it("errors name the flag", () => {
    expect(() => fromFlags(...GIT, "--cache", "registry.example.com/c:tag")).toThrow(/^--cache \(cache\.repository\): .*names a tag/);
    expect(() => fromFlags(...GIT, "--cache", "registry.example.com/c", "--cache-mode", "sometimes")).toThrow(/^--cache-mode \(cache\.mode\): unknown value "sometimes"/);
    expect(() => fromFlags(...GIT, "--cache-mode", "read")).toThrow(/^cache\.repository: is required: .*\(--cache\)$/);
  });
});

describe("--no-push", () => {
  it("sets output.push false; without it the build file decides, and pushing is the default", async () => {
    expect(fromFlags(...GIT).req.output.push).toBe(true);
    expect(fromFlags(...GIT, "--no-push").req.output.push).toBe(false);
    const dir = mkdtempSync(join(tmpdir(), "buildpod-opts-"));
    writeFileSync(join(dir, "b.yaml"), "output:\n  push: false\n");
    expect(fromFlags(...GIT, "-f", join(dir, "b.yaml")).req.output.push).toBe(false);
  });
});

describe("--affinity", () => {
  const ANTI = '{"podAntiAffinity": {"preferredDuringSchedulingIgnoredDuringExecution": [{"weight": 10, "podAffinityTerm": {"topologyKey": "kubernetes.io/hostname"}}]}}';

  it("takes JSON or YAML", () => {
    expect(fromFlags(...GIT, "--affinity", ANTI).req.scheduling.affinity).toEqual(JSON.parse(ANTI));
    const yaml = "nodeAffinity:\n  requiredDuringSchedulingIgnoredDuringExecution:\n    nodeSelectorTerms:\n      - matchExpressions: [{key: pool, operator: In, values: [build]}]\n";
    expect(fromFlags(...GIT, "--affinity", yaml).req.scheduling.affinity).toEqual({
      nodeAffinity: { requiredDuringSchedulingIgnoredDuringExecution: { nodeSelectorTerms: [{ matchExpressions: [{ key: "pool", operator: "In", values: ["build"] }] }] } },
    });
  });

  it("is checked like the build file's, and errors name the flag and the field", () => {
    expect(() => fromFlags(...GIT, "--affinity", '{"nodeAffinity": "garbage"}')).toThrow(/^--affinity \(scheduling\.affinity\.nodeAffinity\): must be a NodeAffinity/);
    expect(() => fromFlags(...GIT, "--affinity", "{nodeAffinity: {requiredDuringSchedulingIgnoredDuringExecution: {nodeSelectorTerms: [{matchExpressions: [{key: a, operator: Maybe}]}]}}}"))
      .toThrow(/^--affinity \(scheduling\.affinity\.nodeAffinity\.requiredDuringSchedulingIgnoredDuringExecution\.nodeSelectorTerms\[0\]\.matchExpressions\[0\]\.operator\): unknown value "Maybe"/);
  });

  it("must be a mapping in valid JSON or YAML", () => {
    expect(() => fromFlags(...GIT, "--affinity", '{"nodeAffinity": ')).toThrow(/^--affinity: is not valid JSON or YAML: /);
    expect(() => fromFlags(...GIT, "--affinity", "[1, 2]")).toThrow(/^--affinity: must be a JSON or YAML mapping/);
    expect(() => fromFlags(...GIT, "--affinity", "near")).toThrow(/^--affinity: must be a JSON or YAML mapping/);
    expect(() => fromFlags(...GIT, "--affinity", "{a: 1, a: 2}")).toThrow(/^--affinity: is not valid JSON or YAML: .*unique/i);
  });
});

describe("network flags", () => {
  it("--proxy and --no-proxy are two fields: --no-proxy is no negation of --proxy", () => {
    const { req } = fromFlags(...GIT, "--proxy", "http://proxy.internal:3128", "--no-proxy", "a.internal,.svc", "--no-proxy", "10.0.0.0/8");
    expect(req.network).toEqual({ httpProxy: "http://proxy.internal:3128", httpsProxy: "http://proxy.internal:3128", noProxy: ["a.internal", ".svc", "10.0.0.0/8"] });
    expect(fromFlags(...GIT, "--no-proxy", "a.internal").req.network).toEqual({ noProxy: ["a.internal"] });
  });

  it("--proxy-from-env reads this process's environment; errors name the variable", () => {
    const saved = { ...process.env };
    try {
      process.env.HTTPS_PROXY = "http://env-proxy:8080";
      delete process.env.HTTP_PROXY;
      delete process.env.http_proxy;
      expect(fromFlags(...GIT).req.network.httpsProxy).toBeUndefined();
      expect(fromFlags(...GIT, "--proxy-from-env").req.network).toMatchObject({ httpsProxy: "http://env-proxy:8080" });
      process.env.HTTPS_PROXY = "http://user:pw@env-proxy:8080";
      expect(() => fromFlags(...GIT, "--proxy-from-env")).toThrow(/^network\.proxyFromEnv \(HTTPS_PROXY\): carries a user or password/);
    } finally {
      process.env = saved;
    }
  });

  it("--ca-bundle, --registries-conf, --pull-secret and --image-pull-secret", () => {
    const { req } = fromFlags(...GIT, "--ca-bundle", "corp-ca/root.pem", "--registries-conf", "mirrors", "--pull-secret", "base", "--image-pull-secret", "tools", "--image-pull-secret", "more");
    expect(req.network).toMatchObject({ caBundle: { name: "corp-ca", key: "root.pem" }, registriesConf: { name: "mirrors", key: "registries.conf" } });
    expect(req.strategy).toMatchObject({ pullSecret: "base" });
    expect(req.imagePullSecrets).toEqual(["tools", "more"]);
    expect(() => fromFlags(...GIT, "--builder", "buildkit", "--registries-conf", "m")).toThrow(/^--registries-conf \(network\.registriesConf\): the buildkit builder does not read a registries\.conf/);
  });
});
