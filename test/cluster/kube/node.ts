// The node: Debian's containerd (1.6, CRI v1) with runc, and the upstream kubelet, inside the node's network
// namespace. Pods get their own network namespaces on a CNI bridge (Debian's containernetworking-plugins);
// their cgroups live under one root of this node's own (/buildpod-node-N), so stopping the node kills
// whatever runs there, and every mount the node makes lies under its directory.
//
// What this machine needs (each found by running it here):
// - hybrid cgroups (v1 controllers): the kubelet refuses cgroup v1 unless failCgroupV1 is false (KEP-5573);
//   cgroupDriver cgroupfs, as containerd's runc is set up (SystemdCgroup = false).
// - no CAP_SYS_RESOURCE: runc cannot lower a sandbox's oom_score_adj to the kubelet's -998 ("failed to
//   update /proc/self/oom_score_adj: Permission denied"), so containerd clamps it (restrict_oom_score_adj).
// - containerd 1.6 has no RuntimeConfig call: the kubelet says so once and takes its own cgroupDriver.
import { existsSync } from "node:fs";
import { mkdir, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { Cluster } from "../../../core/index.js";
import { cgroupRoot, cleanNode, joinCgroup, makeCgroups, networkName } from "./cleanup.js";
import { startDaemon, waitFor, type Daemon } from "./daemon.js";
import type { NodeNetwork } from "./netns.js";
import { writeKubeconfig, type ClusterPki, type Identity } from "./pki.js";

export const NODE_NAME = "buildpod-node";
export const POD_CIDR = "10.244.0.0/24";

export interface NodeOptions {
  bin: string;
  dir: string;
  net: NodeNetwork;
  pki: ClusterPki;
  apiUrl: string;
  node: Identity;
  /** host:port of the plain-HTTP registry the node pulls from. */
  registry: string;
  /**
   * HTTPS registries the node pulls from too (host:port each), their certificates signed by CAPATH's CA;
   * they want credentials, which come from the pod's imagePullSecrets.
   */
  httpsRegistries?: { hosts: string[]; caPath: string };
  pauseImage: string;
  /** A client of the API server, to wait for the node to be Ready. */
  admin: Cluster;
  /** The kubelet's containerLogMaxSize (default the kubelet's, 10Mi), checked every 3 s instead of 10. */
  logMaxSize?: string;
}

export interface KubeNode {
  name: string;
  daemons: Daemon[];
  stop(): Promise<void>;
}

function containerdConfig(dir: string, o: NodeOptions): string {
  const cri = 'plugins."io.containerd.grpc.v1.cri"';
  return `version = 2
root = ${JSON.stringify(join(dir, "root"))}
state = ${JSON.stringify(join(dir, "state"))}
disabled_plugins = ["io.containerd.snapshotter.v1.aufs", "io.containerd.snapshotter.v1.btrfs", "io.containerd.snapshotter.v1.zfs", "io.containerd.snapshotter.v1.devmapper"]
[grpc]
  address = ${JSON.stringify(join(dir, "containerd.sock"))}
[ttrpc]
  address = ${JSON.stringify(join(dir, "containerd.sock.ttrpc"))}
[plugins."io.containerd.internal.v1.opt"]
  path = ${JSON.stringify(join(dir, "opt"))}
[${cri}]
  sandbox_image = ${JSON.stringify(o.pauseImage)}
  stream_server_address = "127.0.0.1"
  restrict_oom_score_adj = true
  netns_mounts_under_state_dir = true
  [${cri}.containerd]
    snapshotter = "overlayfs"
    default_runtime_name = "runc"
    [${cri}.containerd.runtimes.runc]
      runtime_type = "io.containerd.runc.v2"
      [${cri}.containerd.runtimes.runc.options]
        SystemdCgroup = false
        Root = ${JSON.stringify(join(dir, "runc"))}
  [${cri}.cni]
    bin_dir = "/usr/lib/cni"
    conf_dir = ${JSON.stringify(join(dir, "cni"))}
  [${cri}.registry]
    config_path = ${JSON.stringify(join(dir, "certs.d"))}
`;
}

/** The pods' network: one bridge in the node's namespace, addresses from host-local, no masquerade. */
function cniConfig(dir: string, net: NodeNetwork): string {
  return JSON.stringify({
    cniVersion: "1.0.0", name: networkName(net), plugins: [{
      type: "bridge", bridge: "cni0", isGateway: true, ipMasq: false, hairpinMode: true,
      ipam: { type: "host-local", dataDir: join(dir, "ipam"), ranges: [[{ subnet: POD_CIDR }]], routes: [{ dst: "0.0.0.0/0" }] },
    }],
  }, null, 2);
}

function kubeletConfig(dir: string, o: NodeOptions, containerdSock: string): string {
  return JSON.stringify({
    apiVersion: "kubelet.config.k8s.io/v1beta1",
    kind: "KubeletConfiguration",
    failCgroupV1: false,
    cgroupDriver: "cgroupfs",
    cgroupRoot: cgroupRoot(o.net),
    containerRuntimeEndpoint: `unix://${containerdSock}`,
    authentication: { anonymous: { enabled: false }, webhook: { enabled: true }, x509: { clientCAFile: o.pki.caPath } },
    authorization: { mode: "Webhook" },
    address: o.net.address,
    port: 10250,
    readOnlyPort: 0,
    healthzBindAddress: "127.0.0.1",
    healthzPort: 10248,
    // No cluster DNS runs; pods are pointed at the node, where nothing answers, so no lookup leaves.
    clusterDNS: [o.net.address],
    clusterDomain: "cluster.local",
    resolvConf: join(dir, "resolv.conf"),
    failSwapOn: false,
    tlsCertFile: o.pki.kubelet.cert,
    tlsPrivateKeyFile: o.pki.kubelet.key,
    podLogsDir: join(dir, "pod-logs"),
    serializeImagePulls: false,
    // The machine's disk is shared with everything else on it: evict only when it is really full.
    evictionHard: { "memory.available": "100Mi", "nodefs.available": "1%", "imagefs.available": "1%", "nodefs.inodesFree": "1%" },
    imageGCHighThresholdPercent: 100,
    // Volumes' disk use is measured every 5 s (default 1m): a build over its ephemeral-storage limit is
    // stopped within seconds, as on a real node only later.
    volumeStatsAggPeriod: "5s",
    ...(o.logMaxSize ? { containerLogMaxSize: o.logMaxSize, containerLogMaxFiles: 3, containerLogMonitorInterval: "3s" } : {}),
  }, null, 2);
}

export async function startNode(o: NodeOptions): Promise<KubeNode> {
  const dir = join(o.dir, "node");
  const cd = join(dir, "containerd");
  const logDir = join(o.dir, "logs");
  for (const d of [cd, join(cd, "cni"), join(cd, "certs.d", o.registry), join(dir, "kubelet"), join(dir, "pod-logs"), logDir]) {
    await mkdir(d, { recursive: true });
  }
  await writeFile(join(cd, "config.toml"), containerdConfig(cd, o));
  await writeFile(join(cd, "certs.d", o.registry, "hosts.toml"),
    `server = "http://${o.registry}"\n[host."http://${o.registry}"]\n  capabilities = ["pull", "resolve"]\n`);
  for (const host of o.httpsRegistries?.hosts ?? []) {
    await mkdir(join(cd, "certs.d", host), { recursive: true });
    await writeFile(join(cd, "certs.d", host, "hosts.toml"),
      `server = "https://${host}"\n[host."https://${host}"]\n  capabilities = ["pull", "resolve"]\n  ca = ${JSON.stringify(o.httpsRegistries!.caPath)}\n`);
  }
  await writeFile(join(cd, "cni", "10-buildpod.conflist"), cniConfig(cd, o.net));
  await writeFile(join(dir, "resolv.conf"), `nameserver ${o.net.address}\n`);
  const sock = join(cd, "containerd.sock");
  await writeFile(join(dir, "kubelet.json"), kubeletConfig(dir, o, sock));
  const kubeconfig = await writeKubeconfig(join(dir, "kubelet.kubeconfig"), o.apiUrl, o.pki.caPath, o.node);

  const root = cgroupRoot(o.net);
  makeCgroups(root);
  const daemons: Daemon[] = [];
  const stop = async () => {
    for (const d of [...daemons].reverse()) await d.stop();
    await cleanNode(o.net, o.dir);
  };
  try {
    const containerd = startDaemon("containerd", ["containerd", "--config", join(cd, "config.toml")], { logDir, enter: o.net.enter });
    daemons.push(containerd);
    joinCgroup(containerd.pid, `${root}/runtime`);
    await waitFor("containerd's socket", async () => existsSync(sock), daemons, 30_000);
    const kubelet = startDaemon("kubelet", [o.bin, "kubelet", `--config=${join(dir, "kubelet.json")}`, `--kubeconfig=${kubeconfig}`,
      `--hostname-override=${NODE_NAME}`, `--node-ip=${o.net.address}`, `--root-dir=${join(dir, "kubelet")}`], { logDir, enter: o.net.enter });
    daemons.push(kubelet);
    joinCgroup(kubelet.pid, `${root}/runtime`);
    await waitFor(`node ${NODE_NAME} to be Ready`, async () => {
      const node = await o.admin.call<{ status?: { conditions?: { type: string; status: string }[] } }>("reading the node", "GET", `/api/v1/nodes/${NODE_NAME}`, { attempts: 1 });
      return node.status?.conditions?.some((c) => c.type === "Ready" && c.status === "True") ?? false;
    }, daemons, 60_000);
    return { name: NODE_NAME, daemons, stop };
  } catch (err) {
    await stop();
    throw err;
  }
}

