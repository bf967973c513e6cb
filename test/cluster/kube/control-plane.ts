// The control plane: etcd, kube-apiserver, kube-controller-manager and kube-scheduler, each the upstream
// component (cmd/kube) with its documented flags, inside the node's network namespace. The API server serves
// HTTPS on the node's address with the test CA, knows people by static tokens and components by their own
// identities, authorizes with Node and RBAC, and runs the default admission plugins (NamespaceLifecycle,
// LimitRanger, ServiceAccount, PodSecurity, ResourceQuota, ... ) plus NodeRestriction.
import { request } from "node:https";
import { readFileSync } from "node:fs";
import { mkdir, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { startDaemon, waitFor, type Daemon } from "./daemon.js";
import type { NodeNetwork } from "./netns.js";
import { identity, tokenFile, writeKubeconfig, type ClusterPki, type Identity } from "./pki.js";

export const SERVICE_CIDR = "10.96.0.0/16";
export const SERVICE_IP = "10.96.0.1";
export const API_PORT = 6443;
/** The second API server's, without a watch cache (ControlPlaneOptions.uncached). */
export const UNCACHED_API_PORT = 6444;
export const ETCD_PORT = 2379;

export interface ControlPlaneOptions {
  bin: string;
  dir: string;
  net: NodeNetwork;
  pki: ClusterPki;
  /** People and tests: each gets a token; their rights come from RBAC (or system:masters). */
  people: Identity[];
  /** The node's identity (system:node:NAME in system:nodes), for the kubelet's kubeconfig. */
  node: Identity;
  /** More kube-apiserver flags (the audit log's). */
  apiserverFlags?: string[];
  /**
   * Also run a second API server on the same etcd (as a highly available control plane does), without a
   * watch cache: its watches read etcd itself, so that compacting etcd makes a resumed watch end in etcd's
   * own 410 Gone. (Through a watch cache, which keeps its own window of events, compaction changes nothing.)
   * etcd then also listens on the node's address, for the fault proxy's compactions.
   */
  uncached?: boolean;
}

export interface ControlPlane {
  url: string;
  /** The API server without a watch cache, when asked for. */
  uncachedUrl?: string;
  /** etcd's client URL as the host reaches it, when the uncached API server runs. */
  etcdUrl?: string;
  daemons: Daemon[];
  stop(): Promise<void>;
}

const GET_READY_MS = 60_000;

/** GET path on the API server with a token; resolves with the status code and body. */
export function apiGet(url: string, caPath: string, token: string, path: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request(`${url}${path}`, { ca: readFileSync(caPath), headers: { authorization: `Bearer ${token}` }, timeout: 5000 }, (res) => {
      let body = "";
      res.on("data", (d: Buffer) => (body += d.toString()));
      res.on("end", () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on("timeout", () => req.destroy(new Error("timed out")));
    req.on("error", reject);
    req.end();
  });
}

export async function startControlPlane(o: ControlPlaneOptions): Promise<ControlPlane> {
  const logDir = join(o.dir, "logs");
  await mkdir(logDir, { recursive: true });
  const url = `https://${o.net.address}:${API_PORT}`;
  const controllerManager = identity("system:kube-controller-manager");
  const scheduler = identity("system:kube-scheduler");
  const tokens = join(o.pki.dir, "tokens.csv");
  await writeFile(tokens, tokenFile([...o.people, o.node, controllerManager, scheduler]), { mode: 0o600 });
  const kubeconfig = (name: string, id: Identity) => writeKubeconfig(join(o.dir, `${name}.kubeconfig`), url, o.pki.caPath, id);
  const cmKubeconfig = await kubeconfig("controller-manager", controllerManager);
  const schedKubeconfig = await kubeconfig("scheduler", scheduler);
  const p = o.pki;
  const daemons: Daemon[] = [];
  const start = (name: string, args: string[]) => {
    const d = startDaemon(name, [o.bin, ...args], { logDir, enter: o.net.enter });
    daemons.push(d);
    return d;
  };
  const stop = async () => {
    for (const d of [...daemons].reverse()) await d.stop();
  };
  try {
    // etcd on the node's loopback (and its address, for the fault proxy). A test cluster's data is thrown
    // away with it: no fsync.
    const etcdUrls = ["http://127.0.0.1:2379", ...(o.uncached ? [`http://${o.net.address}:${ETCD_PORT}`] : [])].join(",");
    start("etcd", ["etcd", `--data-dir=${join(o.dir, "etcd")}`, `--listen-client-urls=${etcdUrls}`,
      "--advertise-client-urls=http://127.0.0.1:2379", "--listen-peer-urls=http://127.0.0.1:2380",
      "--initial-advertise-peer-urls=http://127.0.0.1:2380", "--initial-cluster=default=http://127.0.0.1:2380",
      "--unsafe-no-fsync", "--log-level=warn"]);
    const apiserverArgs = (port: number) => ["kube-apiserver", "--etcd-servers=http://127.0.0.1:2379",
      "--bind-address=0.0.0.0", `--secure-port=${port}`, `--advertise-address=${o.net.address}`,
      `--tls-cert-file=${p.apiserver.cert}`, `--tls-private-key-file=${p.apiserver.key}`, `--client-ca-file=${p.caPath}`,
      `--token-auth-file=${tokens}`, "--authorization-mode=Node,RBAC", "--enable-admission-plugins=NodeRestriction",
      "--allow-privileged=true", "--service-account-issuer=https://kubernetes.default.svc.cluster.local",
      `--service-account-key-file=${p.serviceAccountPub}`, `--service-account-signing-key-file=${p.serviceAccountKey}`,
      `--service-cluster-ip-range=${SERVICE_CIDR}`, `--kubelet-client-certificate=${p.kubeletClient.cert}`,
      `--kubelet-client-key=${p.kubeletClient.key}`, "--kubelet-preferred-address-types=InternalIP", "--profiling=false"];
    start("kube-apiserver", [...apiserverArgs(API_PORT), ...(o.apiserverFlags ?? [])]);
    const admin = o.people.find((i) => i.groups.includes("system:masters"))!;
    const ready = (u: string, what: string) => waitFor(`${what}'s /readyz`, async () => (await apiGet(u, p.caPath, admin.token, "/readyz")).status === 200,
      daemons, GET_READY_MS);
    await ready(url, "the API server");
    let uncachedUrl: string | undefined;
    if (o.uncached) {
      // The kubernetes Service's endpoints stay the first one's (same address, another port).
      start("kube-apiserver-uncached", [...apiserverArgs(UNCACHED_API_PORT), "--watch-cache=false", "--endpoint-reconciler-type=none"]);
      uncachedUrl = `https://${o.net.address}:${UNCACHED_API_PORT}`;
    }
    // After /readyz: the RBAC bootstrap roles that the controller manager needs to read its configmap exist.
    const common = (kc: string) => [`--kubeconfig=${kc}`, `--authentication-kubeconfig=${kc}`, `--authorization-kubeconfig=${kc}`,
      "--bind-address=127.0.0.1", "--leader-elect=false", "--profiling=false"];
    start("kube-controller-manager", ["kube-controller-manager", ...common(cmKubeconfig),
      `--service-account-private-key-file=${p.serviceAccountKey}`, `--root-ca-file=${p.caPath}`,
      "--use-service-account-credentials=true", `--cluster-signing-cert-file=${p.caPath}`,
      `--cluster-signing-key-file=${join(p.dir, "ca.key")}`]);
    start("kube-scheduler", ["kube-scheduler", ...common(schedKubeconfig)]);
    // Pods need their namespace's default service account, which the controller manager makes.
    await waitFor("the default service account", async () =>
      (await apiGet(url, p.caPath, admin.token, "/api/v1/namespaces/default/serviceaccounts/default")).status === 200, daemons, GET_READY_MS);
    if (uncachedUrl) await ready(uncachedUrl, "the uncached API server");
    return { url, uncachedUrl, etcdUrl: o.uncached ? `http://${o.net.address}:${ETCD_PORT}` : undefined, daemons, stop };
  } catch (err) {
    await stop();
    throw err;
  }
}
