// A build for another platform: where its pod goes. Every node carries kubernetes.io/os and
// kubernetes.io/arch (the kubelet sets them from its own build); a build is placed on a node of its
// platform, where the cluster has one, and runs natively there. Elsewhere it can run under QEMU on any node
// whose kernel has a binfmt_misc handler for the platform's binaries (--emulate): slower, often 5 to 20
// times for compiling steps, but needing no such node.
import type { Cluster } from "./cluster.js";
import { ClusterError } from "./errors.js";

export const OS_LABEL = "kubernetes.io/os";
export const ARCH_LABEL = "kubernetes.io/arch";

/** The node labels that place a build of PLATFORM ("linux/arm64", "linux/arm/v7": the variant is not a label). */
export function platformSelector(platform: string): Record<string, string> {
  const [os, arch] = platform.split("/");
  return { [OS_LABEL]: os!, [ARCH_LABEL]: arch! };
}

/** The platforms of the cluster's nodes ("linux/amd64", ...), each once; undefined when nodes may not be listed. */
export async function nodePlatforms(cluster: Cluster): Promise<string[] | undefined> {
  try {
    const list = await cluster.call<{ items?: { metadata?: { labels?: Record<string, string> } }[] }>("listing the nodes", "GET", "/api/v1/nodes");
    const out = new Set<string>();
    for (const n of list.items ?? []) {
      const l = n.metadata?.labels ?? {};
      if (l[OS_LABEL] && l[ARCH_LABEL]) out.add(`${l[OS_LABEL]}/${l[ARCH_LABEL]}`);
    }
    return [...out].sort();
  } catch (err) {
    if (err instanceof ClusterError && err.code === 403) return undefined;
    throw err;
  }
}

/**
 * How a build of PLATFORM is placed, given the nodes' platforms (undefined: unknown): "native" on a node of
 * its own, "emulated" on any node, or a refusal saying what the cluster has and the ways out.
 */
export function placement(platform: string, nodes: string[] | undefined, emulate: boolean): "native" | "emulated" | { refused: string } {
  const has = (p: string) => nodes?.some((n) => n === p.split("/").slice(0, 2).join("/"));
  if (nodes === undefined) return emulate ? "emulated" : "native";
  if (has(platform)) return "native";
  if (emulate) return "emulated";
  const arch = platform.split("/")[1];
  return {
    refused: `the cluster has no ${platform} node (its nodes are ${nodes.length ? nodes.join(", ") : "none"}); build it under QEMU on any node with --emulate (scheduling.emulate), which needs a binfmt_misc handler for ${arch} binaries with the F flag on the nodes (Debian's qemu-user-static registered with F, or tonistiigi/binfmt), or add a ${platform} node`,
  };
}
