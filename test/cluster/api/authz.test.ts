// Authentication and the configurable policy: selfsubjectaccessreviews and 403 Forbidden bodies.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { k8s, podSpec, request, startKit, statusOf, type Kit } from "./testkit.js";

let kit: Kit;
beforeAll(async () => {
  kit = await startKit({
    policy: {
      rules: [
        { verbs: ["get", "list", "watch", "create", "delete"], resources: ["pods", "pods/log"], namespaces: ["builds"] },
        { verbs: ["create"], apiGroups: ["authorization.k8s.io"], resources: ["selfsubjectaccessreviews"] },
      ],
    },
  });
});
afterAll(async () => {
  await kit.close();
});

const review = (attrs: k8s.V1ResourceAttributes) =>
  kit.kc.makeApiClient(k8s.AuthorizationV1Api).createSelfSubjectAccessReview({ body: { spec: { resourceAttributes: attrs } } });

describe("authorization", () => {
  it("answers selfsubjectaccessreviews from the policy", async () => {
    expect((await review({ verb: "create", resource: "pods", namespace: "builds" })).status?.allowed).toBe(true);
    expect((await review({ verb: "get", resource: "pods", subresource: "log", namespace: "builds" })).status?.allowed).toBe(true);
    expect((await review({ verb: "create", resource: "pods", subresource: "exec", namespace: "builds" })).status?.allowed).toBe(false);
    expect((await review({ verb: "create", resource: "pods", namespace: "other" })).status?.allowed).toBe(false);
    expect((await review({ verb: "create", resource: "jobs", group: "batch", namespace: "builds" })).status?.allowed).toBe(false);
  });

  it("enforces the policy with 403 bodies worded as the real server words them", async () => {
    const pods = await statusOf(kit.core.createNamespacedPod({ namespace: "x", body: podSpec("p", "test/echo") }));
    expect(pods).toMatchObject({
      code: 403,
      reason: "Forbidden",
      message: 'pods is forbidden: User "system:serviceaccount:ci:builder" cannot create resource "pods" in API group "" in the namespace "x"',
      details: { kind: "pods" },
    });
    const job = await statusOf(kit.batch.readNamespacedJob({ name: "j", namespace: "builds" }));
    expect(job.message).toBe('jobs.batch "j" is forbidden: User "system:serviceaccount:ci:builder" cannot get resource "jobs" in API group "batch" in the namespace "builds"');
    const ns = await statusOf(kit.core.listNamespace());
    expect(ns.message).toBe('namespaces is forbidden: User "system:serviceaccount:ci:builder" cannot list resource "namespaces" in API group "" at the cluster scope');
  });

  it("can change the policy at run time", async () => {
    kit.server.policy.rules!.push({ verbs: ["*"], resources: ["*"] });
    expect((await review({ verb: "create", resource: "jobs", group: "batch", namespace: "anywhere" })).status?.allowed).toBe(true);
    kit.server.policy.rules!.pop();
    expect((await review({ verb: "create", resource: "jobs", group: "batch", namespace: "anywhere" })).status?.allowed).toBe(false);
  });

  it("answers 401 without a valid bearer token", async () => {
    const res = await request(kit, "GET", "/api/v1/namespaces/default/pods", { token: "wrong" });
    expect(res.status).toBe(401);
    expect(JSON.parse(res.body)).toMatchObject({ kind: "Status", code: 401, reason: "Unauthorized", message: "Unauthorized" });
  });
});
