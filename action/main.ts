// The action's main step: inputs -> request, start the build, follow it in log groups, outputs and a
// job summary. The runner cancels with SIGINT (then SIGTERM 7.5 s later): the build is deleted at once.
import * as core from "@actions/core";
import { readFileSync } from "node:fs";
import { hostname } from "node:os";
import {
  cancelBuild, CLIENT_ANNOTATION, Cluster, contextNamespace, followBuild, newRunId, runName, startBuild,
  type BuildHandle, type BuildResult, type LogLine,
} from "../core/index.js";
import { githubContext, requestFromInputs } from "./inputs.js";
import { kubeconfigSecrets, writeKubeconfig } from "./kubeconfig.js";
import { STATE } from "./state.js";
import { summaryMarkdown } from "./summary.js";


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

function readEvent(path: string | undefined): unknown {
  if (!path) return undefined;
  try {
    return JSON.parse(readFileSync(path, "utf8"));
  } catch {
    return undefined;
  }
}

function setOutputs(r: BuildResult): void {
  const outputs: Record<string, string | undefined> = {
    status: r.status, image: r.image, digest: r.digest, "image-ref": r.imageRef,
    build: r.run, pod: r.pod, namespace: r.namespace, commit: r.source.commit,
  };
  for (const [k, v] of Object.entries(outputs)) core.setOutput(k, v ?? "");
}

async function run(abort: AbortController): Promise<void> {
  // Credentials first: nothing is printed before they are masked.
  const kubeconfig = core.getInput("kubeconfig");
  for (const secret of kubeconfig ? kubeconfigSecrets(kubeconfig) : []) core.setSecret(secret);

  const env = process.env;
  const { req, raw } = requestFromInputs(core.getInput, githubContext(env, readEvent(env.GITHUB_EVENT_PATH)), env, (p) => readFileSync(p, "utf8"));
  const file = kubeconfig ? writeKubeconfig(kubeconfig, env) : undefined;
  try {
    const cluster = await Cluster.connect({ kubeconfig: file?.path, context: core.getInput("kube-context") || undefined });
    if (raw.namespace === undefined) req.namespace = contextNamespace(cluster.kc) ?? req.namespace;
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
    try {
      handle = await startBuild(cluster, req, {
        id, signal: abort.signal, preflight: core.getInput("preflight") !== "false",
        annotations: { [CLIENT_ANNOTATION]: `${hostname()}/${process.pid}` },
      });
      progress(`created ${handle.kind} ${handle.name} in namespace ${handle.namespace}`);
      result = await followBuild(cluster, handle, { signal: abort.signal, onProgress: progress, onLog: logs.line });
    } finally {
      logs.close();
      // Cancelled (perhaps mid-create), failed to start, or main failed mid-way: the build must not run on.
      if (abort.signal.aborted || (handle && (!result || result.status === "Cancelled" || result.status === "StartFailed"))) {
        const deleted = await cancelBuild(cluster, target).catch((err: Error) => {
          core.warning(`could not delete ${target.name}: ${err.message}; delete it with: kubectl -n ${target.namespace} delete ${target.kind} ${target.name}`);
          return undefined;
        });
        if (deleted?.length) progress(`deleted ${deleted.join(", ")}`);
        if (deleted) core.saveState(STATE.finished, "true");
      } else core.saveState(STATE.finished, "true");
    }

    setOutputs(result);
    await core.summary.addRaw(summaryMarkdown(result)).write().catch((err: Error) => core.warning(`could not write the job summary: ${err.message}`));
    if (result.status === "Complete") {
      core.info(`buildpod: build complete: ${result.imageRef ?? result.image}${result.durationSeconds !== undefined ? ` in ${result.durationSeconds}s` : ""}`);
      if (!result.digest) core.warning(result.message);
    } else {
      if (result.logTail?.length) core.info(`buildpod: last lines${result.failedContainer ? ` of ${result.failedContainer}` : ""}:\n${result.logTail.slice(-15).map((l) => `  ${l}`).join("\n")}`);
      core.setFailed(`build ${result.status === "StartFailed" ? "failed to start" : result.status.toLowerCase()} (${result.reason}): ${result.message}`);
    }
  } finally {
    file?.remove();
  }
}

const abort = new AbortController();
let signals = 0;
const onSignal = (sig: NodeJS.Signals) => {
  if (++signals === 1) {
    core.info(`buildpod: ${sig}: cancelling the build`);
    abort.abort();
  } else {
    // Out of time: post deletes what is left.
    core.info(`buildpod: ${sig} again: leaving now`);
    process.exit(1);
  }
};
process.on("SIGINT", onSignal);
process.on("SIGTERM", onSignal);

try {
  await run(abort);
} catch (err) {
  core.setFailed((err as Error).message);
}
process.exit(process.exitCode ?? 0);
