// Fault injection (POST /_test/faults and in process) and request statistics (GET /_test/stats).
import { request as httpsRequest } from "node:https";
import { readFileSync } from "node:fs";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { k8s, podSpec, request, startKit, statusOf, waitPhase, type Kit } from "./testkit.js";

let kit: Kit;
beforeAll(async () => {
  kit = await startKit();
  await kit.core.createNamespacedPod({ namespace: "default", body: podSpec("done", "test/lines", { args: ["4", "1"] }) });
  await waitPhase(kit, "done", ["Succeeded"]);
});
afterEach(() => kit.server.faults.clear());
afterAll(async () => {
  await kit.close();
});

const control = async (body: unknown) => {
  const r = await request(kit, "POST", "/_test/faults", { body });
  expect(r.status).toBe(200);
  return JSON.parse(r.body);
};

function watchOnce(path: string, params: Record<string, string> = {}): Promise<{ events: { type: string; obj: k8s.KubernetesObject }[]; err: unknown }> {
  const events: { type: string; obj: k8s.KubernetesObject }[] = [];
  return new Promise((resolve) => {
    void new k8s.Watch(kit.kc).watch(path, params, (type, obj) => events.push({ type, obj }), (err) => resolve({ events, err }));
  });
}

describe("faults", () => {
  it("answers 500 for the next N requests matching a path, then recovers", async () => {
    await control({ kind: "error", path: "/namespaces/default/pods$", method: "GET", count: 2 });
    for (let i = 0; i < 2; i++) {
      const st = await statusOf(kit.core.listNamespacedPod({ namespace: "default" }));
      expect(st).toMatchObject({ code: 500, reason: "InternalError", message: "Internal error occurred: injected fault" });
    }
    expect((await kit.core.listNamespacedPod({ namespace: "default" })).items.length).toBeGreaterThan(0);
  });

  it("answers 429 with Retry-After", async () => {
    kit.server.faults.add({ kind: "tooManyRequests", retryAfterSeconds: 2, count: 1 });
    const r = await request(kit, "GET", "/api/v1/namespaces/default/pods/done");
    expect(r.status).toBe(429);
    expect(r.headers["retry-after"]).toBe("2");
    expect(JSON.parse(r.body)).toMatchObject({ reason: "TooManyRequests", details: { retryAfterSeconds: 2 } });
    expect((await request(kit, "GET", "/api/v1/namespaces/default/pods/done")).status).toBe(200);
  });

  it("delays responses", async () => {
    kit.server.faults.add({ kind: "delay", ms: 300, verb: "get", count: 1 });
    const t = Date.now();
    await kit.core.readNamespacedPod({ name: "done", namespace: "default" });
    expect(Date.now() - t).toBeGreaterThanOrEqual(290);
  });

  it("answers a watch with 410 Gone, as an ERROR event or as an HTTP status", async () => {
    await control({ kind: "watchGone", count: 1 });
    const a = await watchOnce("/api/v1/namespaces/default/pods");
    expect(a.events).toHaveLength(1);
    expect(a.events[0].type).toBe("ERROR");
    expect(a.events[0].obj).toMatchObject({ code: 410, reason: "Expired" });
    await control({ kind: "watchGone", as: "http", count: 1 });
    const b = await watchOnce("/api/v1/namespaces/default/pods");
    expect((b.err as { statusCode: number }).statusCode).toBe(410);
  });

  it("forgets the history so that resuming from an old resourceVersion gets 410", async () => {
    const rv = (await kit.core.listNamespacedPod({ namespace: "default" })).metadata!.resourceVersion!;
    await kit.core.createNamespacedConfigMap({ namespace: "default", body: { metadata: { name: "after" } } });
    await control({ action: "compactHistory" });
    const w = await watchOnce("/api/v1/namespaces/default/configmaps", { resourceVersion: rv });
    expect(w.events[0]).toMatchObject({ type: "ERROR", obj: { code: 410 } });
  });

  it("drops watch connections after N events, or all of them now", async () => {
    kit.server.faults.add({ kind: "dropWatch", afterEvents: 1, count: 1 });
    const w = await watchOnce("/api/v1/namespaces/default/pods");
    expect(w.events).toHaveLength(1);
    const open = watchOnce("/api/v1/namespaces/default/pods", { resourceVersion: "999999" });
    await new Promise((r) => setTimeout(r, 100));
    expect((await control({ action: "dropWatches" })).dropped).toBe(1);
    const dropped = await open;
    expect(dropped.events).toHaveLength(0);
  });

  it("cuts a log stream mid-line, breaking the connection or ending the response", async () => {
    const read = () =>
      new Promise<{ text: string; complete: boolean }>((resolve) => {
        const req = httpsRequest(`${kit.server.url}/api/v1/namespaces/default/pods/done/log?follow=true`, { ca: readFileSync(kit.server.caPath), headers: { Authorization: `Bearer ${kit.server.token}` } }, (res) => {
          const chunks: Buffer[] = [];
          res.on("data", (c: Buffer) => chunks.push(c));
          res.on("error", () => {});
          res.on("close", () => resolve({ text: Buffer.concat(chunks).toString(), complete: res.complete }));
        });
        req.on("error", () => {});
        req.end();
      });
    kit.server.faults.add({ kind: "cutLog", afterBytes: 10, mode: "destroy", count: 1 });
    expect(await read()).toEqual({ text: "line 1\nlin", complete: false });
    kit.server.faults.add({ kind: "cutLog", afterBytes: 10, mode: "end", count: 1 });
    expect(await read()).toEqual({ text: "line 1\nlin", complete: true });
    expect(await read()).toEqual({ text: "line 1\nline 2\nline 3\nline 4\n", complete: true });
  });

  it("loses the node's connection to a pod: its status stops changing", async () => {
    await kit.core.createNamespacedPod({ namespace: "default", body: podSpec("lost", "test/lines", { args: ["3", "50"] }) });
    await waitPhase(kit, "lost", ["Running"]);
    kit.server.faults.add({ kind: "losePod", pod: "lost" });
    await new Promise((r) => setTimeout(r, 400));
    const p = await kit.core.readNamespacedPod({ name: "lost", namespace: "default" });
    expect(p.status?.phase).toBe("Running");
    expect(await kit.core.readNamespacedPodLog({ name: "lost", namespace: "default" })).toBe("line 1\nline 2\nline 3\n");
  });

  it("counts requests per verb, resource and path", async () => {
    await request(kit, "DELETE", "/_test/stats");
    await kit.core.listNamespacedPod({ namespace: "default" });
    await kit.core.listNamespacedPod({ namespace: "default" });
    await kit.core.readNamespacedPod({ name: "done", namespace: "default" });
    await kit.core.readNamespacedPodLog({ name: "done", namespace: "default" });
    const s = JSON.parse((await request(kit, "GET", "/_test/stats")).body);
    expect(s.total).toBe(4);
    expect(s.byVerb).toEqual({ list: 2, get: 2 });
    expect(s.byResource).toEqual({ "list pods": 2, "get pods": 1, "get pods/log": 1 });
    expect(s.byPath["GET /api/v1/namespaces/default/pods"]).toBe(2);
    expect(kit.server.stats.snapshot().total).toBe(4);
  });
});
