// What every benchmark row shares: the row shape, statistics, and child processes run without blocking the
// test cluster's API server, which lives in the bench process itself.
import { spawn } from "node:child_process";
import { readFileSync } from "node:fs";
import { kubeBinaries } from "../test/cluster/kube/binaries.js";
import { join } from "node:path";

export const ROOT = join(import.meta.dirname, "../..");
export const RUNS = Number(process.env.BENCH_RUNS ?? 10);

export interface Row {
  figure: string;
  buildpod: string;
  anchor: string;
  ratio: string;
  target: string;
  met: boolean | "n/a";
  /** Every sample and any breakdown, written to build/bench.json. */
  raw?: Record<string, unknown>;
}

export const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};
export const ms = (x: number) => `${x.toFixed(0)} ms`;
export const ratio = (a: number, b: number) => `${(a / b).toFixed(2)}x`;

export interface Ran {
  code: number | null;
  stdout: string;
  stderr: string;
  seconds: number;
}

/**
 * Runs a command to its end, asynchronously: a synchronous spawn would freeze the in-process test cluster.
 * `onStdout` sees output as it comes (stdout is then not kept); `onStderr` sees it too.
 */
export function run(cmd: string, args: string[], opts: { input?: string; env?: NodeJS.ProcessEnv; cwd?: string; onStdout?: (chunk: Buffer) => void; onStderr?: (chunk: Buffer) => void } = {}): Promise<Ran> {
  return new Promise((resolve, reject) => {
    const t0 = process.hrtime.bigint();
    const child = spawn(cmd, args, { env: opts.env ?? process.env, cwd: opts.cwd, stdio: ["pipe", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (d: Buffer) => (opts.onStdout ? opts.onStdout(d) : (stdout += d.toString())));
    child.stderr.on("data", (d: Buffer) => {
      stderr += d.toString();
      opts.onStderr?.(d);
    });
    child.on("error", reject);
    child.on("close", (code) => resolve({ code, stdout, stderr, seconds: Number(process.hrtime.bigint() - t0) / 1e9 }));
    child.stdin.end(opts.input ?? "");
  });
}

/** kubectl of the test cluster's own release. */
export const KUBECTL = kubeBinaries().kubectl;

/** kubectl against the test cluster. */
export const kubectl = (kubeconfig: string, args: string[], opts: Parameters<typeof run>[2] = {}) => run(KUBECTL, ["--kubeconfig", kubeconfig, ...args], opts);

/** Milliseconds from spawn to the first byte of output (or exit), cold process each time. */
export function firstOutput(cmd: string, args: string[], env: NodeJS.ProcessEnv = process.env): Promise<number> {
  // Resolves once the child has exited: a child still loading after its first line would share the CPU
  // with the next one measured (the action's main step printed at 55 ms alone, at 100-128 ms beside the
  // previous run's library load).
  return new Promise((resolve) => {
    const t0 = process.hrtime.bigint();
    const child = spawn(cmd, args, { env, stdio: ["ignore", "pipe", "pipe"] });
    let first: number | undefined;
    const seen = () => {
      first ??= Number(process.hrtime.bigint() - t0) / 1e6;
    };
    child.stdout.once("data", seen);
    child.stderr.once("data", seen);
    child.stdout.resume();
    child.stderr.resume();
    child.on("close", () => {
      seen();
      resolve(first!);
    });
  });
}

export const notYet = (figure: string, target: string): Row => ({ figure, buildpod: "not measured yet", anchor: "-", ratio: "-", target, met: "n/a" });

/**
 * This process's peak resident memory, in MB, from /proc/self/status (VmHWM). Not
 * process.resourceUsage().maxRSS: Linux carries a peak over exec, so a client spawned by the bench process
 * (which hosts the API server and is far bigger) would report the bench's memory as its own.
 */
export function peakRssMb(): number {
  try {
    const kb = Number(/^VmHWM:\s+(\d+) kB/m.exec(readFileSync("/proc/self/status", "utf8"))?.[1]);
    if (Number.isFinite(kb)) return Math.round(kb / 102.4) / 10;
  } catch {}
  return Math.round(process.resourceUsage().maxRSS / 102.4) / 10;
}
