// The tests that need fault injection run on the emulated control plane (test/cluster/api) with the podman
// node, the one cluster here that can drop a watch or cut a log stream on demand, until a fault proxy in front
// of the real API server replaces it.
import type { TestProject } from "vitest/node";
import { startEmulatedCluster, type TestCluster } from "../cluster/index.js";

let cluster: TestCluster | undefined;

export async function setup(project: TestProject): Promise<void> {
  cluster = await startEmulatedCluster({ log: (line) => process.stderr.write(`emulated cluster: ${line}\n`) });
  project.provide("cluster", {
    emulated: true,
    kubeconfig: cluster.kubeconfig,
    registry: cluster.registry,
    busybox: cluster.infra.images.busybox,
    builder: cluster.infra.images.builder,
    gitBase: cluster.infra.git.baseDir,
    gitUrl: `git://127.0.0.1:${cluster.infra.git.port}`,
    kubectl: "kubectl",
    identities: undefined,
    apiUrl: cluster.api.url,
    apiToken: cluster.api.token,
    caPath: cluster.api.caPath,
    podmanEnv: cluster.infra.podman.env as Record<string, string>,
  });
}

export async function teardown(): Promise<void> {
  await cluster?.stop();
}
