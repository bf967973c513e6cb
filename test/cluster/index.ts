// The emulated test cluster in one call: registry, Git server and images (infra), the podman node, and the
// emulated API server in front of it. Only the tests that need its fault injection use it now; the test
// cluster proper is the real Kubernetes of test/cluster/kube.
import { rmSync } from "node:fs";
import { join } from "node:path";
import { startApiServer, type ApiServer, type ApiServerOptions } from "./api/index.js";
import { startInfra, type Infra, type InfraOptions } from "./infra/cluster.js";
import { PodmanNode, type PodmanNodeOptions } from "./node/podman-node.js";

export interface TestCluster {
  infra: Infra;
  node: PodmanNode;
  api: ApiServer;
  kubeconfig: string;
  /** 127.0.0.1:PORT of the loopback registry. */
  registry: string;
  stop(): Promise<void>;
}

export interface TestClusterOptions extends InfraOptions {
  node?: Omit<PodmanNodeOptions, "stateDir" | "podman">;
  api?: Omit<ApiServerOptions, "node" | "dir">;
  apiPort?: number;
  /**
   * Where the API server keeps its CA, token and kubeconfig. Default: a directory of this process's own, so
   * that a test run or a benchmark next to a running `cluster:up` (same state directory) does not replace
   * the kubeconfig that `cluster:up` printed; removed on stop.
   */
  apiDir?: string;
}

export async function startEmulatedCluster(opts: TestClusterOptions = {}): Promise<TestCluster> {
  const infra = await startInfra(opts);
  const node = new PodmanNode({ ...opts.node, stateDir: infra.stateDir, podman: infra.podman });
  const ownDir = opts.apiDir === undefined;
  const apiDir = opts.apiDir ?? join(infra.stateDir, `api-run-${process.pid}`);
  let api: ApiServer;
  try {
    api = await startApiServer({ ...opts.api, node, dir: apiDir, port: opts.apiPort });
  } catch (err) {
    await node.shutdown();
    await infra.stop();
    throw err;
  }
  return {
    infra, node, api,
    kubeconfig: api.kubeconfigPath,
    registry: infra.registry.host,
    async stop() {
      await api.close();
      await node.shutdown();
      await infra.stop();
      if (ownDir) rmSync(apiDir, { recursive: true, force: true });
    },
  };
}
