// The test cluster on a real Kubernetes: the upstream control plane and kubelet (test/cluster/cmd/kube) with
// Debian's containerd, in a network namespace of its own (netns.ts), with the registry, the git daemon and the
// images of test/cluster/infra served from that namespace, two private registries over HTTPS with passwords
// (registries.ts), the git daemon's repositories over HTTPS too (githttps.ts, the registries' CA), and, when
// asked, a forward proxy (proxy.ts).
//
//   const c = await startKubeCluster();   // ~15 s once the binaries and images exist
//   ... c.kubeconfig (admin), c.kubeconfigs.builder (deploy/rbac.yaml's Role), c.registry, c.infra.git ...
//   ... c.registries.secure / c.registries.base (host, caPath, username, password), c.gitHttps, c.proxy ...
//   await c.stop();                        // nothing left running, nothing mounted
import { registerArm64, type Emulation } from "./emulation.js";
import { readFileSync, rmSync } from "node:fs";
import { mkdir } from "node:fs/promises";
import { join } from "node:path";
import { parse as parseYaml } from "yaml";
import { Cluster } from "../../../core/index.js";
import { defaultStateDir, startInfra, type Infra, type InfraOptions } from "../infra/cluster.js";
import { kubeBinaries, repoRoot, type KubeBinaries } from "./binaries.js";
import { auditFlags, requestLog, type RequestLog } from "./audit.js";
import { SERVICE_IP, startControlPlane, type ControlPlane } from "./control-plane.js";
import { createNodeNetwork, deleteNodeNetwork, type NodeNetwork } from "./netns.js";
import { cleanNode, unmountUnder } from "./cleanup.js";
import { startFaultProxy } from "./faults.js";
import { startFlakyRegistry, type FlakyRegistry } from "./flaky.js";
import { startGitHttps, type GitHttps } from "./githttps.js";
import { NODE_NAME, POD_CIDR, startNode, type KubeNode } from "./node.js";
import { clusterPki, identity, writeKubeconfig, type Identity } from "./pki.js";
import { startForwardProxy, type ForwardProxy } from "./proxy.js";
import { startPrivateRegistries, type PrivateRegistries } from "./registries.js";
import { startVirtualNode, type VirtualNode } from "./virtual-node.js";

export { kubeBinaries, type ForwardProxy, type GitHttps, type KubeBinaries, type PrivateRegistries, type VirtualNode };

/** The people the API server knows, each with a kubeconfig. */
export interface Kubeconfigs {
  /** system:masters */
  admin: string;
  /** Bound in namespace default to deploy/rbac.yaml's Role, and nothing else: what buildpod needs. */
  builder: string;
  /** deploy/rbac.yaml's Role without pods/log: one right short. */
  limited: string;
  /** system:masters, for the benchmarks: the one identity whose requests the API server logs (requests). */
  bench: string;
}

export interface KubeCluster {
  infra: Infra;
  net: NodeNetwork;
  /** This cluster's own directory (certificates, etcd, containerd, kubelet, logs). */
  dir: string;
  apiUrl: string;
  caPath: string;
  /** The admin's kubeconfig. */
  kubeconfig: string;
  kubeconfigs: Kubeconfigs;
  /** The platforms the node runs under QEMU besides its own (binfmt_misc), or why it cannot. */
  emulation: Emulation;
  /** host:port of the registry, as the host and the pods both reach it. */
  registry: string;
  /** The HTTPS registries with passwords: "secure" to push to, "base" with a busybox to pull. */
  registries: PrivateRegistries;
  /**
   * The git daemon's repositories over HTTPS (https://NODE:8443/NAME), its certificate from the registries'
   * CA. Present unless started with git: false.
   */
  gitHttps?: GitHttps;
  /** The plain registry behind a forwarder that drops connections when told (flaky.ts). */
  flaky: FlakyRegistry;
  /** When started with proxy. */
  proxy?: ForwardProxy;
  /** The Kubernetes release the cluster runs. */
  version: string;
  /** The bench identity's API requests, from the API server's audit log. */
  requests: RequestLog;
  /** The kubelet's pods directory (a pod's volumes live there until the kubelet has torn it down). */
  podsDir: string;
  /** The kubelet's pod log directory (NAMESPACE_POD_UID/CONTAINER/N.log, and the files it rotated). */
  podLogsDir: string;
  bin: KubeBinaries;
  /** When started with faults. */
  faults?: FaultAccess;
  /** When started with virtualNode. */
  virtualNode?: VirtualNode;
  stop(): Promise<void>;
}

export interface KubeClusterOptions extends InfraOptions {
  /**
   * Also start a second API server without a watch cache and the fault proxy in front of it
   * (KubeCluster.faults), for the tests that inject faults.
   */
  faults?: boolean;
  /** The kubelet's containerLogMaxSize, to have it rotate logs sooner than at its default 10Mi. */
  logMaxSize?: string;
  /**
   * Also start the forward proxy (KubeCluster.proxy), which forwards only to the registries and the Git
   * servers (git:// and HTTPS).
   */
  proxy?: boolean;
  /**
   * Also start the virtual kubelet (KubeCluster.virtualNode): a second node, tainted, whose pods run
   * without containers, each container for this long (a Go duration, e.g. "1s").
   */
  virtualNode?: { run?: string };
}

/** The fault proxy and who may use it. */
export interface FaultAccess {
  /** https://127.0.0.1:PORT: the proxy, its controls under /_test/ */
  url: string;
  /** The admin's and the builder's kubeconfigs, through the proxy. */
  kubeconfigs: { admin: string; builder: string };
}

const BUILDER = "buildpod-builder";
const LIMITED = "buildpod-limited";

export interface Rule { apiGroups: string[]; resources: string[]; verbs: string[] }

/** deploy/rbac.yaml's Role, as a user of the project would apply it. */
export function builderRules(): Rule[] {
  return (parseYaml(readFileSync(join(repoRoot(), "deploy", "rbac.yaml"), "utf8")) as { rules: Rule[] }).rules;
}

/** A Role and a RoleBinding giving SUBJECT (a user, or a service account of NAMESPACE) the RULES in NAMESPACE. */
export async function bindRole(c: Cluster, namespace: string, name: string, rules: Rule[], subject: { kind: "User" | "ServiceAccount"; name: string }): Promise<void> {
  const rbac = `/apis/rbac.authorization.k8s.io/v1/namespaces/${namespace}`;
  await c.call(`creating Role ${name}`, "POST", `${rbac}/roles`, { body: { metadata: { name }, rules } });
  await c.call(`creating RoleBinding ${name}`, "POST", `${rbac}/rolebindings`, {
    body: {
      metadata: { name },
      roleRef: { apiGroup: "rbac.authorization.k8s.io", kind: "Role", name },
      subjects: [subject.kind === "User" ? { apiGroup: "rbac.authorization.k8s.io", kind: "User", name: subject.name } : { kind: "ServiceAccount", name: subject.name, namespace }],
    },
  });
}

export async function startKubeCluster(opts: KubeClusterOptions = {}): Promise<KubeCluster> {
  const bin = kubeBinaries();
  const stateDir = opts.stateDir ?? defaultStateDir();
  const log = opts.log ?? (() => {});
  const net = await createNodeNetwork();
  const dir = join(stateDir, "kube", String(net.index));
  const undo: Array<() => Promise<void>> = [() => deleteNodeNetwork(net)];
  const rollback = async () => {
    for (const u of undo.reverse()) await u().catch(() => {});
  };
  try {
    // What a killed cluster of the same index left.
    await cleanNode(net, dir);
    await unmountUnder(dir);
    rmSync(dir, { recursive: true, force: true });
    await mkdir(dir, { recursive: true });

    const infra = await startInfra({ ...opts, stateDir, listen: { address: net.address, enter: net.enter }, pauseBinary: bin.pause });
    undo.push(() => infra.stop());
    const pki = await clusterPki(join(dir, "pki"), net.address, NODE_NAME, SERVICE_IP);
    const registries = await startPrivateRegistries({
      dir, listen: { address: net.address, enter: net.enter }, podman: infra.podman, busybox: infra.images.busybox, plainRegistry: infra.registry.host,
    });
    undo.push(() => registries.stop());
    const flaky = await startFlakyRegistry({ binary: bin.flaky, dir, net, upstream: infra.registry.host });
    undo.push(() => flaky.stop());
    let gitHttps: GitHttps | undefined;
    if (opts.git !== false) {
      gitHttps = await startGitHttps({ binary: bin.githttps, dir, net, caDir: registries.caDir, root: infra.git.baseDir });
      undo.push(() => gitHttps!.stop());
    }
    const people: Record<keyof Kubeconfigs, Identity> = {
      admin: identity("buildpod-admin", ["system:masters"]),
      builder: identity(BUILDER),
      limited: identity(LIMITED),
      bench: identity("buildpod-bench", ["system:masters"]),
    };
    const node = identity(`system:node:${NODE_NAME}`, ["system:nodes"]);
    log("starting the control plane");
    const cp: ControlPlane = await startControlPlane({
      bin: bin.kube, dir, net, pki, people: Object.values(people), node, apiserverFlags: auditFlags(dir, people.bench.user),
      uncached: opts.faults,
    });
    undo.push(() => cp.stop());
    const kubeconfigs = {} as Kubeconfigs;
    for (const [k, id] of Object.entries(people) as [keyof Kubeconfigs, Identity][]) {
      kubeconfigs[k] = await writeKubeconfig(join(dir, `${k}.kubeconfig`), cp.url, pki.caPath, id);
    }
    const admin = await Cluster.connect({ kubeconfig: kubeconfigs.admin });
    const rules = builderRules();
    await bindRole(admin, "default", "buildpod", rules, { kind: "User", name: BUILDER });
    await bindRole(admin, "default", "buildpod-limited", rules.filter((r) => !r.resources.includes("pods/log")), { kind: "User", name: LIMITED });
    const emulation = await registerArm64(log);
    if (emulation.problem) log(`linux/arm64 is not emulated: ${emulation.problem}`);
    log("starting the node");
    const kn: KubeNode = await startNode({ bin: bin.kube, dir, net, pki, apiUrl: cp.url, node, registry: infra.registry.host,
      httpsRegistries: { hosts: [registries.secure.host, registries.base.host], caPath: registries.caPath }, pauseImage: infra.images.pause, admin, logMaxSize: opts.logMaxSize });
    undo.push(() => kn.stop());
    let virtualNode: VirtualNode | undefined;
    if (opts.virtualNode) {
      log("starting the virtual node");
      virtualNode = await startVirtualNode({ binary: bin.virtualkubelet, dir, net, kubeconfig: kubeconfigs.admin, admin, run: opts.virtualNode.run });
      undo.push(() => virtualNode!.stop());
    }
    let proxy: ForwardProxy | undefined;
    if (opts.proxy) {
      const upstreams = [infra.registry.host, registries.secure.host, registries.base.host, ...(opts.git === false ? [] : [`${net.address}:${infra.git.port}`]), ...(gitHttps ? [gitHttps.host] : [])];
      proxy = await startForwardProxy({ dir, net, clients: [POD_CIDR, `${net.hostAddress}/32`, `${net.address}/32`], upstreams });
      undo.push(() => proxy!.stop());
    }
    let faults: FaultAccess | undefined;
    if (cp.uncachedUrl && cp.etcdUrl) {
      const proxy = await startFaultProxy({ binary: bin.faultproxy, logDir: join(dir, "logs"), pki, upstream: cp.uncachedUrl, etcdUrl: cp.etcdUrl });
      undo.push(() => proxy.stop());
      const kc = (who: "admin" | "builder") => writeKubeconfig(join(dir, `${who}-faults.kubeconfig`), proxy.url, pki.caPath, people[who]);
      faults = { url: proxy.url, kubeconfigs: { admin: await kc("admin"), builder: await kc("builder") } };
    }
    const version = (await admin.call<{ gitVersion: string }>("reading the version", "GET", "/version")).gitVersion;
    let stopped = false;
    return {
      infra, net, dir, apiUrl: cp.url, caPath: pki.caPath, kubeconfig: kubeconfigs.admin, kubeconfigs, emulation,
      registry: infra.registry.host, registries, gitHttps, flaky, proxy, version, bin, requests: requestLog(dir), podsDir: join(dir, "node", "kubelet", "pods"), podLogsDir: join(dir, "node", "pod-logs"), faults, virtualNode,
      async stop() {
        if (stopped) return;
        stopped = true;
        await rollback();
      },
    };
  } catch (err) {
    await rollback();
    throw err;
  }
}
