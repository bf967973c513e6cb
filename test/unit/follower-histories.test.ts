// The follower's state machine driven by what a real cluster (the test cluster, Kubernetes 1.37) said of
// real builds: each build's pod and Job as their watches delivered them (test/unit/histories, recorded by
// histories/record.ts). A readJob effect is answered with the Job as last seen at that moment.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import type { V1Job, V1Pod } from "@kubernetes/client-node";
import { describe, expect, it } from "vitest";
import { initial, step, type FollowEvent, type FollowState } from "../../core/follower.js";

interface Snapshot {
  kind: "pod" | "job";
  type: "ADDED" | "MODIFIED" | "DELETED";
  object: V1Pod & V1Job;
}

const T0 = Date.parse("2026-12-03T11:00:00Z");

/** Replays a history; returns every state passed through and every effect, in order. */
function replay(name: string): { phases: string[]; effects: FollowEvent[]; last: FollowState } {
  const history = JSON.parse(readFileSync(join(import.meta.dirname, "histories", `${name}.json`), "utf8")) as Snapshot[];
  let s = initial({ createdAt: T0, startTimeout: 300, kind: "job" });
  let job: V1Job | undefined;
  const phases: string[] = [s.phase];
  const effects: FollowEvent[] = [];
  const feed = (input: Parameters<typeof step>[1]) => {
    const [next, out] = step(s, input);
    s = next;
    if (phases.at(-1) !== s.phase) phases.push(s.phase);
    effects.push(...out);
    if (out.some((e) => e.type === "readJob")) feed({ type: "job", job });
  };
  history.forEach((h, i) => {
    const now = T0 + 100 * (i + 1);
    if (h.kind === "job") job = h.object;
    else if (h.type === "DELETED") feed({ type: "deleted", now });
    else feed({ type: "pod", pod: h.object, now });
  });
  return { phases, effects, last: s };
}

const kinds = (effects: FollowEvent[]) => effects.filter((e) => e.type !== "progress").map((e) => (e.type === "logs" ? `logs:${e.container}` : e.type));

describe("the follower on recorded real builds", () => {
  it("a build that completes: Waiting, Pending, Running, Done; each container's log once, source first", () => {
    const { phases, effects, last } = replay("complete");
    expect(phases).toEqual(["Waiting", "Pending", "Running", "Done"]);
    expect(kinds(effects)).toEqual(["logs:source", "logs:build", "done"]);
    expect(last).toMatchObject({ phase: "Done", outcome: { status: "Complete", reason: "Completed" } });
  });

  it("a build past its deadline: the pod killed and deleted under the Job, which says why (FailureTarget)", () => {
    const { phases, effects, last } = replay("deadline");
    expect(phases).toEqual(["Waiting", "Pending", "Running", "Settling", "Done"]);
    expect(kinds(effects)).toEqual(["logs:source", "logs:build", "readJob", "done"]);
    expect(last).toMatchObject({ phase: "Done", outcome: { status: "Failed", reason: "DeadlineExceeded", message: expect.stringMatching(/^the build ran out of time \(10s\) and was stopped/) } });
  });

  it("a build out of memory: OOMKilled with its limit, decided by the pod alone", () => {
    const { phases, effects, last } = replay("oomkilled");
    expect(phases).toEqual(["Waiting", "Pending", "Running", "Done"]);
    expect(kinds(effects)).toEqual(["logs:source", "logs:build", "done"]);
    expect(last).toMatchObject({ phase: "Done", outcome: { status: "Failed", reason: "OOMKilled", failedContainer: "build", message: expect.stringContaining("(limit 96Mi)") } });
  });

  it("steps are pure: the same history twice gives the same states and effects", () => {
    expect(JSON.stringify(replay("deadline").effects)).toBe(JSON.stringify(replay("deadline").effects));
  });
});
