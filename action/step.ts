// The action's main step, after its first line (action/main.ts): inputs -> request, then
// (action/cluster.ts) start the build, follow it in log groups, outputs and a job summary. The runner
// cancels with SIGINT (then SIGTERM 7.5 s later): the build is deleted at once.
import * as core from "@actions/core";
import { context } from "@actions/github";
import { readFileSync } from "node:fs";
import { githubContext, requestFromInputs } from "./inputs.js";
import { writeKubeconfig } from "./kubeconfig.js";
import { clusterPart } from "./load.js";

async function run(abort: AbortController): Promise<void> {
  // Its credentials were masked before the first line.
  const kubeconfig = core.getInput("kubeconfig");

  const env = process.env;
  const { req, raw } = requestFromInputs(core.getInput, githubContext(context), env, (p) => readFileSync(p, "utf8"));
  core.info(`buildpod: building ${req.output.image} with the ${req.strategy.type} strategy`);
  const file = kubeconfig ? writeKubeconfig(kubeconfig, env) : undefined;
  try {
    const { buildStep } = await clusterPart();
    await buildStep(req, raw.namespace !== undefined, { kubeconfig: file?.path, context: core.getInput("kube-context") || undefined }, {
      signal: abort.signal, preflight: core.getInput("preflight") !== "false",
    });
  } finally {
    file?.remove();
  }
}

/** Runs the step to its end and exits. */
export async function main(): Promise<void> {
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
}
