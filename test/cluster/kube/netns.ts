// The node's network namespace: the test cluster's one host. Everything a pod talks to (the control plane,
// the kubelet, containerd, the registry, the git daemon) listens inside it, and the pods' own namespaces hang
// off its bridge (the CNI config in node.ts), so pod traffic never leaves namespaces the test cluster made.
//
//   root namespace  bpnode<N> 10.251.N.1/24 ──veth── eth0 10.251.N.2/24  namespace buildpod-node-<N>
//                                                    cni0 10.244.0.1/24 ── pods 10.244.0.x
//
// The node's namespace has no default route: an address outside these two subnets is unreachable from it
// and from every pod. The host reaches the node's services at 10.251.N.2, as it would reach a kind node.
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { processAlive } from "../../../core/prune.js";
import { run } from "../infra/proc.js";

export interface NodeNetwork {
  index: number;
  /** Network namespace name, under /run/netns. */
  name: string;
  /** The node's address, where its services listen: what the host and the pods dial. */
  address: string;
  /** The host's end of the link. */
  hostAddress: string;
  /** argv prefix that runs a command inside the namespace (its mounts stay the machine's). */
  enter: string[];
}

const MAX_NODES = 32;
const nsName = (i: number) => `buildpod-node-${i}`;
const link = (i: number) => `bpnode${i}`;

export function nodeNetwork(index: number): NodeNetwork {
  const name = nsName(index);
  return {
    index,
    name,
    address: `10.251.${index}.2`,
    hostAddress: `10.251.${index}.1`,
    enter: ["nsenter", `--net=/run/netns/${name}`, "--"],
  };
}

/** Which process made a namespace: /run/buildpod/NAME.owner holds its pid. */
const ownerFile = (name: string) => `/run/buildpod/${name}.owner`;

/** Whether the namespace's maker is alive, or any process still runs in it. */
async function inUse(name: string): Promise<boolean> {
  try {
    if (processAlive(Number(readFileSync(ownerFile(name), "utf8")))) return true;
  } catch {}
  const r = await run("ip", ["netns", "pids", name], { check: false });
  return r.code === 0 && r.stdout.trim() !== "";
}

/**
 * Makes the namespace with the lowest free index (one whose processes are gone is taken over: a test cluster
 * killed with -9 leaves it behind).
 */
export async function createNodeNetwork(): Promise<NodeNetwork> {
  for (let i = 0; i < MAX_NODES; i++) {
    const name = nsName(i);
    if (existsSync(`/run/netns/${name}`)) {
      if (await inUse(name)) continue;
      await deleteNodeNetwork(nodeNetwork(i));
    }
    const net = nodeNetwork(i);
    await assertFree(net);
    const ip = (...args: string[]) => run("ip", args);
    // Another test cluster (with another state directory) may take the same index at the same moment.
    if ((await run("ip", ["netns", "add", name], { check: false })).code !== 0) continue;
    mkdirSync("/run/buildpod", { recursive: true });
    writeFileSync(ownerFile(name), String(process.pid));
    try {
      await ip("link", "add", link(i), "type", "veth", "peer", "name", "eth0", "netns", name);
      await ip("addr", "add", `${net.hostAddress}/24`, "dev", link(i));
      await ip("link", "set", link(i), "up");
      await ip("-n", name, "addr", "add", `${net.address}/24`, "dev", "eth0");
      await ip("-n", name, "link", "set", "eth0", "up");
      await ip("-n", name, "link", "set", "lo", "up");
    } catch (err) {
      await deleteNodeNetwork(net);
      throw err;
    }
    return net;
  }
  throw new Error(`no free node network: ${MAX_NODES} test clusters already run on this machine (ip netns list)`);
}

/** Refuses a subnet that the machine already uses for something else. */
async function assertFree(net: NodeNetwork): Promise<void> {
  const prefix = net.address.slice(0, net.address.lastIndexOf(".") + 1);
  const r = await run("ip", ["-o", "-4", "addr", "show"]);
  const clash = r.stdout.split("\n").find((l) => l.includes(` ${prefix}`));
  if (clash) throw new Error(`the test cluster's node subnet ${prefix}0/24 is already in use on this machine: ${clash.trim()}`);
}

/** Removes the namespace and its link (the veth pair goes with it). */
export async function deleteNodeNetwork(net: NodeNetwork): Promise<void> {
  await run("ip", ["link", "del", link(net.index)], { check: false });
  await run("ip", ["netns", "del", net.name], { check: false });
  rmSync(ownerFile(net.name), { force: true });
}

/** Namespaces of test clusters on this machine (for clean-up checks). */
export function nodeNetworks(): string[] {
  try {
    return readdirSync("/run/netns").filter((n) => n.startsWith("buildpod-node-"));
  } catch {
    return [];
  }
}
