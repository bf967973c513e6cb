// Objects, selectors, watch semantics and Status bodies, through the real @kubernetes/client-node.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { codeOf, k8s, podSpec, request, startKit, statusOf, waitFor, waitPhase, type Kit } from "./testkit.js";

let kit: Kit;
beforeAll(async () => {
  kit = await startKit();
});
afterAll(async () => {
  await kit.close();
});

describe("discovery", () => {
  it("serves the version, the API groups and the resource lists clients discover", async () => {
    const get = async (path: string) => {
      const r = await request(kit, "GET", path);
      expect(r.status, path).toBe(200);
      return JSON.parse(r.body) as Record<string, any>;
    };
    expect(await get("/version")).toMatchObject({ major: "1", gitVersion: expect.stringMatching(/^v1\.\d+/) });
    expect(await get("/api")).toMatchObject({ kind: "APIVersions", versions: ["v1"] });
    const groups = (await get("/apis")).groups.map((g: { name: string }) => g.name);
    expect(groups).toEqual(expect.arrayContaining(["batch", "authorization.k8s.io"]));
    const core = (await get("/api/v1")).resources.map((r: { name: string }) => r.name);
    expect(core).toEqual(expect.arrayContaining(["pods", "pods/log", "pods/exec", "pods/attach", "secrets", "configmaps", "events", "namespaces"]));
    const pods = (await get("/api/v1")).resources.find((r: { name: string }) => r.name === "pods");
    expect(pods).toMatchObject({ namespaced: true, kind: "Pod", verbs: expect.arrayContaining(["create", "get", "list", "watch", "delete"]) });
    const batch = await get("/apis/batch/v1");
    expect(batch).toMatchObject({ kind: "APIResourceList", groupVersion: "batch/v1" });
    expect(batch.resources.map((r: { name: string }) => r.name)).toContain("jobs");
    expect((await request(kit, "GET", "/apis/nosuchgroup/v1")).status).toBe(404);
  });
});

describe("namespaces", () => {
  it("has default and kube-system, creates, reads, lists and deletes", async () => {
    const names = (await kit.core.listNamespace()).items.map((n) => n.metadata!.name);
    expect(names).toEqual(expect.arrayContaining(["default", "kube-system"]));
    const created = await kit.core.createNamespace({ body: { metadata: { name: "ns-a" } } });
    expect(created.status?.phase).toBe("Active");
    expect((await kit.core.readNamespace({ name: "ns-a" })).metadata?.uid).toBe(created.metadata?.uid);
    await kit.core.deleteNamespace({ name: "ns-a" });
    expect((await kit.core.readNamespace({ name: "ns-a" })).status?.phase).toBe("Terminating");
    await waitFor(async () => (await codeOf(kit.core.readNamespace({ name: "ns-a" }))) === 404, "namespace gone");
  });

  it("refuses objects in a namespace that does not exist", async () => {
    const st = await statusOf(kit.core.createNamespacedConfigMap({ namespace: "nope", body: { metadata: { name: "x" } } }));
    expect(st).toMatchObject({ code: 404, reason: "NotFound", message: 'namespaces "nope" not found' });
  });
});

describe("pods", () => {
  it("creates with generateName, uid, resourceVersion, creationTimestamp and the server's defaults", async () => {
    const pod = await kit.core.createNamespacedPod({
      namespace: "default",
      body: { metadata: { generateName: "gen-" }, spec: { containers: [{ name: "main", image: "test/echo:1.0" }] } },
    });
    expect(pod.metadata?.name).toMatch(/^gen-[a-z0-9]{5}$/);
    expect(pod.metadata?.uid).toMatch(/^[0-9a-f-]{36}$/);
    expect(Number(pod.metadata?.resourceVersion)).toBeGreaterThan(0);
    expect(pod.metadata?.creationTimestamp).toBeInstanceOf(Date);
    const c = pod.spec!.containers[0];
    expect(c.terminationMessagePath).toBe("/dev/termination-log");
    expect(c.terminationMessagePolicy).toBe("File");
    expect(c.imagePullPolicy).toBe("IfNotPresent");
    expect(pod.spec?.restartPolicy).toBe("Always");
    expect(pod.spec?.serviceAccountName).toBe("default");
    expect(pod.status?.phase).toBe("Pending");
    expect(pod.status?.qosClass).toBe("BestEffort");
  });

  it("answers 409 AlreadyExists, 404 NotFound and 422 Invalid with the real Status bodies", async () => {
    await kit.core.createNamespacedPod({ namespace: "default", body: podSpec("dup", "test/sleep") });
    const dup = await statusOf(kit.core.createNamespacedPod({ namespace: "default", body: podSpec("dup", "test/sleep") }));
    expect(dup).toMatchObject({ kind: "Status", code: 409, reason: "AlreadyExists", message: 'pods "dup" already exists', details: { name: "dup", kind: "pods" } });
    const missing = await statusOf(kit.core.readNamespacedPod({ name: "ghost", namespace: "default" }));
    expect(missing).toMatchObject({ code: 404, reason: "NotFound", message: 'pods "ghost" not found' });
    const noContainers = await statusOf(kit.core.createNamespacedPod({ namespace: "default", body: { metadata: { name: "empty" }, spec: { containers: [] } } }));
    expect(noContainers).toMatchObject({ code: 422, reason: "Invalid", message: 'Pod "empty" is invalid: spec.containers: Required value' });
    const noImage = await statusOf(kit.core.createNamespacedPod({ namespace: "default", body: { metadata: { name: "noimg" }, spec: { containers: [{ name: "a" }] } } }));
    expect(noImage.message).toBe('Pod "noimg" is invalid: spec.containers[0].image: Required value');
    expect(noImage.details?.causes).toEqual([{ reason: "FieldValueRequired", message: "Required value", field: "spec.containers[0].image" }]);
    const badName = await statusOf(kit.core.createNamespacedPod({ namespace: "default", body: podSpec("Bad_Name", "test/echo") }));
    expect(badName.code).toBe(422);
    expect(badName.message).toContain("a lowercase RFC 1123 subdomain must consist of");
    const job = await statusOf(kit.batch.readNamespacedJob({ name: "ghost", namespace: "default" }));
    expect(job).toMatchObject({ code: 404, message: 'jobs.batch "ghost" not found', details: { name: "ghost", group: "batch", kind: "jobs" } });
  });

  it("lists with label selectors (=, !=, in, notin, exists, !exists) and field selectors", async () => {
    const mk = (name: string, labels: Record<string, string>) =>
      kit.core.createNamespacedPod({ namespace: "default", body: { ...podSpec(name, "test/sleep"), metadata: { name, labels } } });
    await mk("sel-a", { tier: "web", env: "prod" });
    await mk("sel-b", { tier: "db", env: "dev" });
    await mk("sel-c", { tier: "cache" });
    const names = async (labelSelector?: string, fieldSelector?: string) =>
      (await kit.core.listNamespacedPod({ namespace: "default", labelSelector, fieldSelector })).items
        .map((p) => p.metadata!.name!)
        .filter((n) => n.startsWith("sel-"))
        .sort();
    expect(await names("tier=web")).toEqual(["sel-a"]);
    expect(await names("tier!=web,tier")).toEqual(["sel-b", "sel-c"]);
    expect(await names("tier in (web, db)")).toEqual(["sel-a", "sel-b"]);
    expect(await names("tier notin (web),tier")).toEqual(["sel-b", "sel-c"]);
    expect(await names("env")).toEqual(["sel-a", "sel-b"]);
    expect(await names("!env,tier")).toEqual(["sel-c"]);
    expect(await names(undefined, "metadata.name=sel-b")).toEqual(["sel-b"]);
    expect(await names("tier", "metadata.name!=sel-b")).toEqual(["sel-a", "sel-c"]);
    const bad = await statusOf(kit.core.listNamespacedPod({ namespace: "default", fieldSelector: "spec.bogus=1" }));
    expect(bad.code).toBe(400);
  });

  it("pages a list with limit and continue", async () => {
    const first = await kit.core.listNamespacedPod({ namespace: "default", limit: 2 });
    expect(first.items).toHaveLength(2);
    expect(first.metadata?._continue).toBeTruthy();
    const second = await kit.core.listNamespacedPod({ namespace: "default", limit: 100, _continue: first.metadata!._continue });
    const all = await kit.core.listNamespacedPod({ namespace: "default" });
    expect([...first.items, ...second.items].map((p) => p.metadata!.name)).toEqual(all.items.map((p) => p.metadata!.name));
  });

  it("runs a pod to Succeeded with statuses from the node, PodScheduled and events", async () => {
    await kit.core.createNamespacedPod({ namespace: "default", body: podSpec("runs", "test/echo", { args: ["a"] }) });
    const pod = await waitPhase(kit, "runs", ["Succeeded"]);
    expect(pod.spec?.nodeName).toBe("emulated-node");
    const cs = pod.status!.containerStatuses![0];
    expect(cs.state?.terminated).toMatchObject({ exitCode: 0, reason: "Completed" });
    expect(pod.status?.conditions?.find((c) => c.type === "PodScheduled")?.status).toBe("True");
    const events = await kit.core.listNamespacedEvent({ namespace: "default", fieldSelector: "involvedObject.name=runs" });
    const reasons = events.items.map((e) => e.reason);
    expect(reasons).toEqual(expect.arrayContaining(["Scheduled", "Pulling", "Pulled", "Created", "Started"]));
    const scheduled = events.items.find((e) => e.reason === "Scheduled")!;
    expect(scheduled.message).toBe("Successfully assigned default/runs to emulated-node");
    expect(scheduled.involvedObject).toMatchObject({ kind: "Pod", name: "runs", namespace: "default", uid: pod.metadata!.uid });
    expect(events.items.find((e) => e.reason === "Started")?.involvedObject.fieldPath).toBe("spec.containers{main}");
  });

  it("deletes gracefully: watchers see deletionTimestamp, then DELETED once the node stopped the pod", async () => {
    await kit.core.createNamespacedPod({ namespace: "default", body: podSpec("victim", "test/sleep") });
    await waitPhase(kit, "victim", ["Running"]);
    const seen: { type: string; deleting: boolean; phase?: string }[] = [];
    const gone = new Promise<void>((resolve) => {
      void new k8s.Watch(kit.kc).watch(
        "/api/v1/namespaces/default/pods",
        { fieldSelector: "metadata.name=victim" },
        (type, obj: k8s.V1Pod) => {
          seen.push({ type, deleting: !!obj.metadata?.deletionTimestamp, phase: obj.status?.phase });
          if (type === "DELETED") resolve();
        },
        () => {},
      );
    });
    const res = await kit.core.deleteNamespacedPod({ name: "victim", namespace: "default" });
    expect(res.metadata?.deletionTimestamp).toBeTruthy();
    expect(res.metadata?.deletionGracePeriodSeconds).toBe(30);
    await gone;
    expect(seen[0]).toMatchObject({ type: "ADDED", deleting: false });
    expect(seen.some((e) => e.type === "MODIFIED" && e.deleting)).toBe(true);
    expect(seen.at(-1)?.type).toBe("DELETED");
    expect((await statusOf(kit.core.readNamespacedPod({ name: "victim", namespace: "default" }))).code).toBe(404);
  });

  it("deletes a collection by label selector", async () => {
    for (const n of ["coll-1", "coll-2"]) {
      await kit.core.createNamespacedPod({ namespace: "default", body: { ...podSpec(n, "test/sleep"), metadata: { name: n, labels: { coll: "yes" } } } });
    }
    await kit.core.deleteCollectionNamespacedPod({ namespace: "default", labelSelector: "coll=yes", gracePeriodSeconds: 0 });
    expect((await kit.core.listNamespacedPod({ namespace: "default", labelSelector: "coll=yes" })).items).toHaveLength(0);
  });
});

describe("watch", () => {
  it("replays events after a resourceVersion and then streams new ones", async () => {
    const list = await kit.core.listNamespacedConfigMap({ namespace: "default" });
    const rv = list.metadata!.resourceVersion!;
    await kit.core.createNamespacedConfigMap({ namespace: "default", body: { metadata: { name: "w1" }, data: { a: "1" } } });
    await kit.core.patchNamespacedConfigMap(
      { name: "w1", namespace: "default", body: { data: { a: "2" } } },
      k8s.setHeaderOptions("Content-Type", k8s.PatchStrategy.MergePatch),
    );
    const events: string[] = [];
    const rvs: number[] = [];
    const done = new Promise<void>((resolve) => {
      void new k8s.Watch(kit.kc).watch("/api/v1/namespaces/default/configmaps", { resourceVersion: rv }, (type, obj: k8s.V1ConfigMap) => {
        events.push(`${type} ${obj.metadata?.name} ${obj.data?.a ?? ""}`);
        rvs.push(Number(obj.metadata?.resourceVersion));
        if (type === "DELETED") resolve();
      }, () => {});
    });
    await new Promise((r) => setTimeout(r, 50));
    await kit.core.deleteNamespacedConfigMap({ name: "w1", namespace: "default" });
    await done;
    expect(events).toEqual(["ADDED w1 1", "MODIFIED w1 2", "DELETED w1 2"]);
    expect([...rvs].sort((a, b) => a - b)).toEqual(rvs);
  });

  it("answers a too old resourceVersion with an ERROR event carrying 410 Expired", async () => {
    const small = await startKit({ historyLimit: 3 });
    try {
      const rv = (await small.core.listNamespacedConfigMap({ namespace: "default" })).metadata!.resourceVersion!;
      for (let i = 0; i < 5; i++) await small.core.createNamespacedConfigMap({ namespace: "default", body: { metadata: { name: `c${i}` } } });
      const got = await new Promise<{ type: string; obj: k8s.V1Status }>((resolve) => {
        void new k8s.Watch(small.kc).watch("/api/v1/namespaces/default/configmaps", { resourceVersion: rv }, (type, obj) => resolve({ type, obj }), () => {});
      });
      expect(got.type).toBe("ERROR");
      expect(got.obj).toMatchObject({ kind: "Status", code: 410, reason: "Expired" });
      expect(got.obj.message).toMatch(/^too old resource version: \d+ \(\d+\)$/);
    } finally {
      await small.close();
    }
  });

  it("turns MODIFIED into ADDED/DELETED when an object enters or leaves the label selector, and ends at timeoutSeconds", async () => {
    await kit.core.createNamespacedConfigMap({ namespace: "default", body: { metadata: { name: "lab", labels: { stage: "a" } } } });
    const events: string[] = [];
    const startRv = (await kit.core.readNamespacedConfigMap({ name: "lab", namespace: "default" })).metadata!.resourceVersion!;
    const ended = new Promise<unknown>((resolve) => {
      void new k8s.Watch(kit.kc).watch(
        "/api/v1/namespaces/default/configmaps",
        { labelSelector: "stage=b", timeoutSeconds: 1, resourceVersion: startRv },
        (type) => events.push(type),
        resolve,
      );
    });
    const patch = (stage: string) =>
      kit.core.patchNamespacedConfigMap({ name: "lab", namespace: "default", body: { metadata: { labels: { stage } } } }, k8s.setHeaderOptions("Content-Type", k8s.PatchStrategy.MergePatch));
    await new Promise((r) => setTimeout(r, 50));
    await patch("b");
    await patch("c");
    const started = Date.now();
    expect(await ended).toBeNull();
    expect(Date.now() - started).toBeLessThan(1500);
    expect(events).toEqual(["ADDED", "DELETED"]);
  });
});

describe("watch bookmarks", () => {
  it("sends the initial state, then a bookmark marking its end, with sendInitialEvents and allowWatchBookmarks", async () => {
    await kit.core.createNamespacedConfigMap({ namespace: "default", body: { metadata: { name: "bm", labels: { bm: "1" } } } });
    const got = await new Promise<{ type: string; obj: k8s.V1ConfigMap }[]>((resolve) => {
      const seen: { type: string; obj: k8s.V1ConfigMap }[] = [];
      void new k8s.Watch(kit.kc).watch(
        "/api/v1/namespaces/default/configmaps",
        { labelSelector: "bm=1", sendInitialEvents: true, allowWatchBookmarks: true, resourceVersionMatch: "NotOlderThan", timeoutSeconds: 1 },
        (type, obj) => seen.push({ type, obj }),
        () => resolve(seen),
      );
    });
    expect(got.map((e) => e.type)).toEqual(["ADDED", "BOOKMARK"]);
    expect(got[1].obj.metadata?.annotations).toEqual({ "k8s.io/initial-events-end": "true" });
    expect(Number(got[1].obj.metadata?.resourceVersion)).toBeGreaterThanOrEqual(Number(got[0].obj.metadata?.resourceVersion));
  });
});

describe("secrets and configmaps", () => {
  it("stores stringData as base64 data and hands both to the node for env and volumes", async () => {
    const s = await kit.core.createNamespacedSecret({ namespace: "default", body: { metadata: { name: "creds" }, stringData: { token: "s3cret" } } });
    expect(s.data).toEqual({ token: Buffer.from("s3cret").toString("base64") });
    expect(s.type).toBe("Opaque");
    await kit.core.createNamespacedConfigMap({ namespace: "default", body: { metadata: { name: "conf" }, data: { "app.conf": "x=1" } } });
    const updated = await kit.core.replaceNamespacedConfigMap({ name: "conf", namespace: "default", body: { metadata: { name: "conf" }, data: { "app.conf": "x=2" } } });
    expect(updated.data?.["app.conf"]).toBe("x=2");
    await kit.core.createNamespacedPod({
      namespace: "default",
      body: podSpec(
        "envpod",
        "test/env",
        { env: [{ name: "TOKEN", valueFrom: { secretKeyRef: { name: "creds", key: "token" } } }], volumeMounts: [{ name: "c", mountPath: "/etc/conf" }] },
        { volumes: [{ name: "c", configMap: { name: "conf" } }] },
      ),
    });
    await waitPhase(kit, "envpod", ["Succeeded"]);
    const log = await kit.core.readNamespacedPodLog({ name: "envpod", namespace: "default" });
    expect(log).toContain("TOKEN=s3cret\n");
    expect(log).toContain("/etc/conf/app.conf: x=2\n");
    await kit.core.deleteNamespacedSecret({ name: "creds", namespace: "default" });
    expect((await statusOf(kit.core.readNamespacedSecret({ name: "creds", namespace: "default" }))).code).toBe(404);
  });

  it("holds a pod in CreateContainerConfigError while its Secret is missing, and starts it once it exists", async () => {
    await kit.core.createNamespacedPod({
      namespace: "default",
      body: podSpec("needs-secret", "test/echo", { env: [{ name: "X", valueFrom: { secretKeyRef: { name: "later", key: "k" } } }] }),
    });
    const waiting = await waitFor(async () => {
      const p = await kit.core.readNamespacedPod({ name: "needs-secret", namespace: "default" });
      return p.status?.containerStatuses?.[0]?.state?.waiting?.reason === "CreateContainerConfigError" ? p : undefined;
    }, "CreateContainerConfigError");
    expect(waiting.status!.containerStatuses![0].state!.waiting!.message).toBe('secret "later" not found');
    await kit.core.createNamespacedSecret({ namespace: "default", body: { metadata: { name: "later" }, stringData: { k: "v" } } });
    await waitPhase(kit, "needs-secret", ["Succeeded"]);
  });
});
