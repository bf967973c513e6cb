// The buildpod Task without a cluster: tekton-lint, the shape of the step (params only through env and
// args), and its script run with a stand-in buildpod that records its arguments.
import { execFile } from "node:child_process";
import { chmodSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { loadTask, ROOT, runTaskStep } from "./tekton-kit.js";

interface Problem { message: string; rule: string; level: string; path: string }

function run(args: string[]): Promise<{ code: number; stdout: string }> {
  return new Promise((res) => {
    // The rules file lives with the Task: tekton-lint reads .tektonlintrc.yaml from its working directory.
    // tekton-lint exits 0 whatever it finds when NODE_ENV is "test", as vitest sets it.
    execFile(join(ROOT, "node_modules/.bin/tekton-lint"), args, { cwd: join(ROOT, "adapters/tekton"), env: { ...process.env, NODE_ENV: "production" } },
      (err, stdout) => res({ code: err ? Number(err.code ?? 1) : 0, stdout }));
  });
}

async function tektonLint(files: string[]): Promise<{ code: number; problems: Problem[] }> {
  const { code, stdout } = await run(["--format", "json", ...files]);
  return { code, problems: JSON.parse(stdout || "[]") as Problem[] };
}

describe("tekton-lint", () => {
  it("passes the Task and the example Pipeline with no errors", async () => {
    const { code, problems } = await tektonLint(["buildpod-task.yaml", "pipeline.example.yaml"]);
    expect(problems.filter((p) => p.level === "error")).toEqual([]);
    expect(code).toBe(0);
    // The only workspace warnings are tekton-lint's false positives about the Task's optional workspaces.
    const optional = loadTask().spec.workspaces.filter((w) => w.optional).map((w) => w.name);
    for (const p of problems.filter((x) => x.rule === "no-missing-workspace")) {
      expect(optional, p.message).toContain(/provides no workspace for '([^']+)'/.exec(p.message)?.[1]);
    }
    // The Task itself lints clean, warnings included.
    expect(problems.filter((p) => p.path.endsWith("buildpod-task.yaml"))).toEqual([]);
  });

  it("does report an error (the linter really runs)", async () => {
    const dir = mkdtempSync(join(tmpdir(), "buildpod-tlint-"));
    const bad = readFileSync(join(ROOT, "adapters/tekton/buildpod-task.yaml"), "utf8").replace("$(params.IMAGE)", "$(params.IMAGES)");
    writeFileSync(join(dir, "task.yaml"), bad);
    const { code, problems } = await tektonLint([join(dir, "task.yaml")]);
    expect(problems.some((p) => p.level === "error" && p.message.includes("IMAGES"))).toBe(true);
    expect(code).not.toBe(0);
  });
});

describe("the Task's step", () => {
  const task = loadTask();
  const step = task.spec.steps[0];

  it("has no Tekton variable in its script: params, workspaces and results arrive through env and args", () => {
    expect(task.spec.steps).toHaveLength(1);
    expect(step.script).not.toMatch(/\$\((params|results|workspaces|context|steps|tasks)\./);
    expect(step.script.startsWith("#!/usr/bin/env bash\n")).toBe(true);
    for (const a of step.args ?? []) expect(a).toMatch(/^(\$\(params\.[A-Z_]+\[\*\]\)|--|--[a-z-]+)$/);
    // Every param is used, each by exactly one env entry or arg; the image param names the step image.
    const text = JSON.stringify({ env: step.env, args: step.args, image: step.image });
    for (const p of task.spec.params) expect(text.split(`$(params.${p.name}${p.type === "array" ? "[*]" : ""})`).length - 1, p.name).toBe(1);
    for (const r of task.spec.results) expect(step.env.map((e) => e.value)).toContain(`$(results.${r.name}.path)`);
  });

  it("the script passes bash -n and reads only the env the step declares", async () => {
    const dir = mkdtempSync(join(tmpdir(), "buildpod-script-"));
    writeFileSync(join(dir, "script"), step.script);
    await new Promise<void>((res, rej) => execFile("bash", ["-n", join(dir, "script")], (err, _o, e) => (err ? rej(new Error(e)) : res())));
    const names = new Set(step.env.map((e) => e.name));
    const locals = new Set(["options", "switches", "negations", "pushed", "arrays", "given", "flag", "pair", "var", "namespace", "out", "child", "status", "digest", "image", "commit", "provenance", "platform_digests", "line"]);
    for (const [, name] of step.script.matchAll(/\$\{?([A-Za-z_][A-Za-z0-9_]*)/g)) {
      expect(names.has(name) || locals.has(name), name).toBe(true);
    }
  });

  /** A buildpod that records its arguments and writes the result env file the test gives it. */
  function stand_in(exit: number, resultEnv: string): { command: string; argv: () => string[] } {
    const dir = mkdtempSync(join(tmpdir(), "buildpod-fake-"));
    writeFileSync(join(dir, "result.env"), resultEnv);
    writeFileSync(join(dir, "buildpod"), [
      "#!/bin/sh",
      `for a; do printf '%s\\0' "$a"; done > '${dir}/argv'`,
      `for a; do case $a in --result-env-file=*) cp '${dir}/result.env' "\${a#--result-env-file=}";; esac; done`,
      `exit ${exit}`, "",
    ].join("\n"));
    chmodSync(join(dir, "buildpod"), 0o755);
    return { command: join(dir, "buildpod"), argv: () => readFileSync(join(dir, "argv"), "utf8").split("\0").slice(0, -1) };
  }
  const DIGEST = `sha256:${"ab".repeat(32)}`;

  it("passes hostile values as single arguments, builds the workspace in the TaskRun's namespace, writes results", async () => {
    const f = stand_in(0, `BUILDPOD_STATUS=Complete\nBUILDPOD_IMAGE=r.example/a:1\nBUILDPOD_DIGEST=${DIGEST}\nBUILDPOD_COMMIT=\n`);
    const hostile = `x"; touch /tmp/pwned; echo $(id) \`id\` \${HOME}`;
    const src = mkdtempSync(join(tmpdir(), "buildpod-src-"));
    const run = await runTaskStep({
      command: f.command, workspaces: { source: src }, namespace: "team-ci",
      params: { IMAGE: "r.example/a:1", BUILDPOD_IMAGE: "x", DOCKERFILE: hostile, BUILD_ARGS: ["A=1 2", `B=${hostile}`], EXTRA_ARGS: ["--memory-limit", "4Gi"] },
    });
    expect(run.code, run.output).toBe(0);
    expect(f.argv()).toEqual([
      "run", "--build-arg=A=1 2", `--build-arg=B=${hostile}`, "--memory-limit", "4Gi", `--dockerfile=${hostile}`,
      "--image=r.example/a:1", `--from-dir=${src}`, "--namespace=team-ci", expect.stringMatching(/^--result-env-file=/),
    ]);
    expect(run.results).toEqual({ IMAGE_URL: "r.example/a:1", IMAGE_DIGEST: DIGEST, COMMIT: "", PROVENANCE: "", PLATFORM_DIGESTS: "" });
  });

  it("uses the kubeconfig workspace and its context's namespace, and Git when GIT_URL is given", async () => {
    const f = stand_in(0, `BUILDPOD_IMAGE=r.example/a:1\nBUILDPOD_DIGEST=${DIGEST}\nBUILDPOD_COMMIT=${"c".repeat(40)}\nBUILDPOD_PROVENANCE=r.example/a@${DIGEST}\n`);
    const kc = mkdtempSync(join(tmpdir(), "buildpod-kc-"));
    const run = await runTaskStep({
      command: f.command, workspaces: { kubeconfig: kc, source: "/unused" },
      params: { IMAGE: "r.example/a:1", BUILDPOD_IMAGE: "x", GIT_URL: "https://git.example.com/a", GIT_REVISION: "v1", PUSH_SECRET: "regcred", INSECURE_REGISTRY: "true" },
    });
    expect(run.code, run.output).toBe(0);
    expect(f.argv()).toEqual([
      "run", "--git=https://git.example.com/a", "--ref=v1", "--image=r.example/a:1", "--push-secret=regcred",
      "--insecure-registry", `--kubeconfig=${kc}/kubeconfig`, expect.stringMatching(/^--result-env-file=/),
    ]);
    expect(run.results.COMMIT).toBe("c".repeat(40));
    expect(run.results.PROVENANCE).toBe(`r.example/a@${DIGEST}`);
  });

  it("PUSH false: --no-push, and only COMMIT is written (nothing for Tekton Chains to sign)", async () => {
    const f = stand_in(0, `BUILDPOD_STATUS=Complete\nBUILDPOD_IMAGE=r.example/a:1\nBUILDPOD_PUSHED=false\nBUILDPOD_IMAGE_ID=${DIGEST}\nBUILDPOD_COMMIT=${"c".repeat(40)}\n`);
    const run = await runTaskStep({ command: f.command, params: { IMAGE: "r.example/a:1", BUILDPOD_IMAGE: "x", GIT_URL: "g", PUSH: "false" } });
    expect(run.code, run.output).toBe(0);
    expect(f.argv()).toContain("--no-push");
    expect(run.results).toEqual({ IMAGE_URL: undefined, IMAGE_DIGEST: undefined, COMMIT: "c".repeat(40), PROVENANCE: undefined });
    const wrong = await runTaskStep({ command: f.command, params: { IMAGE: "r.example/a:1", BUILDPOD_IMAGE: "x", GIT_URL: "g", PUSH: "no" } });
    expect(wrong.code).toBe(2);
    expect(wrong.output).toContain("the PUSH param must be true or false, not 'no'");
  });

  it("exits with buildpod's code on failure and writes no results; refuses a build with no source or no digest", async () => {
    const failed = await runTaskStep({ command: stand_in(3, "BUILDPOD_STATUS=StartFailed\n").command, params: { IMAGE: "a", BUILDPOD_IMAGE: "x", GIT_URL: "g" } });
    expect(failed.code).toBe(3);
    expect(failed.results).toEqual({ IMAGE_URL: undefined, IMAGE_DIGEST: undefined, COMMIT: undefined });
    const nosource = await runTaskStep({ command: stand_in(0, "").command, params: { IMAGE: "a", BUILDPOD_IMAGE: "x" } });
    expect(nosource.code).toBe(2);
    expect(nosource.output).toContain("give the GIT_URL param or bind the source workspace");
    const nodigest = await runTaskStep({ command: stand_in(0, "BUILDPOD_IMAGE=a\n").command, params: { IMAGE: "a", BUILDPOD_IMAGE: "x", GIT_URL: "g" } });
    expect(nodigest.code).toBe(5);
    expect(nodigest.results.IMAGE_DIGEST).toBeUndefined();
  });
});
