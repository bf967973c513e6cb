// The action's steps from the point where they talk to the cluster. Its own bundle (dist/action/cluster),
// loaded by main and post only when they get that far: inputs are read, checked and masked before
// the cluster client is even parsed.
import * as core from "@actions/core";
import { hostname } from "node:os";
import {
  cancelBuild, CLIENT_ANNOTATION, Cluster, ClusterError, contextNamespace, errorResult, followBuild, newRunId, platformDigests, PreflightError, runName, runPlatforms, startBuild,
  type BuildHandle, type BuildRequest, type BuildResult, type LogLine,
} from "../core/index.js";
import { STATE } from "./state.js";
import { summaryMarkdown } from "./summary.js";

export interface Connection {
  /** The kubeconfig written from the input, if one was given. */
  kubeconfig?: string;
  context?: string;
}

/** One log group per container while containers take turns; prefixes once their lines interleave. */
function logPrinter() {
  let open: string | undefined;
  let interleaved = false;
  const seen = new Set<string>();
  return {
    line(container: string, line: LogLine) {
      if (container !== open && !interleaved) {
        if (open) core.endGroup();
        open = undefined;
        if (seen.has(container)) interleaved = true;
        else {
          seen.add(container);
          core.startGroup(container);
          open = container;
        }
      }
      core.info(interleaved ? `${container} | ${line.text}` : line.text);
    },
    close() {
      if (open) core.endGroup();
      open = undefined;
    },
  };
}

function setOutputs(r: BuildResult): void {
  const outputs: Record<string, string | undefined> = {
    status: r.status, image: r.image, digest: r.digest, "image-ref": r.imageRef, provenance: r.provenance, imageid: r.imageId,
    "platform-digests": platformDigests(r),
    pushed: r.pushed === undefined ? undefined : String(r.pushed),
    build: r.run, pod: r.pod, namespace: r.namespace, commit: r.source.commit,
  };
  for (const [k, v] of Object.entries(outputs)) core.setOutput(k, v ?? "");
}

/** main: start the build, follow it, set outputs and the summary; delete it when cancelled or stuck. */
export async function buildStep(req: BuildRequest, namespaceGiven: boolean, conn: Connection, opts: { signal: AbortSignal; preflight: boolean }): Promise<void> {
  let result: BuildResult;
  try {
    result = await build(req, namespaceGiven, conn, opts);
  } catch (err) {
    // Refused by the preflight or no cluster to talk to: outputs and summary still say why.
    if (!(err instanceof ClusterError)) throw err;
    result = errorResult(req, err);
  }
  setOutputs(result);
  await core.summary.addRaw(summaryMarkdown(result)).write().catch((err: Error) => core.warning(`could not write the job summary: ${err.message}`));
  if (result.status === "Complete") {
    core.info(`buildpod: build complete: ${result.imageRef ?? result.image}${result.pushed === false ? " (not pushed)" : ""}${result.attempt ? ` on attempt ${result.attempt}` : ""}${result.durationSeconds !== undefined ? ` in ${result.durationSeconds}s` : ""}`);
    if (result.pushed === false) core.info(`buildpod: ${result.message}`);
    else if (!result.digest) core.warning(result.message);
  } else {
    if (result.logTail?.length) core.info(`buildpod: last lines${result.failedContainer ? ` of ${result.failedContainer}` : ""}:\n${result.logTail.slice(-15).map((l) => `  ${l}`).join("\n")}`);
    core.setFailed(result.run
      ? `build ${result.status === "StartFailed" ? "failed to start" : result.status.toLowerCase()} (${result.reason}): ${result.message}`
      : result.message);
  }
}

async function build(req: BuildRequest, namespaceGiven: boolean, conn: Connection, opts: { signal: AbortSignal; preflight: boolean }): Promise<BuildResult> {
  const cluster = await Cluster.connect(conn);
  if (!namespaceGiven) req.namespace = contextNamespace(cluster.kc) ?? req.namespace;
  // The run's name is known before it is created: post can delete it even if main dies mid-create.
  const id = newRunId();
  const target: Pick<BuildHandle, "name" | "namespace" | "kind"> = { name: runName(req, id), namespace: req.namespace, kind: req.workload };
  core.saveState(STATE.run, target.name);
  core.saveState(STATE.namespace, target.namespace);
  core.saveState(STATE.kind, target.kind);

  const logs = logPrinter();
  const progress = (m: string) => core.info(`buildpod: ${m}`);
  let result: BuildResult | undefined;
  let handle: BuildHandle | undefined;
  let createInDoubt = false;
  try {
    const start = {
      id, signal: opts.signal, preflight: opts.preflight,
      annotations: { [CLIENT_ANNOTATION]: `${hostname()}/${process.pid}` },
      // A warning annotation: a Pod Security level the namespace will enforce one day shows on the run's page.
      onWarning: (w: string) => core.warning(`the cluster warns: ${w}`),
    };
    if (req.output.platforms.length > 1) {
      // A build per platform, and the index Job under the run's name, which owns them: deleting it deletes all.
      result = await runPlatforms(cluster, req, { ...start, onProgress: progress, onLog: logs.line, deleteOnCancel: false });
      handle = { ...target, createdAt: Date.now() };
    } else {
      handle = await startBuild(cluster, req, start);
      progress(`created ${handle.kind} ${handle.name} in namespace ${handle.namespace}`);
      result = await followBuild(cluster, handle, { signal: opts.signal, onProgress: progress, onLog: logs.line });
    }
  } catch (err) {
    // A create that failed without an answer may have made the build anyway: post deletes it then.
    createInDoubt = !handle && !(err instanceof PreflightError);
    throw err;
  } finally {
    logs.close();
    // Cancelled (perhaps mid-create), failed to start, or main failed mid-way: the build must not run on.
    if (opts.signal.aborted || (handle && (!result || result.status === "Cancelled" || result.status === "StartFailed"))) {
      const deleted = await cancelBuild(cluster, target).catch((err: Error) => {
        core.warning(`could not delete ${target.name}: ${err.message}; delete it with: kubectl -n ${target.namespace} delete ${target.kind} ${target.name}`);
        return undefined;
      });
      if (deleted?.length) progress(`deleted ${deleted.join(", ")}`);
      if (deleted) core.saveState(STATE.finished, "true");
    } else if (!createInDoubt) core.saveState(STATE.finished, "true");
  }
  return result;
}

/** post: delete the build main recorded. */
export async function cleanUpStep(target: Pick<BuildHandle, "name" | "namespace" | "kind">, conn: Connection): Promise<void> {
  const cluster = await Cluster.connect(conn);
  const deleted = await cancelBuild(cluster, target);
  core.info(deleted.length ? `buildpod: deleted ${deleted.join(", ")}` : `buildpod: ${target.kind} ${target.name} was already gone`);
}

