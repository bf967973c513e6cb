// A long-running process of the test cluster: its output goes to a log file of its own, an early exit is
// noticed (and reported with the log's tail), and stop() ends it, with SIGKILL if SIGTERM is not enough.
import { spawn } from "node:child_process";
import { closeSync, openSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { reapOnExit, sleep } from "../infra/proc.js";

export interface Daemon {
  name: string;
  pid: number;
  logPath: string;
  exited(): boolean;
  /** Throws, with the log's last lines, when the process has ended. */
  assertRunning(): void;
  stop(graceMs?: number): Promise<void>;
}

export interface DaemonOptions {
  logDir: string;
  /** argv prefix, e.g. the node network's nsenter. */
  enter?: string[];
  env?: NodeJS.ProcessEnv;
}

export function logTail(path: string, lines = 20): string {
  try {
    return readFileSync(path, "utf8").trimEnd().split("\n").slice(-lines).join("\n");
  } catch {
    return "(no log)";
  }
}

export function startDaemon(name: string, argv: string[], opts: DaemonOptions): Daemon {
  const logPath = join(opts.logDir, `${name}.log`);
  const fd = openSync(logPath, "a");
  const full = [...(opts.enter ?? []), ...argv];
  const child = spawn(full[0]!, full.slice(1), { stdio: ["ignore", fd, fd], env: opts.env ?? process.env });
  closeSync(fd);
  const exited = reapOnExit(child);
  let failed: Error | undefined;
  child.on("error", (err) => (failed = err));
  const gone = new Promise<void>((r) => child.once("close", () => r()));
  return {
    name,
    pid: child.pid ?? -1,
    logPath,
    exited: () => exited() || failed !== undefined,
    assertRunning() {
      if (failed) throw new Error(`${name} did not start: ${failed.message}`);
      if (exited()) throw new Error(`${name} exited (exit code ${child.exitCode ?? child.signalCode}); the end of ${logPath}:\n${logTail(logPath)}`);
    },
    async stop(graceMs = 5000) {
      if (exited() || failed) return;
      child.kill("SIGTERM");
      await Promise.race([gone, sleep(graceMs)]);
      if (!exited()) {
        child.kill("SIGKILL");
        await gone;
      }
    },
  };
}

/** Polls `ready` until it is true, failing early when one of the daemons has exited. */
export async function waitFor(what: string, ready: () => Promise<boolean>, daemons: Daemon[], timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    for (const d of daemons) d.assertRunning();
    if (await ready().catch(() => false)) return;
    if (Date.now() > deadline) {
      throw new Error(`${what} did not happen within ${timeoutMs / 1000} s; the logs: ${daemons.map((d) => d.logPath).join(", ")}`);
    }
    await sleep(100);
  }
}
