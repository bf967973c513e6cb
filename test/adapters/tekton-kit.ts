// Runs the buildpod Task's step the way Tekton would, without Tekton: its script and env come from the YAML,
// Tekton's variables are substituted in env and args (the script holds none), results go to files in a temp
// directory, and a `buildpod` on PATH stands in for the step image's command.
import { execFile, type ChildProcess } from "node:child_process";
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { parse } from "yaml";

export const ROOT = resolve(import.meta.dirname, "../..");
export const TASK_FILE = join(ROOT, "adapters/tekton/buildpod-task.yaml");

interface Param { name: string; type?: string; default?: string | string[] }
export interface Task {
  spec: {
    params: Param[];
    results: { name: string }[];
    workspaces: { name: string; optional?: boolean }[];
    steps: { name: string; image: string; script: string; env: { name: string; value: string }[]; args?: string[] }[];
  };
}

export function loadTask(): Task {
  return parse(readFileSync(TASK_FILE, "utf8")) as Task;
}

export interface TaskRunInput {
  params: Record<string, string | string[]>;
  /** Bound workspaces: name -> directory. */
  workspaces?: Record<string, string>;
  namespace?: string;
  /** The command the step runs as `buildpod` (default: the repository's ./buildpod). */
  command?: string;
  env?: Record<string, string>;
  /** Called with the step's process once it runs, with each piece of its output. */
  onOutput?: (child: ChildProcess, text: string) => void;
}

export interface StepRun {
  code: number;
  output: string;
  results: Record<string, string | undefined>;
  /** The command line's arguments, as the script built them (when a stand-in recorded them). */
}

/** Tekton's variable substitution for one string, params through their values or defaults. */
function substitute(text: string, vars: Record<string, string>): string {
  return text.replace(/\$\(([^)]+)\)/g, (whole, key: string) => {
    if (!(key in vars)) throw new Error(`no value for ${whole}`);
    return vars[key];
  });
}

export async function runTaskStep(input: TaskRunInput): Promise<StepRun> {
  const task = loadTask();
  const step = task.spec.steps[0];
  const dir = mkdtempSync(join(tmpdir(), "buildpod-tekton-"));
  const vars: Record<string, string> = { "context.taskRun.namespace": input.namespace ?? "default" };
  const arrays: Record<string, string[]> = {};
  for (const p of task.spec.params) {
    const value = input.params[p.name] ?? p.default;
    if (value === undefined) throw new Error(`param ${p.name} is required`);
    if (p.type === "array") arrays[`params.${p.name}[*]`] = value as string[];
    else vars[`params.${p.name}`] = value as string;
  }
  for (const w of task.spec.workspaces) {
    const path = input.workspaces?.[w.name];
    vars[`workspaces.${w.name}.bound`] = path ? "true" : "false";
    vars[`workspaces.${w.name}.path`] = path ?? "";
  }
  mkdirSync(join(dir, "results"));
  for (const r of task.spec.results) vars[`results.${r.name}.path`] = join(dir, "results", r.name);

  const env: Record<string, string> = {};
  for (const e of step.env) env[e.name] = substitute(e.value, vars);
  const args: string[] = [];
  for (const a of step.args ?? []) {
    const m = /^\$\(([^)]+\[\*\])\)$/.exec(a);
    args.push(...(m ? arrays[m[1]] : [substitute(a, vars)]));
  }

  const bin = join(dir, "bin");
  mkdirSync(bin);
  writeFileSync(join(bin, "buildpod"), `#!/bin/sh\nexec '${input.command ?? join(ROOT, "buildpod")}' "$@"\n`);
  chmodSync(join(bin, "buildpod"), 0o755);
  const script = join(dir, "script");
  writeFileSync(script, step.script);
  chmodSync(script, 0o755);

  return new Promise((res) => {
    const child = execFile(script, args, {
      cwd: dir, timeout: 300_000, maxBuffer: 64 << 20,
      env: { PATH: `${bin}:${process.env.PATH}`, HOME: dir, ...input.env, ...env },
    }, (err, stdout, stderr) => {
      const results: Record<string, string | undefined> = {};
      for (const r of task.spec.results) {
        try { results[r.name] = readFileSync(vars[`results.${r.name}.path`], "utf8"); } catch { results[r.name] = undefined; }
      }
      res({ code: err ? Number((err as { code?: unknown }).code ?? 1) : 0, output: stdout + stderr, results });
    });
    if (input.onOutput) {
      child.stdout?.on("data", (d: Buffer) => input.onOutput!(child, d.toString()));
      child.stderr?.on("data", (d: Buffer) => input.onOutput!(child, d.toString()));
    }
  });
}
