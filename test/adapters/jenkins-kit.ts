// Runs the Jenkins shared-library step outside Jenkins (test/adapters/jenkins-harness.groovy, on the Groovy
// that npm-groovy-lint ships and the machine's Java), and reads its parts.
import { execFile } from "node:child_process";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";

export const ROOT = resolve(import.meta.dirname, "../..");
export const STEP = join(ROOT, "adapters/jenkins/vars/buildpod.groovy");
const GROOVY_LIB = join(ROOT, "node_modules/npm-groovy-lint/lib/java/groovy/lib");
const CLASSPATH = ["groovy-4.0.26.jar", "groovy-json-4.0.26.jar"].map((j) => join(GROOVY_LIB, j)).join(":");

/** The shell script the step runs: the single-quoted Groovy constant SCRIPT. */
export function stepScript(): string {
  const m = /static final String SCRIPT = '''([\s\S]*?)'''/.exec(readFileSync(STEP, "utf8"));
  if (!m) throw new Error("no SCRIPT constant in the step");
  return m[1];
}

/** The variables the step sets for its script: the ones it adds to its env list, and the credential's. */
export function stepVariables(): string[] {
  const text = readFileSync(STEP, "utf8");
  const own = [...text.matchAll(/env << "(BUILDPOD_[A-Z_]+)=/g), ...text.matchAll(/\["(BUILDPOD_[A-Z_]+)=/g)].map((m) => m[1]);
  const credential = [...text.matchAll(/variable: '(BUILDPOD_[A-Z_]+)'/g)].map((m) => m[1]);
  return [...own, ...credential];
}

export interface StepRun {
  returned?: Record<string, any>;
  error?: string;
  sh: { script: string; env: Record<string, string>; status: number }[];
  /** What the step's sh printed. */
  log: string;
}

/** Calls buildpod(args) in a workspace, as a Jenkinsfile would, with the given credentials (id -> file). */
export function runStep(workspace: string, args: Record<string, unknown>, credentials: Record<string, string> = {},
  env: Record<string, string> = {}): Promise<StepRun> {
  const dir = mkdtempSync(join(tmpdir(), "buildpod-jenkins-"));
  const input = join(dir, "input.json");
  const output = join(dir, "output.json");
  const log = join(dir, "sh.log");
  writeFileSync(input, JSON.stringify({ workspace, log, args, credentials }));
  return new Promise((res, rej) => {
    execFile("java", ["-cp", CLASSPATH, "groovy.ui.GroovyMain", join(ROOT, "test/adapters/jenkins-harness.groovy"), STEP, input, output],
      { env: { ...process.env, ...env }, timeout: 300_000 }, (err, stdout, stderr) => {
        if (err) return rej(new Error(`harness failed: ${err.message}\n${stdout}${stderr}`));
        let text = "";
        try { text = readFileSync(log, "utf8"); } catch { /* no sh ran */ }
        res({ ...JSON.parse(readFileSync(output, "utf8")), log: text });
      });
  });
}
