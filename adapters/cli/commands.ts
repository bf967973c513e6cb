// The commands that talk to a cluster: run, logs, cancel.
import { writeFileSync } from "node:fs";
import { hostname } from "node:os";
import { StringDecoder } from "node:string_decoder";
import {
  cancelBuild, CLIENT_ANNOTATION, Cluster, ClusterError, contextNamespace, errorResult, InputError, LogCursor, parseDuration, pruneBuilds, findBuild, followBuild, resultEnv, runBuild,
  type BuildResult, type BuildStatus, type LogLine,
} from "../../core/index.js";
import { EXIT } from "./exit.js";
import { requestFromFlags } from "./flags.js";

export interface IO {
  out(s: string): void;
  err(s: string): void;
  /** When the stream holds more than it should (a slow pipe): resolves once it has drained. */
  drained?(stream: "out" | "err"): Promise<void> | undefined;
}

const STATUS_EXIT: Record<BuildStatus, number> = {
  Complete: EXIT.ok,
  Failed: EXIT.buildFailed,
  StartFailed: EXIT.startFailed,
  Cancelled: EXIT.cancelled,
  Error: EXIT.error,
};

export function exitCodeFor(result: BuildResult): number {
  return STATUS_EXIT[result.status];
}

function connect(opts: Record<string, unknown>): Promise<Cluster> {
  return Cluster.connect({ kubeconfig: opts.kubeconfig as string | undefined, context: opts.kubeContext as string | undefined });
}

/**
 * Ctrl-C and the CI's SIGTERM stop the command: `run` cancels the build, `logs -f` only stops following.
 * A second signal leaves at once.
 */
function onSignals(abort: AbortController, io: IO, what = "cancelling the build"): () => void {
  let count = 0;
  const handler = (sig: NodeJS.Signals) => {
    count++;
    if (count === 1) {
      io.err(`buildpod: ${sig}: ${what}\n`);
      abort.abort();
    } else {
      io.err(`buildpod: ${sig} again: leaving now; the build may still exist\n`);
      process.exit(EXIT.cancelled);
    }
  };
  process.on("SIGINT", handler);
  process.on("SIGTERM", handler);
  return () => {
    process.off("SIGINT", handler);
    process.off("SIGTERM", handler);
  };
}

/**
 * Prints progress and log lines. A log can run to millions of lines: the lines that arrive in one turn of
 * the event loop are written together, once it has handled what the connection delivered. A followed log
 * comes a line per chunk (the kubelet writes each line on its own), and a write per chunk was a write per
 * line: 1M lines relayed live took 5.0-5.1 s of CPU that way, 4.0-4.4 s written once per turn.
 */
export function printer(io: IO, logsTo: "out" | "err") {
  let width = 6;
  let batch = "";
  let queued = false;
  const flush = () => {
    queued = false;
    if (batch === "") return;
    const text = batch;
    batch = "";
    io[logsTo](text);
  };
  const schedule = () => {
    if (queued) return;
    queued = true;
    setImmediate(flush);
  };
  return {
    progress: (m: string) => {
      flush();
      io.err(`buildpod: ${m}\n`);
    },
    log: (container: string, line: LogLine) => {
      width = Math.max(width, container.length);
      batch += `${container.padEnd(width)} | ${line.text}\n`;
      schedule();
    },
    flush,
    /** After a chunk's lines: holds the log streams while the output drains (a slow pipe). */
    afterBatch: () => io.drained?.(logsTo),
  };
}

function summary(r: BuildResult): string {
  const lines: string[] = [];
  if (r.status === "Complete") {
    lines.push(`buildpod: build complete: ${r.imageRef ?? r.image}${r.pushed === false ? " (not pushed)" : ""}${r.attempt ? ` on attempt ${r.attempt}` : ""}${r.source.commit ? ` from ${r.source.commit.slice(0, 12)}` : ""}${r.durationSeconds !== undefined ? ` in ${r.durationSeconds}s` : ""}`);
    if (!r.digest) lines.push(`buildpod: ${r.message}`);
    if (r.provenance) lines.push(`buildpod: provenance attached: ${r.provenance}`);
    for (const p of r.platforms ?? []) lines.push(`buildpod:   ${p.platform}: ${p.imageRef ?? p.image}${p.provenance ? ` (provenance ${p.provenance})` : ""}`);
  } else {
    lines.push(`buildpod: build ${r.status === "StartFailed" ? "failed to start" : r.status.toLowerCase()} (${r.reason}): ${r.message}`);
    if (r.exitCode !== undefined) lines.push(`buildpod: exit code ${r.exitCode} in container ${r.failedContainer}`);
    if (r.logTail?.length) {
      const tail = r.logTail.slice(-15);
      lines.push(`buildpod: last lines${r.failedContainer ? ` of ${r.failedContainer}` : ""}:`, ...tail.map((l) => `  ${l}`));
    }
  }
  return lines.join("\n") + "\n";
}

function writeResultFiles(r: BuildResult, opts: Record<string, unknown>, io: IO): void {
  const write = (path: unknown, text: string, what: string) => {
    if (typeof path !== "string") return;
    try {
      writeFileSync(path, text);
    } catch (err) {
      io.err(`buildpod: could not write the ${what} to ${path}: ${(err as Error).message}\n`);
    }
  };
  write(opts.resultFile, JSON.stringify(r, null, 2) + "\n", "result");
  write(opts.resultEnvFile, resultEnv(r), "result env file");
}

export async function runCommand(opts: Record<string, unknown>, io: IO): Promise<number> {
  const { req, raw } = requestFromFlags(opts);
  const json = opts.output === "json";
  const report = (result: BuildResult) => {
    writeResultFiles(result, opts, io);
    if (json) io.out(JSON.stringify(result, null, 2) + "\n");
  };
  const p = printer(io, json ? "err" : "out");
  const abort = new AbortController();
  const release = onSignals(abort, io);
  let result: BuildResult;
  try {
    const cluster = await connect(opts);
    // Without a namespace in the flags or file, build where the kubeconfig's context points.
    if (raw.namespace === undefined) req.namespace = contextNamespace(cluster.kc) ?? req.namespace;
    result = await runBuild(cluster, req, {
      signal: abort.signal,
      preflight: opts.preflight !== false,
      annotations: { [CLIENT_ANNOTATION]: `${hostname()}/${process.pid}` },
      onProgress: p.progress,
      onLog: opts.logs === false ? undefined : p.log,
      afterLogBatch: p.afterBatch,
    });
  } catch (err) {
    // Refused by the preflight or no cluster to talk to: the result files still say why.
    if (err instanceof ClusterError) report(errorResult(req, err));
    throw err;
  } finally {
    p.flush();
    release();
  }
  io.err(summary(result));
  report(result);
  return exitCodeFor(result);
}

async function locate(name: string, opts: Record<string, unknown>) {
  const cluster = await connect(opts);
  const namespace = (opts.namespace as string | undefined) ?? contextNamespace(cluster.kc) ?? "default";
  const handle = await findBuild(cluster, name, namespace);
  if (!handle) throw new ClusterError(`there is no build ${name} in namespace ${namespace} (it may have finished and been deleted)`, 404, "NotFound");
  return { cluster, handle, namespace };
}

export async function logsCommand(name: string, opts: Record<string, unknown>, io: IO): Promise<number> {
  const { cluster, handle, namespace } = await locate(name, opts);
  const p = printer(io, "out");
  if (opts.follow) {
    const abort = new AbortController();
    const release = onSignals(abort, io, "no longer following; the build goes on (buildpod cancel stops it)");
    try {
      const result = await followBuild(cluster, handle, { signal: abort.signal, onProgress: p.progress, onLog: p.log, afterLogBatch: p.afterBatch, startTimeout: 24 * 3600 }).finally(p.flush);
      if (result.status !== "Cancelled") io.err(summary(result));
      return result.status === "Cancelled" ? EXIT.ok : exitCodeFor(result);
    } finally {
      release();
    }
  }
  const pods = await cluster.listPods(namespace, `buildpod.dev/run=${handle.name}`);
  for (const pod of pods.items) {
    for (const c of [...(pod.spec?.initContainers ?? []), ...(pod.spec?.containers ?? [])]) {
      const cursor = new LogCursor();
      cursor.nextStream();
      // Decoded across chunks: a character split between two chunks stays whole.
      const decoder = new StringDecoder("utf8");
      try {
        await cluster.streamLog(namespace, pod.metadata!.name!, c.name, { follow: false }, (chunk) => {
          for (const line of cursor.push(decoder.write(chunk))) p.log(c.name, line);
          return p.afterBatch();
        });
      } catch {
        continue; // not started yet: nothing to show
      }
      for (const line of [...cursor.push(decoder.end()), ...cursor.end(true)]) p.log(c.name, line);
    }
  }
  p.flush();
  return EXIT.ok;
}

export async function cancelCommand(name: string, opts: Record<string, unknown>, io: IO): Promise<number> {
  const { cluster, handle } = await locate(name, opts);
  const deleted = await cancelBuild(cluster, handle);
  io.err(deleted.length ? `buildpod: deleted ${deleted.join(", ")}\n` : `buildpod: ${name} was already gone\n`);
  return EXIT.ok;
}

export async function pruneCommand(opts: Record<string, unknown>, io: IO): Promise<number> {
  const count = (flag: string, value: unknown) => {
    const n = Number(value);
    if (!Number.isInteger(n) || n < 0) throw new InputError(flag, `"${String(value)}" is not a whole number`);
    return n;
  };
  const olderThan = parseDuration(opts.olderThan ?? "0s");
  if (olderThan === undefined) throw new InputError("--older-than", `"${String(opts.olderThan)}" is not a duration; write it like 90s, 15m, 1h30m or 2d`);
  const cluster = await connect(opts);
  const namespace = (opts.namespace as string | undefined) ?? contextNamespace(cluster.kc) ?? "default";
  const decisions = await pruneBuilds(cluster, namespace, {
    keepSuccessful: count("--keep-successful", opts.keepSuccessful ?? 5),
    keepFailed: count("--keep-failed", opts.keepFailed ?? 5),
    olderThan,
    orphans: opts.orphans === true,
    dryRun: opts.dryRun === true,
  });
  const verb = opts.dryRun ? "would delete" : "deleted";
  for (const d of decisions) io.err(`buildpod: ${verb} ${d.build.kind}/${d.build.name} (${d.why})\n`);
  if (!decisions.length) io.err(`buildpod: nothing to prune in namespace ${namespace}\n`);
  return EXIT.ok;
}
