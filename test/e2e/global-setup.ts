// Starts one test cluster for the whole end-to-end suite and hands its coordinates to the tests.
import type { TestProject } from "vitest/node";
import { startTestCluster, type TestCluster } from "../cluster/index.js";

let cluster: TestCluster | undefined;

export async function setup(project: TestProject): Promise<void> {
  cluster = await startTestCluster({ log: (line) => process.stderr.write(`test cluster: ${line}\n`) });
  project.provide("cluster", {
    kubeconfig: cluster.kubeconfig,
    registry: cluster.registry,
    busybox: cluster.infra.images.busybox,
    builder: cluster.infra.images.builder,
    gitBase: cluster.infra.git.baseDir,
    gitPort: cluster.infra.git.port,
    apiUrl: cluster.api.url,
    apiToken: cluster.api.token,
    caPath: cluster.api.caPath,
    stateDir: cluster.infra.stateDir,
    podmanEnv: cluster.infra.podman.env as Record<string, string>,
  });
}

export async function teardown(): Promise<void> {
  await cluster?.stop();
}

declare module "vitest" {
  export interface ProvidedContext {
    cluster: {
      kubeconfig: string;
      registry: string;
      busybox: string;
      builder: string;
      gitBase: string;
      gitPort: number;
      apiUrl: string;
      apiToken: string;
      caPath: string;
      stateDir: string;
      podmanEnv: Record<string, string>;
    };
  }
}
