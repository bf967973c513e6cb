// The test cluster's emulated Kubernetes API server: HTTPS on loopback with a generated CA, a generated kubeconfig,
// and any NodeRuntime (the real podman node, or the emulated node of the API tests) behind it.
import { randomBytes } from "node:crypto";
import { mkdir, writeFile } from "node:fs/promises";
import { createServer, type Server } from "node:https";
import type { AddressInfo, Socket } from "node:net";
import { join } from "node:path";
import type { NodeRuntime } from "../node/runtime.js";
import { makeCerts, kubeconfigYaml } from "./certs.js";
import { Cluster } from "./cluster.js";
import { Faults, Stats, type FaultsControl, type StatsSnapshot } from "./faults.js";
import type { Policy } from "./policy.js";
import { ApiHandler } from "./server.js";

export type { Fault, FaultMatch, FaultsControl, StatsSnapshot } from "./faults.js";
export type { Policy, PolicyRule } from "./policy.js";

export interface ApiServerOptions {
  node: NodeRuntime;
  /** Where the CA, the server certificate and the kubeconfig are written. */
  dir: string;
  /** Port on 127.0.0.1; 0 or omitted: any free port. */
  port?: number;
  /** Authorization policy; omitted: allow all, user system:serviceaccount:ci:builder. */
  policy?: Policy;
  /** Namespace of the kubeconfig's context; default "default". */
  namespace?: string;
  /** How many changes the watch history keeps before older resourceVersions answer 410 Gone. */
  historyLimit?: number;
}

export interface ApiServer {
  /** https://127.0.0.1:PORT */
  url: string;
  kubeconfigPath: string;
  caPath: string;
  token: string;
  user: string;
  /** The policy in force; change its rules at run time (e.g. server.policy.rules = [...]). */
  policy: Policy;
  faults: FaultsControl;
  stats: { snapshot(): StatsSnapshot; reset(): void };
  /** In-process access to the control plane, for tests that need to look behind the API. */
  cluster: Cluster;
  close(): Promise<void>;
}

export async function startApiServer(opts: ApiServerOptions): Promise<ApiServer> {
  await mkdir(opts.dir, { recursive: true });
  const certs = await makeCerts(opts.dir);
  const faults = new Faults();
  const stats = new Stats();
  const policy: Policy = opts.policy ?? {};
  const user = policy.user ?? "system:serviceaccount:ci:builder";
  const token = randomBytes(24).toString("hex");
  const cluster = new Cluster({ node: opts.node, faults, historyLimit: opts.historyLimit });
  let address = "127.0.0.1:0";
  const handler = new ApiHandler({ cluster, policy, tokens: new Map([[token, user]]), faults, stats, address: () => address });
  const server: Server = createServer({ cert: certs.cert, key: certs.key, ca: certs.ca });
  const sockets = new Set<Socket>();
  server.on("connection", (s: Socket) => {
    sockets.add(s);
    s.on("close", () => sockets.delete(s));
  });
  server.on("secureConnection", (s) => {
    sockets.add(s);
    s.on("close", () => sockets.delete(s));
  });
  server.on("request", (req, res) => void handler.handle(req, res));
  server.on("upgrade", (req, socket, head) => void handler.upgrade(req, socket, head));
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(opts.port ?? 0, "127.0.0.1", () => resolve());
  });
  const port = (server.address() as AddressInfo).port;
  address = `127.0.0.1:${port}`;
  const url = `https://127.0.0.1:${port}`;
  const kubeconfigPath = join(opts.dir, "kubeconfig");
  await writeFile(kubeconfigPath, kubeconfigYaml(url, certs.ca, token, user, opts.namespace ?? "default"), { mode: 0o600 });
  let closed = false;
  return {
    url,
    kubeconfigPath,
    caPath: certs.caPath,
    token,
    user,
    policy,
    faults,
    stats,
    cluster,
    async close() {
      if (closed) return;
      closed = true;
      handler.close();
      await cluster.close();
      const done = new Promise<void>((r) => server.close(() => r()));
      for (const s of sockets) s.destroy();
      await done;
    },
  };
}
