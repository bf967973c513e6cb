// The test cluster's second node, without containers: test/cluster/cmd/virtualkubelet in the node's network
// namespace, registered beside the real node, tainted so that only builds that tolerate it land there. It
// plays each pod's life (Running, a few log lines, Succeeded) so that the fan-out benchmark can run a
// thousand builds against the real API server, scheduler and Job controller on one machine.
import { readFileSync } from "node:fs";
import { mkdir } from "node:fs/promises";
import { join } from "node:path";
import type { Cluster } from "../../../core/index.js";
import { startDaemon, waitFor } from "./daemon.js";
import type { NodeNetwork } from "./netns.js";

export interface VirtualNode {
  name: string;
  /** The node selector and toleration a build needs to be placed on it (as the command line takes them). */
  nodeSelector: Record<string, string>;
  toleration: { key: string; operator: "Equal"; value: string; effect: "NoSchedule" };
  stop(): Promise<void>;
}

export interface VirtualNodeOptions {
  binary: string;
  dir: string;
  net: NodeNetwork;
  /** The admin's kubeconfig: the program registers its node and updates pods with it. */
  kubeconfig: string;
  admin: Cluster;
  /** How long each container runs (a Go duration); 1s unless given. */
  run?: string;
}

const NAME = "virtual-node";
// Beside the kubelet's 10250 on the node's address: the API server reaches the logs there.
const PORT = 10350;

export async function startVirtualNode(o: VirtualNodeOptions): Promise<VirtualNode> {
  const logDir = join(o.dir, "logs");
  await mkdir(logDir, { recursive: true });
  const daemon = startDaemon("virtualkubelet", [o.binary, `--kubeconfig=${o.kubeconfig}`, `--name=${NAME}`,
    `--listen=${o.net.address}:${PORT}`, `--run=${o.run ?? "1s"}`], { logDir, enter: o.net.enter });
  try {
    await waitFor("the virtual kubelet to listen", async () => readFileSync(daemon.logPath, "utf8").includes("ready on"), [daemon], 20_000);
    await waitFor(`node ${NAME} to be Ready`, async () => {
      const node = await o.admin.call<{ status?: { conditions?: { type: string; status: string }[] } }>("reading the node", "GET", `/api/v1/nodes/${NAME}`, { attempts: 1 });
      return node.status?.conditions?.some((c) => c.type === "Ready" && c.status === "True") ?? false;
    }, [daemon], 30_000);
  } catch (err) {
    await daemon.stop();
    throw err;
  }
  return {
    name: NAME,
    nodeSelector: { type: "virtual-kubelet" },
    toleration: { key: "virtual-kubelet.io/provider", operator: "Equal", value: "buildpod", effect: "NoSchedule" },
    stop: () => daemon.stop(),
  };
}
