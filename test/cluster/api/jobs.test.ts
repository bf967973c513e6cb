// The job controller and pod deadlines, through client-node's BatchV1Api.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { codeOf, k8s, startKit, statusOf, waitFor, type Kit } from "./testkit.js";

let kit: Kit;
beforeAll(async () => {
  kit = await startKit();
});
afterAll(async () => {
  await kit.close();
});

function job(name: string, image: string, spec: Partial<k8s.V1JobSpec> = {}, args?: string[]): k8s.V1Job {
  return {
    metadata: { name },
    spec: {
      backoffLimit: 0,
      template: { metadata: { labels: { build: name } }, spec: { restartPolicy: "Never", containers: [{ name: "build", image, args }] } },
      ...spec,
    },
  };
}

const podsOf = async (name: string) => (await kit.core.listNamespacedPod({ namespace: "default", labelSelector: `job-name=${name}` })).items;

async function finished(name: string): Promise<k8s.V1Job> {
  return waitFor(async () => {
    const j = await kit.batch.readNamespacedJob({ name, namespace: "default" });
    return j.status?.conditions?.some((c) => (c.type === "Complete" || c.type === "Failed") && c.status === "True") ? j : undefined;
  }, `job ${name} finished`);
}

describe("jobs", () => {
  it("runs exactly one pod with the job's labels and owner reference, and reports Complete", async () => {
    const created = await kit.batch.createNamespacedJob({ namespace: "default", body: job("ok", "test/echo") });
    const uid = created.metadata!.uid!;
    expect(created.spec?.selector?.matchLabels).toEqual({ "batch.kubernetes.io/controller-uid": uid });
    expect(created.spec?.template.metadata?.labels).toMatchObject({ "job-name": "ok", "controller-uid": uid, "batch.kubernetes.io/job-name": "ok", "batch.kubernetes.io/controller-uid": uid, build: "ok" });
    const done = await finished("ok");
    expect(done.status?.conditions?.map((c) => [c.type, c.status, c.reason])).toEqual([
      ["SuccessCriteriaMet", "True", "CompletionsReached"],
      ["Complete", "True", "CompletionsReached"],
    ]);
    expect(done.status?.succeeded).toBe(1);
    expect(done.status?.failed).toBeUndefined();
    expect(done.status?.active).toBeUndefined();
    expect(done.status?.startTime).toBeInstanceOf(Date);
    expect(done.status?.completionTime).toBeInstanceOf(Date);
    const pods = await podsOf("ok");
    expect(pods).toHaveLength(1);
    const pod = pods[0];
    expect(pod.metadata?.name).toMatch(/^ok-[a-z0-9]{5}$/);
    expect(pod.metadata?.labels).toMatchObject({ "job-name": "ok", "controller-uid": uid, "batch.kubernetes.io/job-name": "ok", build: "ok" });
    expect(pod.metadata?.ownerReferences).toEqual([{ apiVersion: "batch/v1", kind: "Job", name: "ok", uid, controller: true, blockOwnerDeletion: true }]);
    expect(pod.status?.phase).toBe("Succeeded");
    const events = await kit.core.listNamespacedEvent({ namespace: "default", fieldSelector: "involvedObject.name=ok" });
    expect(events.items.map((e) => e.reason)).toEqual(expect.arrayContaining(["SuccessfulCreate", "Completed"]));
  });

  it("fails with BackoffLimitExceeded after one failed pod when backoffLimit is 0", async () => {
    await kit.batch.createNamespacedJob({ namespace: "default", body: job("bad", "test/fail-exit-3") });
    const done = await finished("bad");
    expect(done.status?.conditions?.map((c) => [c.type, c.reason, c.message])).toEqual([
      ["FailureTarget", "BackoffLimitExceeded", "Job has reached the specified backoff limit"],
      ["Failed", "BackoffLimitExceeded", "Job has reached the specified backoff limit"],
    ]);
    expect(done.status?.failed).toBe(1);
    expect(done.status?.completionTime).toBeUndefined();
    const pods = await podsOf("bad");
    expect(pods).toHaveLength(1);
    expect(pods[0].status?.containerStatuses?.[0].state?.terminated).toMatchObject({ exitCode: 3, reason: "Error" });
  });

  it("retries up to backoffLimit", async () => {
    await kit.batch.createNamespacedJob({ namespace: "default", body: job("retry", "test/fail-exit-1", { backoffLimit: 1 }) });
    const done = await finished("retry");
    expect(done.status?.failed).toBe(2);
    expect(await podsOf("retry")).toHaveLength(2);
  });

  it("enforces activeDeadlineSeconds: pod killed with reason DeadlineExceeded, job Failed DeadlineExceeded", async () => {
    await kit.batch.createNamespacedJob({ namespace: "default", body: job("slow", "test/sleep", { activeDeadlineSeconds: 1 }) });
    const done = await finished("slow");
    const failed = done.status!.conditions!.find((c) => c.type === "Failed")!;
    expect(failed).toMatchObject({ status: "True", reason: "DeadlineExceeded", message: "Job was active longer than specified deadline" });
    expect(done.status?.conditions?.some((c) => c.type === "FailureTarget")).toBe(true);
    const [pod] = await podsOf("slow");
    expect(pod.status).toMatchObject({ phase: "Failed", reason: "DeadlineExceeded", message: "Pod was active on the node longer than the specified deadline" });
    await waitFor(async () => (await podsOf("slow"))[0].status?.containerStatuses?.[0].state?.terminated, "container stopped");
    const events = await kit.core.listNamespacedEvent({ namespace: "default", fieldSelector: "involvedObject.name=slow,reason=DeadlineExceeded" });
    expect(events.items[0]?.type).toBe("Warning");
  });

  it("enforces a pod's own activeDeadlineSeconds", async () => {
    await kit.core.createNamespacedPod({ namespace: "default", body: { metadata: { name: "pod-deadline" }, spec: { activeDeadlineSeconds: 1, restartPolicy: "Never", containers: [{ name: "c", image: "test/sleep" }] } } });
    const pod = await waitFor(async () => {
      const p = await kit.core.readNamespacedPod({ name: "pod-deadline", namespace: "default" });
      return p.status?.phase === "Failed" ? p : undefined;
    }, "deadline");
    expect(pod.status?.reason).toBe("DeadlineExceeded");
  });

  it("deletes a finished job and its pod after ttlSecondsAfterFinished", async () => {
    // The TTL counts from the completion time, which has whole-second precision (as in Kubernetes): the job
    // may go up to a second early, so it is given three.
    await kit.batch.createNamespacedJob({ namespace: "default", body: job("ttl", "test/echo", { ttlSecondsAfterFinished: 3 }) });
    await finished("ttl");
    expect(await podsOf("ttl")).toHaveLength(1);
    await waitFor(async () => (await codeOf(kit.batch.readNamespacedJob({ name: "ttl", namespace: "default" }))) === 404, "job removed", 30_000);
    await waitFor(async () => (await podsOf("ttl")).length === 0, "pod removed");
  });

  it("deletes the pod with the job under Background and Foreground propagation, and orphans it by default", async () => {
    for (const n of ["bg", "fg", "orphan"]) await kit.batch.createNamespacedJob({ namespace: "default", body: job(n, "test/sleep") });
    await waitFor(async () => (await podsOf("bg")).length && (await podsOf("fg")).length && (await podsOf("orphan")).length, "pods");
    const st = await kit.batch.deleteNamespacedJob({ name: "bg", namespace: "default", propagationPolicy: "Background" });
    expect(st.status).toBe("Success");
    await waitFor(async () => (await podsOf("bg")).length === 0, "bg pod gone");
    await kit.batch.deleteNamespacedJob({ name: "fg", namespace: "default", propagationPolicy: "Foreground" });
    const fg = await kit.batch.readNamespacedJob({ name: "fg", namespace: "default" });
    expect(fg.metadata?.deletionTimestamp).toBeTruthy();
    expect(fg.metadata?.finalizers).toContain("foregroundDeletion");
    await waitFor(async () => (await codeOf(kit.batch.readNamespacedJob({ name: "fg", namespace: "default" }))) === 404, "fg job gone");
    expect(await podsOf("fg")).toHaveLength(0);
    await kit.batch.deleteNamespacedJob({ name: "orphan", namespace: "default" });
    const [orphan] = await podsOf("orphan");
    expect(orphan.metadata?.ownerReferences).toBeUndefined();
    expect(orphan.metadata?.deletionTimestamp).toBeUndefined();
  });

  it("counts a pod deleted before it finished as failed, without replacing it past backoffLimit", async () => {
    await kit.batch.createNamespacedJob({ namespace: "default", body: job("cancelled", "test/sleep") });
    const [pod] = await waitFor(async () => {
      const pods = await podsOf("cancelled");
      return pods[0]?.status?.phase === "Running" ? pods : undefined;
    }, "running pod");
    await kit.core.deleteNamespacedPod({ name: pod.metadata!.name!, namespace: "default", gracePeriodSeconds: 0 });
    const done = await finished("cancelled");
    expect(done.status?.failed).toBe(1);
    expect(done.status?.conditions?.find((c) => c.type === "Failed")?.reason).toBe("BackoffLimitExceeded");
    expect(await podsOf("cancelled")).toHaveLength(0);
  });

  it("rejects a job without restartPolicy with 422", async () => {
    const body = job("norestart", "test/echo");
    delete body.spec!.template.spec!.restartPolicy;
    const st = await statusOf(kit.batch.createNamespacedJob({ namespace: "default", body }));
    expect(st).toMatchObject({ code: 422, reason: "Invalid" });
    expect(st.message).toBe('Job.batch "norestart" is invalid: spec.template.spec.restartPolicy: Required value: valid values: "OnFailure", "Never"');
  });
});
