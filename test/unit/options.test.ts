// The command's request options from source (the bundle-level tests are in cli.test.ts): flags -> request,
// and the flags against the request model: every field a build file can set has a flag, or is file-only
// with the reason.
import { Command } from "commander";
import { describe, expect, it } from "vitest";
import { addRequestOptions, FILE_ONLY, REQUEST_OPTIONS, requestFromFlags } from "../../adapters/cli/options.js";
import { requestFields } from "../../core/request/index.js";

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

describe("every model field has a flag", () => {
  const fields = requestFields();
  const flagged = new Set(REQUEST_OPTIONS.map((o) => o.path));

  it("knows the model's fields", () => {
    expect(fields).toContain("scheduling.affinity");
    expect(fields).toContain("source.git.url");
    expect(fields).not.toContain("source.git");
  });
  for (const field of fields) {
    it(field, () => {
      const reason = FILE_ONLY[field];
      expect(flagged.has(field) || (reason ?? "").length > 0, `${field} has no flag in REQUEST_OPTIONS and no reason in FILE_ONLY`).toBe(true);
      expect(flagged.has(field) && reason !== undefined, `${field} has a flag, so it is not file-only`).toBe(false);
    });
  }
  it("every flag sets a model field", () => {
    for (const o of REQUEST_OPTIONS) expect(fields, o.flags).toContain(o.path);
    for (const f of Object.keys(FILE_ONLY)) expect(fields, f).toContain(f);
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
