// Sends the packed binary input into the build pod's waiting source container over exec, retrying a failed
// upload, and marks it done so that the container goes on.
import { pipeline, Transform } from "node:stream";
import { sleep } from "./api-call.js";
import type { Cluster } from "./cluster.js";
import { PATHS } from "./scripts.js";
import type { Packed, PackedInput } from "./upload.js";

export interface UploadReport {
  files: number;
  /** Bytes of input read (files, or the archive). */
  inputBytes: number;
  /** Bytes sent over the exec stream (compressed). */
  sentBytes: number;
  /** From the first attempt's start to the upload marked done in the pod, all attempts included. */
  seconds: number;
  attempts: number;
  /** Archives sent side by side (a big directory goes as a few). */
  parts: number;
}

/** 1.2 MB, 3.4 kB, 512 B. */
function size(bytes: number): string {
  if (bytes >= 1e6) return `${(bytes / 1e6).toFixed(1)} MB`;
  if (bytes >= 1e3) return `${(bytes / 1e3).toFixed(1)} kB`;
  return `${bytes} B`;
}

// One archive is unpacked, the directories' modes set and the upload marked done in one exec session (a
// round trip less); several are each unpacked by a tar of their own side by side, after the directories'
// archive, then finished. FINISH's arguments: "unpack" or "", then [mode, path] pairs.
const UNPACK = ["tar", "-xzf", "-", "-C", PATHS.source];
const FINISH_SCRIPT = `set -e
if [ "$1" = unpack ]; then tar -xzf - -C "${PATHS.source}"; fi
shift
while [ "$#" -ge 2 ]; do chmod "$1" "${PATHS.source}/$2"; shift 2; done
touch "${PATHS.uploadDone}"`;
const CLEAR = ["sh", "-c", `rm -rf "${PATHS.source}" && mkdir -p "${PATHS.source}"`];
const finish = (unpack: boolean, modes: [string, string][]) => ["sh", "-c", FINISH_SCRIPT, "sh", unpack ? "unpack" : "", ...modes.flat()];

/**
 * One attempt: every part sent and unpacked, or the first failure (the other parts are stopped then).
 * The signal (cancel, or the upload's timeout) stops the sessions in flight: their input ends in an error,
 * which closes them, so no half-sent archive is unpacked afterwards.
 */
async function attempt(cluster: Cluster, ns: string, pod: string, input: PackedInput, onSent: (n: number) => void, signal: AbortSignal): Promise<void> {
  const { directories, parts, modes } = input;
  let failure: Error | undefined;
  const stopAll = (err: Error) => {
    failure ??= err;
    for (const p of [...parts, ...(directories ? [directories] : [])]) p.stream.destroy();
  };
  const onAbort = () => stopAll(new Error("stopped"));
  if (signal.aborted) onAbort();
  signal.addEventListener("abort", onAbort, { once: true });
  try {
    if (parts.length === 1 && !directories) {
      await sendParts(cluster, ns, pod, parts, finish(true, modes), onSent, stopAll);
    } else {
      if (directories) await sendParts(cluster, ns, pod, [directories], UNPACK, onSent, stopAll);
      if (!failure) await sendParts(cluster, ns, pod, parts, UNPACK, onSent, stopAll);
      if (!failure) {
        const done = await cluster.run(ns, pod, "source", finish(false, modes));
        if (done.status !== "Success") throw new Error(done.message ?? "could not finish the upload");
      }
    }
  } finally {
    signal.removeEventListener("abort", onAbort);
  }
  if (failure) throw failure;
}

async function sendParts(cluster: Cluster, ns: string, pod: string, parts: Packed[], command: string[], onSent: (n: number) => void, stopAll: (err: Error) => void): Promise<void> {
  await Promise.all(parts.map(async (part) => {
    const counter = new Transform({
      transform(chunk: Buffer, _enc, cb) {
        onSent(chunk.length);
        cb(null, chunk);
      },
    });
    // pipeline: a part that fails or is stopped ends its session's input with an error, not a clean end.
    pipeline(part.stream, counter, () => undefined);
    try {
      const status = await cluster.run(ns, pod, "source", command, { stdin: counter });
      if (status.status !== "Success") stopAll(new Error(status.message || "tar failed"));
    } catch (err) {
      stopAll(err as Error);
    }
  }));
}

/** Sends the binary input into the waiting source container, retrying a failed upload. */
export async function sendInput(cluster: Cluster, ns: string, pod: string, make: () => PackedInput, progress: (m: string) => void, signal: AbortSignal): Promise<UploadReport> {
  const started = performance.now();
  let lastError = "";
  for (let n = 1; n <= 3 && !signal.aborted; n++) {
    const input = make();
    const parts = input.parts;
    let sent = 0;
    let nextReport = Date.now() + 2000;
    const onSent = (n: number) => {
      sent += n;
      if (Date.now() >= nextReport) {
        nextReport = Date.now() + 2000;
        progress(`uploading: ${size(sent)} sent`);
      }
    };
    try {
      await attempt(cluster, ns, pod, input, onSent, signal);
      const secs = (performance.now() - started) / 1000;
      const files = parts.reduce((n, p) => n + p.files, 0);
      const inputBytes = parts.reduce((n, p) => n + p.inputBytes, 0);
      progress(`uploaded ${files} file${files === 1 ? "" : "s"} (${size(inputBytes)}, ${size(sent)} compressed) in ${secs.toFixed(1)}s`);
      return { files, inputBytes, sentBytes: sent, seconds: secs, attempts: n, parts: parts.length };
    } catch (err) {
      lastError = (err as Error).message;
    } finally {
      // After a failure a packer may be waiting for a reader that is gone: stop it and its reads.
      for (const p of [...parts, ...(input.directories ? [input.directories] : [])]) p.stream.destroy();
    }
    if (n < 3 && !signal.aborted) {
      progress(`upload failed (${lastError.split("\n")[0]}); retrying`);
      // The next attempt starts from an empty directory, or not at all.
      const cleared = await cluster.run(ns, pod, "source", CLEAR).catch((err: Error) => ({ status: "Failure", message: err.message }));
      if (cleared.status !== "Success") throw new Error(`${lastError}; and clearing the partial upload for another attempt failed: ${cleared.message ?? "no reason given"}`);
      await sleep(500 * n, signal);
    }
  }
  throw new Error(lastError || "cancelled");
}
