// The Jenkins shared-library step without a cluster: the linter, the shell it runs, and the step's own logic
// run on real Groovy with a stand-in for the buildpod command.
import { execFile } from "node:child_process";
import { chmodSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { ROOT, STEP, runStep, stepScript, stepVariables } from "./jenkins-kit.js";

function groovyLint(files: string[]): Promise<{ code: number; report: any }> {
  return new Promise((res) => {
    execFile(join(ROOT, "node_modules/.bin/npm-groovy-lint"), ["--noserver", "--failon", "error", "--output", "json", ...files],
      { cwd: ROOT, timeout: 120_000 }, (err, stdout) => {
        const json = stdout.slice(stdout.indexOf("{"));
        res({ code: err ? Number(err.code ?? 1) : 0, report: JSON.parse(json) });
      });
  });
}

describe("npm-groovy-lint", () => {
  it("passes the step and the example Jenkinsfile with no errors", async () => {
    const { code, report } = await groovyLint(["adapters/jenkins/vars/buildpod.groovy", "adapters/jenkins/Jenkinsfile.example"]);
    expect(report.summary.totalFilesLinted).toBe(2);
    expect(report.summary.totalFoundErrorNumber, JSON.stringify(report.files, null, 1)).toBe(0);
    expect(code).toBe(0);
  }, 120_000);

  it("does fail a file with an error (the linter really runs)", async () => {
    const dir = mkdtempSync(join(tmpdir(), "buildpod-lint-"));
    writeFileSync(join(dir, "bad.groovy"), "def call() {\n    def unused = 1\n}\n");
    const { code, report } = await groovyLint([join(dir, "bad.groovy")]);
    expect(report.summary.totalFoundErrorNumber).toBeGreaterThan(0);
    expect(code).not.toBe(0);
  }, 120_000);
});

describe("the shell the step runs", () => {
  const script = stepScript();
  const step = readFileSync(STEP, "utf8");

  it("is a constant: single-quoted, no interpolation, no escapes", () => {
    // The one ${...} is the shell's own, in a single-quoted Groovy string that never interpolates.
    expect(script.replace('"${arg%?x}"', "")).not.toContain("${");
    expect(script).not.toContain("\\");
    expect(step).toMatch(/@Field\s+static final String SCRIPT = '''/);
    // Every sh call runs that constant, and nothing else.
    const calls = [...step.matchAll(/\bsh\s*\(([^)]*)\)/g)].map((m) => m[1]);
    expect(calls.length).toBeGreaterThan(0);
    for (const c of calls) expect(c).toBe("script: SCRIPT, returnStatus: true");
  });

  it("reads only variables the step sets, each quoted", () => {
    const vars = new Set(stepVariables());
    const used = [...script.matchAll(/\$([A-Za-z_][A-Za-z0-9_]*|@)/g)].map((m) => m[1]);
    for (const name of used) if (!["@", "i", "arg"].includes(name)) expect(vars, name).toContain(name);
    expect(vars).toContain("BUILDPOD_ARGC");
    // Every expansion of a variable sits inside double quotes (arithmetic and command substitution aside).
    for (const line of script.split("\n")) {
      const unquoted = line.replace(/"[^"]*"/g, "");
      expect(unquoted, line).not.toMatch(/\$[A-Za-z_{@]/);
    }
  });
});

describe.concurrent("the step on Groovy, with a stand-in command", () => {
  /** A buildpod that records its arguments and leaves the result the test asks for. */
  function fakeCommand(exit: number, result?: object): { workspace: string; command: string; argv: () => string[] } {
    const workspace = mkdtempSync(join(tmpdir(), "buildpod-ws-"));
    const command = join(workspace, "..", `fake-buildpod-${workspace.split("-").pop()}`);
    writeFileSync(join(workspace, "..", `result-${workspace.split("-").pop()}.json`), JSON.stringify(result ?? null));
    writeFileSync(command, [
      "#!/bin/sh",
      `for a; do printf '%s\\0' "$a"; done > "${workspace}.argv"`,
      "for a; do case $a in --result-file=*) f=${a#--result-file=};; esac; done",
      result ? `cp "${join(workspace, "..", `result-${workspace.split("-").pop()}.json`)}" "$f"` : ":",
      `exit ${exit}`,
      "",
    ].join("\n"));
    chmodSync(command, 0o755);
    return { workspace, command, argv: () => readFileSync(`${workspace}.argv`, "utf8").split("\0").slice(0, -1) };
  }

  it("passes every value as one argument, hostile ones included, and returns the result", async () => {
    const ok = { status: "Complete", reason: "Completed", message: "done", imageRef: "r.example/a@sha256:1", source: { commit: "abc" } };
    const f = fakeCommand(0, ok);
    const hostile = `x"; touch /tmp/pwned-$$; echo '$(id)' \`id\` \${HOME}`;
    const run = await runStep(f.workspace, {
      image: "r.example/a:1", git: hostile, ref: "main", namespace: "builds", pushSecret: "regcred",
      tags: ["latest", "with space"], buildArgs: { A: "1 2", B: hostile }, insecureRegistry: true,
      kubeconfigCredentialsId: "kc", extraArgs: ["--memory-limit", "4Gi"], command: f.command,
    }, { kc: "/secret/kubeconfig" });
    expect(run.error).toBeUndefined();
    expect(run.returned).toEqual(ok);
    // In the field table's order, then extraArgs, the kubeconfig and the result files.
    expect(f.argv()).toEqual([
      "run", "--namespace=builds", `--git=${hostile}`, "--ref=main", "--build-arg=A=1 2", `--build-arg=B=${hostile}`,
      "--image=r.example/a:1", "--tag=latest", "--tag=with space", "--push-secret=regcred", "--insecure-registry",
      "--memory-limit", "4Gi", "--kubeconfig=/secret/kubeconfig", "--result-file=.buildpod/result.json",
      "--result-env-file=.buildpod/result.env",
    ]);
    expect(run.sh).toHaveLength(1);
    expect(run.sh[0].script).toBe(stepScript());
    expect(run.sh[0].env.BUILDPOD_KUBECONFIG).toBe("/secret/kubeconfig");
  }, 60_000);

  it.each([
    [1, "buildpod: the build failed (BuildFailed): step build exited 1"],
    [3, "buildpod: the build did not start (ImagePullBackOff): step build exited 1"],
    [4, "buildpod: the build was cancelled (Cancelled): step build exited 1"],
    [5, "buildpod: the build could not run: buildpod or cluster error (ClusterError): step build exited 1"],
  ])("fails the stage on exit code %i, naming the reason and message", async (exit, message) => {
    const reason = { 1: "BuildFailed", 3: "ImagePullBackOff", 4: "Cancelled", 5: "ClusterError" }[exit];
    const f = fakeCommand(exit, { status: "Failed", reason, message: "step build exited 1" });
    const run = await runStep(f.workspace, { image: "r.example/a:1", fromDir: "app", command: f.command });
    expect(run.error).toBe(message);
  }, 60_000);

  it("fails without a result file too, pointing at the log; failOnError false returns the result", async () => {
    const f = fakeCommand(2);
    const run = await runStep(f.workspace, { image: "r.example/a:1", command: f.command });
    expect(run.error).toBe("buildpod: the build was refused: invalid input: see the log above");
    const g = fakeCommand(1, { status: "Failed", reason: "OOMKilled", message: "out of memory" });
    const kept = await runStep(g.workspace, { image: "r.example/a:1", command: g.command, failOnError: false });
    expect(kept.error).toBeUndefined();
    expect(kept.returned).toMatchObject({ reason: "OOMKilled" });
  }, 60_000);

  it("refuses unknown parameters, a missing image and values of the wrong shape before running anything", async () => {
    const f = fakeCommand(0);
    const [unknown, noImage, wrong, notBoolean, notText] = await Promise.all([
      { image: "a", imgae: "b" }, { git: "g" }, { image: "a", buildArgs: ["A=1"] }, { image: "a", insecureRegistry: "yes" },
      { image: "a", affinity: { nodeAffinity: {} } },
    ].map((args) => runStep(f.workspace, args)));
    expect(unknown.error).toBe("buildpod: unknown parameter 'imgae'");
    expect(noImage.error).toMatch(/^buildpod: the image parameter is required/);
    expect(wrong.error).toBe("buildpod: buildArgs must be a map, e.g. buildArgs: [KEY: 'value']");
    expect(notBoolean.error).toBe("buildpod: insecureRegistry must be true or false, not 'yes'");
    expect(notText.error).toBe("buildpod: affinity takes text (JSON or YAML), not a map");
    for (const run of [unknown, noImage, wrong, notBoolean, notText]) expect(run.sh).toHaveLength(0);
  }, 60_000);

  it("passes any option of the table, line breaks and trailing newlines kept", async () => {
    const f = fakeCommand(0, { status: "Complete" });
    const dockerfile = "FROM busybox\nRUN echo 'a\\nb'\n\n";
    const run = await runStep(f.workspace, {
      file: "buildpod.yaml", inlineDockerfile: dockerfile, pod: true, incremental: false, push: false, nodeSelector: { pool: "build" },
      tolerations: "dedicated=build:NoSchedule", affinity: "{}", deleteAfter: "10m", command: f.command,
    });
    expect(run.error).toBeUndefined();
    expect(f.argv()).toEqual([
      "run", "--pod", `--inline-dockerfile=${dockerfile}`, "--no-push", "--delete-after=10m", "--node-selector=pool=build",
      "--toleration=dedicated=build:NoSchedule", "--affinity={}", "--file=buildpod.yaml",
      "--result-file=.buildpod/result.json", "--result-env-file=.buildpod/result.env",
    ]);
  }, 60_000);
});
