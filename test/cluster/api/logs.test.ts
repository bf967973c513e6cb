// pods/log through client-node's Log and the generated API: follow, timestamps, tail, limits, since, errors.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { k8s, podSpec, readLog, startKit, statusOf, waitFor, waitPhase, type Kit } from "./testkit.js";

let kit: Kit;
beforeAll(async () => {
  kit = await startKit();
});
afterAll(async () => {
  await kit.close();
});

const started = (name: string) =>
  waitFor(async () => {
    const p = await kit.core.readNamespacedPod({ name, namespace: "default" });
    const s = p.status?.containerStatuses?.[0]?.state;
    return s?.running || s?.terminated ? p : undefined;
  }, `${name} started`);

describe("pods/log", () => {
  it("follows a running container to its end, every line once and in order", async () => {
    await kit.core.createNamespacedPod({ namespace: "default", body: podSpec("follow", "test/lines", { args: ["6", "40"] }) });
    await started("follow");
    const pod = await kit.core.readNamespacedPod({ name: "follow", namespace: "default" });
    expect(pod.status?.phase).toBe("Running");
    const text = await readLog(kit, "follow", "main", { follow: true });
    expect(text).toBe("line 1\nline 2\nline 3\nline 4\nline 5\nline 6\n");
    expect((await kit.core.readNamespacedPod({ name: "follow", namespace: "default" })).status?.containerStatuses?.[0].state?.terminated).toBeTruthy();
  });

  it("prefixes RFC 3339 timestamps, tails lines, limits bytes", async () => {
    const withTs = await readLog(kit, "follow", "main", { timestamps: true });
    const lines = withTs.trimEnd().split("\n");
    expect(lines).toHaveLength(6);
    for (const l of lines) expect(l).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d{1,9})?Z line \d$/);
    expect(await readLog(kit, "follow", "main", { tailLines: 2 })).toBe("line 5\nline 6\n");
    expect(await readLog(kit, "follow", "main", { limitBytes: 9 })).toBe("line 1\nli");
  });

  it("filters by sinceTime (whole seconds) and sinceSeconds", async () => {
    const future = new Date(Date.now() + 5000).toISOString();
    expect(await readLog(kit, "follow", "main", { sinceTime: future })).toBe("");
    const past = new Date(Date.now() - 60_000).toISOString();
    expect(await readLog(kit, "follow", "main", { sinceTime: past })).toContain("line 1\n");
    expect(await readLog(kit, "follow", "main", { sinceSeconds: 600 })).toContain("line 6\n");
    // sinceTime has whole-second precision: a time inside the second of the first line still returns it.
    const firstTs = (await readLog(kit, "follow", "main", { timestamps: true })).split(" ")[0];
    const inSameSecond = firstTs.replace(/(\.\d+)?Z$/, ".999Z");
    expect(await readLog(kit, "follow", "main", { sinceTime: inSameSecond })).toContain("line 1\n");
  });

  it("tails a long log from its end (many blocks of the file), and a line made of partial entries whole", async () => {
    await kit.core.createNamespacedPod({ namespace: "default", body: podSpec("long", "test/lines", { args: ["2000", "0"] }) });
    await waitPhase(kit, "long", ["Succeeded"]);
    expect(await readLog(kit, "long", "main", { tailLines: 3 })).toBe("line 1998\nline 1999\nline 2000\n");
    expect(await readLog(kit, "long", "main", { tailLines: 1 })).toBe("line 2000\n");
    expect((await readLog(kit, "long", "main", { tailLines: 5000 })).split("\n")).toHaveLength(2001);
    await kit.core.createNamespacedPod({ namespace: "default", body: podSpec("partial-tail", "test/partial") });
    await waitPhase(kit, "partial-tail", ["Succeeded"]);
    expect(await readLog(kit, "partial-tail", "main", { tailLines: 1 })).toBe("hello world\n");
  });

  it("joins partial CRI entries into one line", async () => {
    await kit.core.createNamespacedPod({ namespace: "default", body: podSpec("partial", "test/partial") });
    await waitPhase(kit, "partial", ["Succeeded"]);
    expect(await kit.core.readNamespacedPodLog({ name: "partial", namespace: "default" })).toBe("hello world\n");
  });

  it("answers 400 with the kubelet's words while the container is waiting to start", async () => {
    await kit.core.createNamespacedPod({ namespace: "default", body: podSpec("nowhere", "test/sleep", {}, { nodeSelector: { disk: "ssd" } }) });
    const waiting = await statusOf(kit.core.readNamespacedPodLog({ name: "nowhere", namespace: "default" }));
    expect(waiting).toMatchObject({ code: 400, reason: "BadRequest", message: 'container "main" in pod "nowhere" is waiting to start: ContainerCreating' });
    await kit.core.createNamespacedPod({ namespace: "default", body: podSpec("nopull", "registry.example/none:1") });
    await waitFor(async () => (await kit.core.readNamespacedPod({ name: "nopull", namespace: "default" })).status?.containerStatuses?.[0]?.state?.waiting?.reason === "ImagePullBackOff", "back-off");
    const pull = await statusOf(kit.core.readNamespacedPodLog({ name: "nopull", namespace: "default" }));
    expect(pull.message).toBe('container "main" in pod "nopull" is waiting to start: trying and failing to pull image');
    // client-node's Log gives the status code too.
    await expect(new k8s.Log(kit.kc).log("default", "nowhere", "main", process.stdout, { follow: true })).rejects.toMatchObject({ code: 400 });
  });

  it("asks for a container name when a pod has several, and rejects unknown ones and previous=true", async () => {
    await kit.core.createNamespacedPod({
      namespace: "default",
      body: { metadata: { name: "two" }, spec: { restartPolicy: "Never", containers: [{ name: "a", image: "test/echo" }, { name: "b", image: "test/echo", args: ["from b"] }] } },
    });
    await waitPhase(kit, "two", ["Succeeded"]);
    const none = await statusOf(kit.core.readNamespacedPodLog({ name: "two", namespace: "default" }));
    expect(none.message).toBe("a container name must be specified for pod two, choose one of: [a b]");
    expect(await kit.core.readNamespacedPodLog({ name: "two", namespace: "default", container: "b" })).toBe("from b\n");
    const bad = await statusOf(kit.core.readNamespacedPodLog({ name: "two", namespace: "default", container: "zz" }));
    expect(bad.message).toBe("container zz is not valid for pod two");
    const prev = await statusOf(kit.core.readNamespacedPodLog({ name: "two", namespace: "default", container: "a", previous: true }));
    expect(prev.message).toBe('previous terminated container "a" in pod "two" not found');
  });

  it("follows init containers and then the main container", async () => {
    await kit.core.createNamespacedPod({
      namespace: "default",
      body: { metadata: { name: "inits" }, spec: { restartPolicy: "Never", initContainers: [{ name: "clone", image: "test/echo", args: ["cloned"] }], containers: [{ name: "build", image: "test/lines", args: ["2", "10"] }] } },
    });
    await waitPhase(kit, "inits", ["Succeeded"]);
    expect(await readLog(kit, "inits", "clone", { follow: true })).toBe("cloned\n");
    expect(await readLog(kit, "inits", "build", { follow: true })).toBe("line 1\nline 2\n");
    const pod = await kit.core.readNamespacedPod({ name: "inits", namespace: "default" });
    expect(pod.status?.initContainerStatuses?.[0].state?.terminated?.reason).toBe("Completed");
  });
});
