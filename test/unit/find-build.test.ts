// Finding a build by name: a Job made with --retries tells the follower the retries it has left.
import type { V1Job } from "@kubernetes/client-node";
import { describe, expect, it } from "vitest";
import { findBuild, type Cluster } from "../../core/index.js";

const withJob = (job: V1Job) => ({ readJob: async () => job, listPods: async () => ({ items: [] }) }) as unknown as Cluster;
const created = { name: "app-abcde", creationTimestamp: new Date("2026-12-03T10:00:00Z") };

describe("findBuild", () => {
  it("a Job with a pod failure policy: its backoffLimit less the pods that failed", async () => {
    const job = { metadata: created, spec: { backoffLimit: 3, podFailurePolicy: { rules: [] }, template: {} }, status: { failed: 1 } } as unknown as V1Job;
    expect(await findBuild(withJob(job), "app-abcde", "default")).toMatchObject({ kind: "job", retries: 2 });
  });

  it("a Job without one (no --retries) has none, whatever its backoffLimit", async () => {
    const job = { metadata: created, spec: { backoffLimit: 6, template: {} }, status: {} } as unknown as V1Job;
    expect(await findBuild(withJob(job), "app-abcde", "default")).toMatchObject({ kind: "job", retries: 0 });
  });
});
