// The action's post step: runs always, also after a cancelled job. When main did not finish (it was
// killed, or could not delete its build), it deletes the build main recorded; otherwise it does nothing.
import * as core from "@actions/core";
import { cancelBuild, Cluster } from "../core/index.js";
import { kubeconfigSecrets, writeKubeconfig } from "./kubeconfig.js";
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
    const cluster = await Cluster.connect({ kubeconfig: file?.path, context: core.getInput("kube-context") || undefined });
    const deleted = await cancelBuild(cluster, { name, namespace, kind });
    core.info(deleted.length ? `buildpod: deleted ${deleted.join(", ")}` : `buildpod: ${kind} ${name} was already gone`);
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
