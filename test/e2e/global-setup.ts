// Starts one test cluster for the whole end-to-end suite and hands its coordinates to the tests.
import type { ProvidedContext } from "vitest";
import type { TestProject } from "vitest/node";
import { startTestCluster, type TestCluster } from "../cluster/index.js";

let cluster: TestCluster | undefined;

/** A real cluster prepared outside the suite (test/cluster/kind/setup.sh), named by BUILDPOD_E2E_* variables. */
function external(): ProvidedContext["cluster"] | undefined {
  const env = process.env;
  if (!env.BUILDPOD_E2E_KUBECONFIG) return undefined;
  const need = (name: string) => {
    const v = env[name];
    if (!v) throw new Error(`${name} must be set with BUILDPOD_E2E_KUBECONFIG (see test/cluster/kind/setup.sh)`);
    return v;
  };
  return {
    emulated: false,
    kubeconfig: need("BUILDPOD_E2E_KUBECONFIG"),
    registry: need("BUILDPOD_E2E_REGISTRY"),
    busybox: need("BUILDPOD_E2E_BUSYBOX"),
    builder: need("BUILDPOD_E2E_BUILDER"),
    gitBase: need("BUILDPOD_E2E_GIT_BASE"),
    gitUrl: need("BUILDPOD_E2E_GIT_URL"),
    apiUrl: "", apiToken: "", caPath: "",
    podmanEnv: {},
  };
}

export async function setup(project: TestProject): Promise<void> {
  const real = external();
  if (real) return project.provide("cluster", real);
  cluster = await startTestCluster({ log: (line) => process.stderr.write(`test cluster: ${line}\n`) });
  project.provide("cluster", {
    emulated: true,
    kubeconfig: cluster.kubeconfig,
    registry: cluster.registry,
    busybox: cluster.infra.images.busybox,
    builder: cluster.infra.images.builder,
    gitBase: cluster.infra.git.baseDir,
    gitUrl: `git://127.0.0.1:${cluster.infra.git.port}`,
    apiUrl: cluster.api.url,
    apiToken: cluster.api.token,
    caPath: cluster.api.caPath,
    podmanEnv: cluster.infra.podman.env as Record<string, string>,
  });
}

export async function teardown(): Promise<void> {
  await cluster?.stop();
}

declare module "vitest" {
  export interface ProvidedContext {
    cluster: {
      /** The test cluster (emulated control plane, fault injection) rather than a real one. */
      emulated: boolean;
      kubeconfig: string;
      registry: string;
      busybox: string;
      builder: string;
      gitBase: string;
      /** The Git server as pods reach it: git://HOST:PORT */
      gitUrl: string;
      apiUrl: string;
      apiToken: string;
      caPath: string;
      podmanEnv: Record<string, string>;
    };
  }
}
