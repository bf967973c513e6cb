// The scheduler: resource requests against the node's allocatable, nodeSelector, FailedScheduling, retries.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { podSpec, startKit, statusOf, waitFor, waitPhase, type Kit } from "./testkit.js";

let kit: Kit;
beforeAll(async () => {
  kit = await startKit({ node: { allocatable: { cpuMilli: 2000, memoryBytes: 1024 * 2 ** 20 }, labels: { pool: "builds" } } });
});
afterAll(async () => {
  await kit.close();
});

const mem = (m: string) => ({ resources: { requests: { memory: m } } });
const read = (name: string) => kit.core.readNamespacedPod({ name, namespace: "default" });

describe("scheduler", () => {
  it("keeps a pod that does not fit Pending with Unschedulable and FailedScheduling, and binds it when capacity frees", async () => {
    await kit.core.createNamespacedPod({ namespace: "default", body: podSpec("hog", "test/sleep", mem("800Mi")) });
    await waitPhase(kit, "hog", ["Running"]);
    await kit.core.createNamespacedPod({ namespace: "default", body: podSpec("waiter", "test/echo", mem("512Mi")) });
    const pending = await waitFor(async () => {
      const p = await read("waiter");
      return p.status?.conditions?.find((c) => c.type === "PodScheduled" && c.status === "False") ? p : undefined;
    }, "Unschedulable");
    const cond = pending.status!.conditions!.find((c) => c.type === "PodScheduled")!;
    expect(cond.reason).toBe("Unschedulable");
    expect(cond.message).toBe("0/1 nodes are available: 1 Insufficient memory. preemption: 0/1 nodes are available: 1 No preemption victims found for incoming pod.");
    expect(pending.status?.phase).toBe("Pending");
    expect(pending.spec?.nodeName).toBeUndefined();
    const ev = await kit.core.listNamespacedEvent({ namespace: "default", fieldSelector: "involvedObject.name=waiter,reason=FailedScheduling" });
    expect(ev.items).toHaveLength(1);
    expect(ev.items[0]).toMatchObject({ type: "Warning", message: cond.message, source: { component: "default-scheduler" } });
    await kit.core.deleteNamespacedPod({ name: "hog", namespace: "default" });
    const done = await waitPhase(kit, "waiter", ["Succeeded"]);
    expect(done.spec?.nodeName).toBe("emulated-node");
    expect(done.status?.conditions?.find((c) => c.type === "PodScheduled")?.status).toBe("True");
    const scheduled = await kit.core.listNamespacedEvent({ namespace: "default", fieldSelector: "involvedObject.name=waiter,reason=Scheduled" });
    expect(scheduled.items).toHaveLength(1);
  });

  it("counts limits as requests, and reports cpu and memory together", async () => {
    await kit.core.createNamespacedPod({
      namespace: "default",
      body: podSpec("huge", "test/echo", { resources: { limits: { cpu: "3", memory: "2Gi" } } }),
    });
    const p = await waitFor(async () => {
      const x = await read("huge");
      return x.status?.conditions?.length ? x : undefined;
    }, "condition");
    expect(p.spec?.containers[0].resources?.requests).toEqual({ cpu: "3", memory: "2Gi" });
    expect(p.status?.qosClass).toBe("Guaranteed");
    expect(p.status?.conditions?.[0].message).toMatch(/^0\/1 nodes are available: 1 Insufficient cpu, 1 Insufficient memory\. /);
  });

  it("does not bind a pod whose nodeSelector does not match the node, and binds one that does", async () => {
    await kit.core.createNamespacedPod({ namespace: "default", body: podSpec("elsewhere", "test/echo", {}, { nodeSelector: { pool: "gpu" } }) });
    const p = await waitFor(async () => {
      const x = await read("elsewhere");
      return x.status?.conditions?.length ? x : undefined;
    }, "condition");
    expect(p.status?.conditions?.[0].message).toBe(
      "0/1 nodes are available: 1 node(s) didn't match Pod's node affinity/selector. preemption: 0/1 nodes are available: 1 Preemption is not helpful for scheduling.",
    );
    await kit.core.createNamespacedPod({ namespace: "default", body: podSpec("here", "test/echo", {}, { nodeSelector: { pool: "builds" } }) });
    await waitPhase(kit, "here", ["Succeeded"]);
  });

  it("serves the node from NodeRuntime.info()", async () => {
    const nodes = await kit.core.listNode();
    expect(nodes.items).toHaveLength(1);
    expect(nodes.items[0].metadata?.labels).toMatchObject({ pool: "builds", "kubernetes.io/hostname": "emulated-node" });
    expect(nodes.items[0].status?.allocatable).toMatchObject({ cpu: "2000m", memory: String(1024 * 2 ** 20) });
    expect((await statusOf(kit.core.createNode({ body: { metadata: { name: "another" } } }))).code).toBe(405);
  });
});
