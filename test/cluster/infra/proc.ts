// Small process helpers for the test cluster: run a command, capture its output, fail loudly with stderr.
import { spawn, type ChildProcess, type SpawnOptions } from "node:child_process";
import { connect } from "node:net";

// debootstrap and some of podman's helpers live in sbin, which a non-login or non-root PATH may lack.
for (const dir of ["/usr/local/sbin", "/usr/sbin", "/sbin"]) {
  const path = process.env.PATH ?? "";
  if (!path.split(":").includes(dir)) process.env.PATH = path ? `${path}:${dir}` : dir;
}

export interface RunOptions {
  env?: NodeJS.ProcessEnv;
  cwd?: string;
  /** Bytes or text written to the child's stdin, which is then closed. */
  input?: Buffer | string;
  /** When false, a non-zero exit resolves instead of rejecting. Default true. */
  check?: boolean;
  signal?: AbortSignal;
  timeoutMs?: number;
}

export interface RunResult {
  code: number;
  stdout: string;
  stderr: string;
}

export class CommandError extends Error {
  constructor(
    readonly argv: string[],
    readonly code: number,
    readonly stdout: string,
    readonly stderr: string,
  ) {
    super(`${argv.join(" ")} exited with ${code}: ${(stderr || stdout).trim().slice(-2000)}`);
  }
}

export function run(cmd: string, args: string[], opts: RunOptions = {}): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    const so: SpawnOptions = {
      env: opts.env ?? process.env,
      cwd: opts.cwd,
      stdio: [opts.input === undefined ? "ignore" : "pipe", "pipe", "pipe"],
      signal: opts.signal,
      timeout: opts.timeoutMs,
    };
    const child = spawn(cmd, args, so);
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout!.on("data", (b: Buffer) => out.push(b));
    child.stderr!.on("data", (b: Buffer) => err.push(b));
    if (opts.input !== undefined) {
      child.stdin!.on("error", () => {});
      child.stdin!.end(opts.input);
    }
    child.on("error", reject);
    child.on("close", (code, sig) => {
      const r: RunResult = {
        code: code ?? (sig ? 128 + signalNumber(sig) : 1),
        stdout: Buffer.concat(out).toString("utf8"),
        stderr: Buffer.concat(err).toString("utf8"),
      };
      if (r.code !== 0 && opts.check !== false) reject(new CommandError([cmd, ...args], r.code, r.stdout, r.stderr));
      else resolve(r);
    });
  });
}

function signalNumber(sig: NodeJS.Signals): number {
  const table: Partial<Record<NodeJS.Signals, number>> = { SIGKILL: 9, SIGTERM: 15, SIGINT: 2, SIGHUP: 1 };
  return table[sig] ?? 0;
}

export { sleep } from "../../../core/cluster.js";

/** Whether something accepts connections on the port (of loopback, or of another address of the machine's). */
export function canConnect(port: number, host = "127.0.0.1"): Promise<boolean> {
  return new Promise((resolve) => {
    const s = connect({ host, port });
    s.once("connect", () => {
      s.destroy();
      resolve(true);
    });
    s.once("error", () => resolve(false));
  });
}

/** Never lets a child server outlive the test process, even when it ends without stopping it. Returns
 * whether the child has exited. */
export function reapOnExit(child: ChildProcess): () => boolean {
  let exited = false;
  const reap = () => {
    if (!exited) child.kill("SIGKILL");
  };
  // One listener per server: a whole test cluster has more than the default ten.
  const max = process.getMaxListeners();
  if (max !== 0) process.setMaxListeners(max + 1);
  process.once("exit", reap);
  child.on("exit", () => {
    exited = true;
    process.removeListener("exit", reap);
    const now = process.getMaxListeners();
    if (now > 1) process.setMaxListeners(now - 1);
  });
  return () => exited;
}
