// Starts one test cluster for the whole end-to-end suite and hands its coordinates to the tests: the real
// control plane and kubelet of test/cluster/kube, or a real cluster prepared outside (BUILDPOD_E2E_*).
import type { ProvidedContext } from "vitest";
import type { TestProject } from "vitest/node";
import { startKubeCluster, type KubeCluster } from "../cluster/kube/index.js";
import type { PrivateRegistry } from "../cluster/kube/registries.js";

let cluster: KubeCluster | undefined;

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
    kubeconfig: need("BUILDPOD_E2E_KUBECONFIG"),
    registry: need("BUILDPOD_E2E_REGISTRY"),
    busybox: need("BUILDPOD_E2E_BUSYBOX"),
    busyboxMulti: env.BUILDPOD_E2E_BUSYBOX_MULTI ?? "",
    emulation: { platforms: (env.BUILDPOD_E2E_EMULATED ?? "").split(",").filter(Boolean), problem: env.BUILDPOD_E2E_EMULATED ? undefined : "BUILDPOD_E2E_EMULATED names no platform" },
    builder: need("BUILDPOD_E2E_BUILDER"),
    gitBase: need("BUILDPOD_E2E_GIT_BASE"),
    gitUrl: need("BUILDPOD_E2E_GIT_URL"),
    kubectl: env.BUILDPOD_E2E_KUBECTL ?? "kubectl",
    identities: undefined,
    apiUrl: "", caPath: "",
    faults: undefined,
    registries: undefined,
    gitHttps: undefined,
    flaky: undefined,
    proxy: undefined,
    podLogs: "",
    podmanEnv: {},
  };
}

export async function setup(project: TestProject): Promise<void> {
  const real = external();
  if (real) return project.provide("cluster", real);
  cluster = await startKubeCluster({ faults: true, proxy: true, logMaxSize: "1Mi", log: (line) => process.stderr.write(`test cluster: ${line}\n`) });
  project.provide("cluster", {
    kubeconfig: cluster.kubeconfig,
    registry: cluster.registry,
    busybox: cluster.infra.images.busybox,
    busyboxMulti: cluster.infra.images.busyboxMulti,
    emulation: cluster.emulation,
    builder: cluster.infra.images.builder,
    gitBase: cluster.infra.git.baseDir,
    gitUrl: `git://${cluster.net.address}:${cluster.infra.git.port}`,
    kubectl: cluster.bin.kubectl,
    identities: { builder: cluster.kubeconfigs.builder, limited: cluster.kubeconfigs.limited },
    apiUrl: cluster.apiUrl, caPath: cluster.caPath,
    faults: cluster.faults && { url: cluster.faults.url, kubeconfig: cluster.faults.kubeconfigs.admin },
    registries: { secure: access(cluster.registries.secure), base: { ...access(cluster.registries.base), busybox: cluster.registries.base.busybox } },
    flaky: { host: cluster.flaky.host, control: cluster.flaky.control, log: cluster.flaky.log },
    gitHttps: cluster.gitHttps && { url: `https://${cluster.gitHttps.host}`, caPath: cluster.gitHttps.caPath, accessLog: cluster.gitHttps.accessLog },
    proxy: cluster.proxy && { url: cluster.proxy.url, accessLog: cluster.proxy.accessLog },
    podLogs: cluster.podLogsDir,
    podmanEnv: cluster.infra.podman.env as Record<string, string>,
  });
}

function access(r: PrivateRegistry): RegistryAccess {
  return { host: r.host, caPath: r.caPath, username: r.username, password: r.password };
}

export async function teardown(): Promise<void> {
  await cluster?.stop();
}

/** How a client reaches one of the test cluster's HTTPS registries with a password. */
export interface RegistryAccess {
  /** host:port, as the host and the pods reach it. */
  host: string;
  /** The CA that signed the registry's certificate (PEM, on the host). */
  caPath: string;
  username: string;
  password: string;
}

declare module "vitest" {
  export interface ProvidedContext {
    cluster: {
      /** An identity that may do everything (the suite's own set-up), and the builds' default. */
      kubeconfig: string;
      registry: string;
      busybox: string;
      /** An index of busybox for linux/amd64 and linux/arm64. */
      busyboxMulti: string;
      /** The platforms the node runs under QEMU, or why none. */
      emulation: { platforms: string[]; problem?: string };
      builder: string;
      gitBase: string;
      /** The Git server as pods reach it: git://HOST:PORT */
      gitUrl: string;
      /** kubectl of the cluster's release. */
      kubectl: string;
      /** The test cluster's static identities (test/cluster/kube); a cluster prepared outside has none. */
      identities: { builder: string; limited: string } | undefined;
      apiUrl: string;
      caPath: string;
      /**
       * The fault proxy (test/cluster/cmd/faultproxy) in front of the test cluster's API server without a
       * watch cache, and the admin's kubeconfig through it; a cluster prepared outside has none.
       */
      faults: { url: string; kubeconfig: string } | undefined;
      /**
       * The test cluster's registries over HTTPS (a CA of the cluster's) with a user and password each
       * (test/cluster/kube/registries.ts): "secure" to push to, "base" holding only the busybox image
       * (BUSYBOX, its reference there). A cluster prepared outside has none.
       */
      registries: { secure: RegistryAccess; base: RegistryAccess & { busybox: string } } | undefined;
      /**
       * The Git server over HTTPS (test/cluster/kube/githttps.ts), serving the repositories of gitBase: URL is
       * https://HOST:PORT as pods and the host reach it (a repository at URL/NAME), its certificate signed by
       * CAPATH (the registries' CA), ACCESSLOG one line per request on the host. A cluster prepared outside
       * has none.
       */
      gitHttps: { url: string; caPath: string; accessLog: string } | undefined;
      /**
       * The plain registry behind a forwarder that closes the next N connections once N is written to
       * CONTROL (test/cluster/kube/flaky.ts); LOG has a line per connection. A cluster prepared outside has none.
       */
      flaky: { host: string; control: string; log: string } | undefined;
      /**
       * The forward proxy (tinyproxy, test/cluster/kube/proxy.ts): URL as pods and the host reach it, and its
       * log on the host. It forwards only to the registries and the Git servers (git:// and HTTPS). A cluster
       * prepared outside has none.
       */
      proxy: { url: string; accessLog: string } | undefined;
      /** The kubelet's pod log directory ("" on a cluster prepared outside). */
      podLogs: string;
      podmanEnv: Record<string, string>;
    };
  }
}
