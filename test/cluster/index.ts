// The whole test cluster in one call: registry, Git server and images (infra), the podman node, and the
// emulated API server in front of it. Used by the end-to-end tests and by `npm run cluster:up`.
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
}

export async function startTestCluster(opts: TestClusterOptions = {}): Promise<TestCluster> {
  const infra = await startInfra(opts);
  const node = new PodmanNode({ ...opts.node, stateDir: infra.stateDir, podman: infra.podman });
  let api: ApiServer;
  try {
    api = await startApiServer({ ...opts.api, node, dir: join(infra.stateDir, "api"), port: opts.apiPort });
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
    },
  };
}
