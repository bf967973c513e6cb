import type { V1ContainerStatus, V1Pod } from "@kubernetes/client-node";
import { describe, expect, it } from "vitest";
import { PodTracker, slowStartMessage, type FollowEvent } from "../../core/index.js";

const T0 = Date.parse("2026-11-23T10:00:00Z");

function cs(name: string, state: V1ContainerStatus["state"]): V1ContainerStatus {
  return { name, image: `img/${name}`, imageID: "", ready: false, restartCount: 0, state };
}

function pod(phase: string, init: V1ContainerStatus[], main: V1ContainerStatus[], extra: Partial<V1Pod["status"]> = {}, node = "node-1"): V1Pod {
  return {
    metadata: { name: "app-abcde-x1", namespace: "default" },
    spec: { nodeName: node, containers: [{ name: "build", resources: { limits: { memory: "256Mi" } } }], initContainers: [{ name: "source" }] },
    status: { phase, initContainerStatuses: init, containerStatuses: main, ...extra },
  } as V1Pod;
}

const waiting = (reason: string, message?: string) => ({ waiting: { reason, message } });
const running = { running: { startedAt: new Date(T0) } };
const ok = { terminated: { exitCode: 0, reason: "Completed", startedAt: new Date(T0), finishedAt: new Date(T0 + 3000) } };
const failed = (exitCode: number, reason = "Error", message?: string) => ({ terminated: { exitCode, reason, message, startedAt: new Date(T0), finishedAt: new Date(T0 + 1000) } });

const done = (events: FollowEvent[]) => events.find((e) => e.type === "done") as Extract<FollowEvent, { type: "done" }> | undefined;
const progress = (events: FollowEvent[]) => events.filter((e) => e.type === "progress").map((e) => (e as { message: string }).message);

describe("PodTracker", () => {
  it("follows a build from pending to complete, logs in container order", () => {
    const t = new PodTracker({ createdAt: T0, startTimeout: 60 });
    const all: FollowEvent[] = [];
    all.push(...t.observe(pod("Pending", [], [], {}, ""), T0 + 100));
    expect(t.state).toBe("Pending");
    all.push(...t.observe(pod("Pending", [cs("source", waiting("PodInitializing"))], [cs("build", waiting("PodInitializing"))]), T0 + 500));
    all.push(...t.observe(pod("Pending", [cs("source", running)], [cs("build", waiting("PodInitializing"))]), T0 + 1000));
    expect(t.state).toBe("Running");
    all.push(...t.observe(pod("Running", [cs("source", ok)], [cs("build", running)]), T0 + 4000));
    all.push(...t.observe(pod("Succeeded", [cs("source", ok)], [cs("build", ok)]), T0 + 9000));
    expect(all.filter((e) => e.type === "logs")).toEqual([
      { type: "logs", container: "source", init: true },
      { type: "logs", container: "build", init: false },
    ]);
    expect(progress(all).join("\n")).toMatch(/scheduled on node node-1/);
    expect(done(all)?.outcome).toEqual({ status: "Complete", reason: "Completed", message: "the build completed" });
    expect(t.state).toBe("Done");
    expect(t.observe(pod("Succeeded", [cs("source", ok)], [cs("build", ok)]), T0 + 9500)).toEqual([]);
  });

  it("is done once every container has exited 0, before the kubelet reports the pod's phase", () => {
    const t = new PodTracker({ createdAt: T0, startTimeout: 60 });
    t.observe(pod("Running", [cs("source", ok)], [cs("build", running)]), T0 + 1000);
    expect(done(t.observe(pod("Running", [cs("source", ok)], [cs("build", ok)]), T0 + 4000))?.outcome.status).toBe("Complete");
    // A failure waits for the pod's phase: the pod's conditions then say whether it was disrupted.
    const f = new PodTracker({ createdAt: T0, startTimeout: 60 });
    expect(done(f.observe(pod("Running", [cs("source", ok)], [cs("build", failed(1))]), T0 + 4000))).toBeUndefined();
    expect(done(f.observe(pod("Failed", [cs("source", ok)], [cs("build", failed(1))]), T0 + 5000))?.outcome.reason).toBe("BuildFailed");
    // A container that restarts (restartPolicy Always) is never final while the pod runs.
    const always = pod("Running", [cs("source", ok)], [cs("build", ok)]);
    always.spec!.restartPolicy = "Always";
    expect(done(new PodTracker({ createdAt: T0, startTimeout: 60 }).observe(always, T0 + 4000))).toBeUndefined();
  });

  it("handles a pod first seen after it finished", () => {
    const t = new PodTracker({ createdAt: T0, startTimeout: 60 });
    const events = t.observe(pod("Succeeded", [cs("source", ok)], [cs("build", ok)]), T0 + 100);
    expect(events.filter((e) => e.type === "logs").map((e) => (e as { container: string }).container)).toEqual(["source", "build"]);
    expect(done(events)?.outcome.status).toBe("Complete");
  });

  it("classifies OOMKilled with the memory limit", () => {
    const t = new PodTracker({ createdAt: T0, startTimeout: 60 });
    const o = done(t.observe(pod("Failed", [cs("source", ok)], [cs("build", failed(137, "OOMKilled"))]), T0))!.outcome;
    expect(o).toMatchObject({ status: "Failed", reason: "OOMKilled", exitCode: 137, failedContainer: "build" });
    expect(o.message).toContain("limit 256Mi");
  });

  it("classifies a failed step with its exit code and message", () => {
    const t = new PodTracker({ createdAt: T0, startTimeout: 60 });
    const o = done(t.observe(pod("Failed", [cs("source", ok)], [cs("build", failed(2, "Error", "step 3/5 failed"))]), T0))!.outcome;
    expect(o).toMatchObject({ status: "Failed", reason: "BuildFailed", exitCode: 2, terminationMessage: "step 3/5 failed" });
    expect(o.message).toBe("container build failed with exit code 2: step 3/5 failed");
  });

  it("classifies a failed source step", () => {
    const t = new PodTracker({ createdAt: T0, startTimeout: 60 });
    const o = done(t.observe(pod("Failed", [cs("source", failed(1, "Error", "main is not a branch, tag or commit"))], [cs("build", waiting("PodInitializing"))]), T0))!.outcome;
    expect(o).toMatchObject({ status: "Failed", reason: "SourceFailed", failedContainer: "source" });
    expect(o.message).toContain("getting the source failed");
  });

  it("classifies a pod past its deadline and an evicted pod", () => {
    const a = new PodTracker({ createdAt: T0, startTimeout: 60 });
    expect(done(a.observe(pod("Failed", [cs("source", ok)], [cs("build", failed(137))], { reason: "DeadlineExceeded", message: "Pod was active on the node longer than the specified deadline" }), T0))!.outcome.reason).toBe("DeadlineExceeded");
    const b = new PodTracker({ createdAt: T0, startTimeout: 60 });
    expect(done(b.observe(pod("Failed", [cs("source", ok)], [cs("build", failed(137))], { reason: "Evicted", message: "low on ephemeral storage" }), T0))!.outcome).toMatchObject({ reason: "Evicted", status: "Failed" });
  });

  it("tells a build over its disk limit from other evictions, in each of the kubelet's words", () => {
    for (const message of [
      'Usage of EmptyDir volume "buildah-storage" exceeds the limit "64Mi". ',
      'Pod ephemeral local storage usage exceeds the total limit of containers 64Mi. ',
      'Container build exceeded its local ephemeral storage limit "64Mi". ',
    ]) {
      const t = new PodTracker({ createdAt: T0, startTimeout: 60 });
      const o = done(t.observe(pod("Failed", [cs("source", ok)], [cs("build", failed(137))], { reason: "Evicted", message }), T0))!.outcome;
      expect(o, message).toMatchObject({ status: "Failed", reason: "EphemeralStorageExceeded" });
      expect(o.message).toContain(message.trim());
      expect(o.message).toContain("--ephemeral-storage-limit");
    }
  });

  it("waits out a pull failure until the start deadline, then says why", () => {
    const t = new PodTracker({ createdAt: T0, startTimeout: 30 });
    const p = pod("Pending", [cs("source", waiting("ImagePullBackOff", 'Back-off pulling image "img/source"'))], [cs("build", waiting("PodInitializing"))]);
    const first = t.observe(p, T0 + 2000);
    expect(done(first)).toBeUndefined();
    expect(progress(first).join("\n")).toMatch(/waiting: ImagePullBackOff: container source cannot pull its image img\/source/);
    expect(progress(t.observe(p, T0 + 3000))).toEqual([]); // said once
    expect(t.tick(T0 + 29_000)).toEqual([]);
    const o = done(t.tick(T0 + 30_000))!.outcome;
    expect(o).toMatchObject({ status: "StartFailed", reason: "ImagePullBackOff" });
    expect(o.message).toMatch(/did not start within 30s: container source cannot pull/);
  });

  it("reports an unschedulable pod with the scheduler's words", () => {
    const t = new PodTracker({ createdAt: T0, startTimeout: 10 });
    t.observe(pod("Pending", [], [], { conditions: [{ type: "PodScheduled", status: "False", reason: "Unschedulable", message: "0/1 nodes are available: 1 Insufficient memory." }] }, ""), T0);
    const o = done(t.tick(T0 + 10_000))!.outcome;
    expect(o).toMatchObject({ status: "StartFailed", reason: "Unschedulable" });
    expect(o.message).toContain("0/1 nodes are available: 1 Insufficient memory.");
  });

  it("fails at once on an invalid image name", () => {
    const t = new PodTracker({ createdAt: T0, startTimeout: 300 });
    expect(done(t.observe(pod("Pending", [cs("source", waiting("InvalidImageName", "bad"))], []), T0))!.outcome).toMatchObject({ status: "StartFailed", reason: "InvalidImageName" });
  });

  it("fails at once on an image that is not there or not ours, as containerd words it; waits on a registry it cannot reach", () => {
    const notFound = 'failed to pull and unpack image "r:5000/x:1": failed to resolve reference "r:5000/x:1": r:5000/x:1: not found';
    const t = new PodTracker({ createdAt: T0, startTimeout: 300 });
    expect(done(t.observe(pod("Pending", [cs("source", waiting("ErrImagePull", `rpc error: code = NotFound desc = ${notFound}`))], []), T0))!.outcome)
      .toMatchObject({ status: "StartFailed", reason: "ErrImagePull", message: expect.stringMatching(/^the build cannot start: container source cannot pull its image img\/source: rpc error: code = NotFound/) });
    const denied = new PodTracker({ createdAt: T0, startTimeout: 300 });
    expect(done(denied.observe(pod("Pending", [cs("source", waiting("ErrImagePull", "failed to authorize: failed to fetch anonymous token: unexpected status: 401 Unauthorized"))], []), T0))?.outcome.status).toBe("StartFailed");
    const unreachable = new PodTracker({ createdAt: T0, startTimeout: 300 });
    expect(done(unreachable.observe(pod("Pending", [cs("source", waiting("ErrImagePull", "dial tcp 10.0.0.9:5000: connect: connection refused"))], []), T0))).toBeUndefined();
  });

  it("fails when the pod's events say a Secret it mounts does not exist", () => {
    const t = new PodTracker({ createdAt: T0, startTimeout: 300 });
    t.observe(pod("Pending", [cs("source", waiting("PodInitializing"))], []), T0);
    expect(t.podEvents([{ reason: "Scheduled", message: "assigned" }])).toEqual([]);
    expect(done(t.podEvents([{ reason: "FailedMount", message: 'MountVolume.SetUp failed for volume "source-secret" : secret "git-creds" not found' }]))!.outcome)
      .toMatchObject({ status: "StartFailed", reason: "SecretNotFound", message: expect.stringMatching(/^the build cannot start: secret "git-creds" not found in the build's namespace .*; create it, or name another$/) });
  });

  it("fails when a build secret's key is not in its Secret, or its Secret is missing from a projected volume", () => {
    const t = new PodTracker({ createdAt: T0, startTimeout: 300 });
    t.observe(pod("Pending", [cs("source", waiting("PodInitializing"))], []), T0);
    expect(done(t.podEvents([{ reason: "FailedMount", message: 'MountVolume.SetUp failed for volume "build-secrets" : references non-existent secret key: npmrc' }]))!.outcome)
      .toMatchObject({ status: "StartFailed", reason: "SecretKeyNotFound", message: expect.stringMatching(/has no key npmrc .*; add the key, or name another with key=KEY$/) });
    const u = new PodTracker({ createdAt: T0, startTimeout: 300 });
    u.observe(pod("Pending", [cs("source", waiting("PodInitializing"))], []), T0);
    expect(done(u.podEvents([{ reason: "FailedMount", message: 'MountVolume.SetUp failed for volume "build-secrets" : secrets "tokens" not found' }]))!.outcome)
      .toMatchObject({ status: "StartFailed", reason: "SecretNotFound", message: expect.stringContaining('secret "tokens" not found') });
  });

  describe("retries", () => {
    const disrupted = (reason: string) => ({ conditions: [{ type: "DisruptionTarget", status: "True", reason, message: `${reason} by the test` }] });
    const evicted = pod("Failed", [cs("source", ok)], [cs("build", failed(137))], disrupted("EvictionByEvictionAPI"));

    it("a disrupted pod with retries left: the next pod is followed from its start, and completes", () => {
      const t = new PodTracker({ createdAt: T0, startTimeout: 60, retries: 2 });
      t.observe(pod("Running", [cs("source", ok)], [cs("build", running)]), T0 + 1000);
      const out = t.observe(evicted, T0 + 5000);
      expect(out.filter((e) => e.type === "retry")).toEqual([{ type: "retry", attempt: 2 }]);
      expect(progress(out).join("\n")).toMatch(/attempt 1 of 3 ended: the build pod was disrupted: EvictionByEvictionAPI by the test; the Job starts attempt 2$/);
      expect(done(out)).toBeUndefined();
      expect([t.state, t.attempt, t.pod]).toEqual(["Waiting", 2, undefined]);
      // The next pod's containers are streamed again, from their start.
      const next = t.observe(pod("Running", [cs("source", ok)], [cs("build", running)]), T0 + 20_000);
      expect(next.filter((e) => e.type === "logs").map((e) => (e as { container: string }).container)).toEqual(["source", "build"]);
      expect(done(t.observe(pod("Succeeded", [cs("source", ok)], [cs("build", ok)]), T0 + 30_000))?.outcome.status).toBe("Complete");
    });

    it("the start deadline counts from the retry, not from the build's creation", () => {
      const t = new PodTracker({ createdAt: T0, startTimeout: 60, retries: 1 });
      t.observe(pod("Running", [cs("source", ok)], [cs("build", running)]), T0 + 1000);
      t.observe(evicted, T0 + 50_000);
      expect(done(t.tick(T0 + 100_000))).toBeUndefined();
      expect(done(t.tick(T0 + 111_000))?.outcome.reason).toBe("StartTimeout");
    });

    it("no retries left, or none asked for: the disruption is the outcome", () => {
      const t = new PodTracker({ createdAt: T0, startTimeout: 60, retries: 1 });
      t.observe(evicted, T0 + 1000);
      const last = t.observe({ ...evicted, metadata: { name: "app-abcde-x2" } }, T0 + 30_000);
      expect(done(last)?.outcome).toMatchObject({ status: "Failed", reason: "EvictionByEvictionAPI", disrupted: true });
      const none = new PodTracker({ createdAt: T0, startTimeout: 60 });
      expect(done(none.observe(evicted, T0 + 1000))?.outcome.reason).toBe("EvictionByEvictionAPI");
    });

    it("a disrupted pod whose build still succeeded within its grace period: complete, no retry", () => {
      const t = new PodTracker({ createdAt: T0, startTimeout: 60, retries: 1 });
      const out = t.observe(pod("Succeeded", [cs("source", ok)], [cs("build", ok)], disrupted("EvictionByEvictionAPI")), T0 + 1000);
      expect(done(out)?.outcome).toEqual({ status: "Complete", reason: "Completed", message: "the build completed" });
    });

    it("the build's own failure is never retried", () => {
      const t = new PodTracker({ createdAt: T0, startTimeout: 60, retries: 3 });
      expect(done(t.observe(pod("Failed", [cs("source", ok)], [cs("build", failed(2))]), T0 + 1000))?.outcome.reason).toBe("BuildFailed");
    });

    it("a Job that fails while the next pod is awaited (its deadline) makes no more: done with the Job's word", () => {
      const t = new PodTracker({ createdAt: T0, startTimeout: 60, retries: 1 });
      t.observe(evicted, T0 + 1000);
      expect(t.feed({ type: "job", job: { status: {} } })).toEqual([]);
      const out = t.feed({ type: "job", job: { spec: { activeDeadlineSeconds: 30 } as never, status: { conditions: [{ type: "Failed", status: "True", reason: "DeadlineExceeded", message: "Job was active longer than specified deadline" }] } } as never });
      expect(done(out)?.outcome).toMatchObject({ status: "Failed", reason: "DeadlineExceeded" });
    });
  });

  it("says when no pod appeared at all", () => {
    const t = new PodTracker({ createdAt: T0, startTimeout: 5 });
    expect(done(t.tick(T0 + 5000))!.outcome).toMatchObject({ status: "StartFailed", reason: "StartTimeout" });
  });

  it("a pod deleted under a running build is an error, not a success: at once for a bare pod, once its Job says nothing else", () => {
    const bare = new PodTracker({ createdAt: T0, startTimeout: 60, kind: "pod" });
    bare.observe(pod("Running", [cs("source", ok)], [cs("build", running)]), T0);
    expect(done(bare.deleted(T0 + 5000))!.outcome).toMatchObject({ status: "Error", reason: "Deleted" });
    const t = new PodTracker({ createdAt: T0, startTimeout: 60 });
    t.observe(pod("Running", [cs("source", ok)], [cs("build", running)]), T0);
    expect(t.deleted(T0 + 5000)).toEqual([{ type: "readJob" }]);
    expect(t.state).toBe("Settling");
    expect(t.tick(T0 + 600_000)).toEqual([]);
    expect(done(t.feed({ type: "job", job: { status: { conditions: [] } } }))!.outcome).toMatchObject({ status: "Error", reason: "Deleted" });
  });

  it("a started build does not time out on the start deadline", () => {
    const t = new PodTracker({ createdAt: T0, startTimeout: 5 });
    t.observe(pod("Pending", [cs("source", running)], []), T0 + 1000);
    expect(t.tick(T0 + 60_000)).toEqual([]);
  });
});

describe("PodTracker, a later container that cannot start", () => {
  it("fails the build at the start deadline counted from when the container got stuck", () => {
    const t = new PodTracker({ createdAt: T0, startTimeout: 20 });
    t.observe(pod("Pending", [cs("source", running)], [cs("build", waiting("PodInitializing"))]), T0 + 1000);
    const stuck = pod("Pending", [cs("source", ok)], [cs("build", waiting("ImagePullBackOff", 'Back-off pulling image "img/build"'))]);
    const first = t.observe(stuck, T0 + 60_000);
    expect(done(first)).toBeUndefined();
    expect(progress(first).join("\n")).toMatch(/waiting: ImagePullBackOff: container build cannot pull its image img\/build/);
    expect(t.tick(T0 + 79_000)).toEqual([]);
    const o = done(t.tick(T0 + 80_000))!.outcome;
    expect(o).toMatchObject({ status: "StartFailed", reason: "ImagePullBackOff" });
    expect(o.message).toMatch(/^container build did not start within 20s: container build cannot pull its image/);
  });

  it("forgets a cause that went away", () => {
    const t = new PodTracker({ createdAt: T0, startTimeout: 20 });
    t.observe(pod("Running", [cs("source", ok)], [cs("build", waiting("ErrImagePull"))]), T0 + 1000);
    t.observe(pod("Running", [cs("source", ok)], [cs("build", running)]), T0 + 5000);
    expect(t.tick(T0 + 100_000)).toEqual([]);
  });
});

describe("PodTracker, a container slow to start", () => {
  const slow = (events: FollowEvent[]) => events.filter((e) => e.type === "slowStart");

  it("asks once why the next container has not started after 3 s, and not for a quick start", () => {
    const t = new PodTracker({ createdAt: T0, startTimeout: 300 });
    t.observe(pod("Pending", [cs("source", waiting("PodInitializing"))], [cs("build", waiting("PodInitializing"))]), T0 + 100);
    expect(slow(t.tick(T0 + 2000))).toEqual([]);
    expect(slow(t.tick(T0 + 3200))).toEqual([{ type: "slowStart", container: "source", image: "img/source" }]);
    expect(slow(t.tick(T0 + 9000))).toEqual([]);
    // The source ran; the build container's image takes a while too.
    t.observe(pod("Running", [cs("source", ok)], [cs("build", waiting("ContainerCreating"))]), T0 + 10_000);
    expect(slow(t.tick(T0 + 11_000))).toEqual([]);
    expect(slow(t.tick(T0 + 13_100))).toEqual([{ type: "slowStart", container: "build", image: "img/build" }]);

    const quick = new PodTracker({ createdAt: T0, startTimeout: 300 });
    quick.observe(pod("Pending", [cs("source", waiting("PodInitializing"))], [cs("build", waiting("PodInitializing"))]), T0 + 100);
    quick.observe(pod("Running", [cs("source", running)], [cs("build", waiting("PodInitializing"))]), T0 + 1000);
    expect(slow(quick.tick(T0 + 5000))).toEqual([]);
  });

  it("not before the pod is scheduled, nor for a container stuck on an error (that has its own report)", () => {
    const t = new PodTracker({ createdAt: T0, startTimeout: 300 });
    t.observe(pod("Pending", [cs("source", waiting("PodInitializing"))], [], {}, ""), T0 + 100);
    expect(slow(t.tick(T0 + 5000))).toEqual([]);
    const u = new PodTracker({ createdAt: T0, startTimeout: 300 });
    u.observe(pod("Pending", [cs("source", waiting("ErrImagePull"))], []), T0 + 100);
    expect(slow(u.tick(T0 + 5000))).toEqual([]);
  });

  it("the events say what it waits for: the pull under way, else just starting", () => {
    const ev = (reason: string, message: string, c: string) => ({ reason, message, fieldPath: `spec.containers{${c}}` });
    expect(slowStartMessage("build", [ev("Scheduled", "x", "build"), ev("Pulling", 'Pulling image "registry.example.com/big:1"', "build")]))
      .toBe('build: pulling image "registry.example.com/big:1"');
    expect(slowStartMessage("build", [ev("Pulling", 'Pulling image "a"', "build"), ev("Pulled", "Successfully pulled", "build")])).toBe("build: starting");
    expect(slowStartMessage("build", [ev("Pulling", 'Pulling image "a"', "source")])).toBe("build: starting");
  });
});

describe("PodTracker, a container that cannot be created", () => {
  it("a missing Secret or ConfigMap (CreateContainerConfigError) fails the start at its deadline, saying what to create", () => {
    const t = new PodTracker({ createdAt: T0, startTimeout: 30 });
    const stuck = pod("Pending", [cs("source", waiting("CreateContainerConfigError", 'secret "git-credentials" not found'))], [cs("build", waiting("PodInitializing"))]);
    expect(progress(t.observe(stuck, T0 + 1000)).join("\n")).toMatch(/waiting: CreateContainerConfigError: container source cannot be created: secret "git-credentials" not found/);
    expect(done(t.tick(T0 + 29_000))).toBeUndefined();
    const end = done(t.tick(T0 + 30_500))!;
    expect(end.outcome).toMatchObject({ status: "StartFailed", reason: "CreateContainerConfigError" });
    expect(end.outcome.message).toMatch(/did not start within 30s: container source cannot be created: secret "git-credentials" not found\. Create the missing Secret or ConfigMap/);
  });
});
