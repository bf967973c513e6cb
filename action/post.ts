// The action's post step: runs always, also after a cancelled job. When main did not finish (it was
// killed, or could not delete its build), it deletes the build main recorded; otherwise it does nothing,
// without loading the cluster part.
import * as core from "@actions/core";
import { kubeconfigSecrets, writeKubeconfig } from "./kubeconfig.js";
import { clusterPart } from "./load.js";
import { STATE } from "./state.js";

async function post(): Promise<void> {
  const name = core.getState(STATE.run);
  if (!name || core.getState(STATE.finished) === "true") return;
  const namespace = core.getState(STATE.namespace);
  const kind = core.getState(STATE.kind) === "pod" ? "pod" : "job";
  const kubeconfig = core.getInput("kubeconfig");
  for (const secret of kubeconfig ? kubeconfigSecrets(kubeconfig) : []) core.setSecret(secret);
  const file = kubeconfig ? writeKubeconfig(kubeconfig, process.env) : undefined;
  try {
    const { cleanUpStep } = await clusterPart();
    await cleanUpStep({ name, namespace, kind }, { kubeconfig: file?.path, context: core.getInput("kube-context") || undefined });
  } finally {
    file?.remove();
  }
}

try {
  await post();
} catch (err) {
  // Clean-up is best effort: say what is left, without failing the job a second time.
  core.warning(`could not delete the build: ${(err as Error).message}`);
}
process.exit(0);
