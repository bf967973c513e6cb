// The API server's words when it refuses a Job's pod, as a Kubernetes 1.37 cluster wrote them in the
// Job's FailedCreate events, read into a reason and what to do.
import { describe, expect, it } from "vitest";
import { PodTracker } from "../../core/pod-tracker.js";
import { podRefusal } from "../../core/refusal.js";

const said = {
  podSecurity: 'Error creating: pods "b-x7k2p" is forbidden: violates PodSecurity "baseline:latest": non-default capabilities (container "build" must not include "SETFCAP" in securityContext.capabilities.add)',
  quotaNeedsLimits: 'Error creating: pods "nolimits-2bng6" is forbidden: failed quota: q: must specify requests.cpu for: c',
  quotaTooSmall: 'Error creating: pods "overquota-jkjcc" is forbidden: exceeded quota: q, requested: limits.memory=1200Mi, used: limits.memory=0, limited: limits.memory=1Gi',
  quotaFull: 'Error creating: pods "full-9xq2z" is forbidden: exceeded quota: q, requested: limits.memory=600Mi, used: limits.memory=600Mi, limited: limits.memory=1Gi',
  noServiceAccount: 'Error creating: pods "nosa-" is forbidden: error looking up service account sweep/nosuch: serviceaccount "nosuch" not found',
  limitRange: 'Error creating: pods "toobig-wmb5r" is forbidden: maximum memory usage per Container is 1500Mi, but limit is 2Gi',
  webhook: 'Error creating: admission webhook "deny.example.com" denied the request: pods "b-1" is forbidden: no builds on Fridays',
  transient: "Error creating: Internal error occurred: resource quota evaluation timed out",
};

describe("podRefusal", () => {
  it("Pod Security: the level and the violation, and what to do", () => {
    expect(podRefusal(said.podSecurity)).toEqual({
      reason: "PodSecurity", permanent: true,
      message: expect.stringMatching(/^the namespace's Pod Security level baseline:latest refuses the build pod \(non-default capabilities .*SETFCAP.*\); use a builder that fits/),
    });
  });

  it("a quota that requires resources the build does not set", () => {
    expect(podRefusal(said.quotaNeedsLimits)).toMatchObject({ reason: "QuotaRequiresResources", permanent: true, message: expect.stringContaining("ResourceQuota q counts resources the build does not set (must specify requests.cpu for: c); set the build's resources") });
  });

  it("a quota smaller than the build: no wait helps; a full quota: waiting does", () => {
    expect(podRefusal(said.quotaTooSmall)).toMatchObject({ reason: "QuotaExceeded", permanent: true, message: expect.stringContaining("asks for limits.memory=1200Mi, more than the namespace's ResourceQuota q allows in all") });
    expect(podRefusal(said.quotaFull)).toMatchObject({ reason: "QuotaExceeded", permanent: false, message: expect.stringContaining("is full (requested: limits.memory=600Mi, used: limits.memory=600Mi") });
  });

  it("a missing service account, a LimitRange, an admission webhook", () => {
    expect(podRefusal(said.noServiceAccount)).toMatchObject({ reason: "ServiceAccountMissing", permanent: true, message: expect.stringContaining("the service account sweep/nosuch does not exist; create it, or set scheduling.serviceAccountName") });
    expect(podRefusal(said.limitRange)).toMatchObject({ reason: "LimitRange", permanent: true, message: expect.stringContaining("maximum memory usage per Container is 1500Mi, but limit is 2Gi") });
    expect(podRefusal(said.webhook)).toMatchObject({ reason: "PodForbidden", permanent: true, message: "the cluster refused the build pod: no builds on Fridays" });
  });

  it("an error that is not a refusal is not read as one", () => {
    expect(podRefusal(said.transient)).toBeUndefined();
  });
});

describe("PodTracker.jobEvents", () => {
  const at = 1_000_000;
  const failed = (message: string) => ({ reason: "FailedCreate", message });

  it("a refusal only a change can fix ends the build at once, before its start deadline", () => {
    const t = new PodTracker({ createdAt: at, startTimeout: 300 });
    const out = t.jobEvents([{ reason: "SuccessfulCreate", message: "" }, failed(said.noServiceAccount)], at + 1000);
    expect(out).toEqual([{ type: "done", outcome: { status: "StartFailed", reason: "ServiceAccountMissing", message: expect.stringMatching(/^the build pod could not be created: the service account sweep\/nosuch/) } }]);
  });

  it("a full quota is told once, and named when the start deadline passes", () => {
    const t = new PodTracker({ createdAt: at, startTimeout: 10 });
    expect(t.jobEvents([failed(said.quotaFull)], at + 1000)).toEqual([{ type: "progress", message: expect.stringMatching(/^\[1s\] waiting: QuotaExceeded: the namespace's ResourceQuota q is full/) }]);
    expect(t.jobEvents([failed(said.quotaFull), failed(said.quotaFull)], at + 3000)).toEqual([]);
    expect(t.tick(at + 9000)).toEqual([]);
    expect(t.tick(at + 10_000)).toEqual([{ type: "done", outcome: { status: "StartFailed", reason: "QuotaExceeded", message: expect.stringMatching(/^no build pod appeared within 10s: the namespace's ResourceQuota q is full/) } }]);
  });

  it("once the pod exists, the Job's old events say nothing", () => {
    const t = new PodTracker({ createdAt: at, startTimeout: 300 });
    t.observe({ metadata: { name: "b-1" }, status: { phase: "Pending" } }, at + 500);
    expect(t.jobEvents([failed(said.podSecurity)], at + 1000)).toEqual([]);
  });
});
