import type { CoreV1Event } from "@kubernetes/client-node";
import { describe, expect, it } from "vitest";
import { JobWarnings, type WarningSource } from "../../core/job-warnings.js";
import type { ClusterEvent } from "../../core/follow-state.js";

const failedCreate = (job: string, message: string): CoreV1Event =>
  ({ metadata: { name: `${job}.1` }, involvedObject: { kind: "Job", name: job }, reason: "FailedCreate", message }) as CoreV1Event;

/** A source whose watch the test drives: send() delivers an event while a watch is open. */
function watchable(existing: CoreV1Event[] = []) {
  const opened: string[] = [];
  let send: ((e: CoreV1Event) => void) | undefined;
  let open = 0;
  const source: WarningSource = {
    async watch(namespace, on, signal) {
      opened.push(namespace);
      open++;
      for (const e of existing) on(e);
      send = on;
      await new Promise<void>((r) => signal.addEventListener("abort", () => r(), { once: true }));
      open--;
      send = undefined;
    },
    list: async () => { throw new Error("not expected: the watch works"); },
  };
  return { source, opened, send: (e: CoreV1Event) => send?.(e), open: () => open };
}

const tick = () => new Promise((r) => setTimeout(r, 0));

describe("JobWarnings: one watch of Job warnings per namespace for every waiting build", () => {
  it("opens one watch for many subscribers and hands each Job's events to its own subscriber", async () => {
    const w = watchable();
    const hub = new JobWarnings(w.source, 0);
    const heard: Record<string, ClusterEvent[]> = { a: [], b: [] };
    const offA = hub.subscribe("builds", "a", (e) => heard.a.push(...e));
    const offB = hub.subscribe("builds", "b", (e) => heard.b.push(...e));
    await tick();
    expect(w.opened).toEqual(["builds"]);
    w.send(failedCreate("a", "exceeded quota: small"));
    w.send(failedCreate("c", "someone else's"));
    expect(heard.a).toEqual([{ reason: "FailedCreate", message: "exceeded quota: small" }]);
    expect(heard.b).toEqual([]);
    offA();
    expect(hub.following).toBe(1);
    offB();
    await new Promise((r) => setTimeout(r, 5));
    expect(hub.following).toBe(0);
    expect(w.open()).toBe(0);
  });

  it("a build that subscribes after its Job's event came hears it", async () => {
    const w = watchable([failedCreate("late", "admission webhook denied the request")]);
    const hub = new JobWarnings(w.source, 0);
    const offFirst = hub.subscribe("builds", "first", () => {});
    await tick();
    const heard: ClusterEvent[] = [];
    const off = hub.subscribe("builds", "late", (e) => heard.push(...e));
    await tick();
    expect(heard).toEqual([{ reason: "FailedCreate", message: "admission webhook denied the request" }]);
    expect(w.opened).toHaveLength(1);
    off();
    offFirst();
  });

  it("an identity that may not watch events lists them instead, once per namespace, not once per build", async () => {
    let lists = 0;
    const hub = new JobWarnings({
      watch: async () => { throw new Error("events is forbidden: cannot watch"); },
      list: async () => {
        lists++;
        return [failedCreate("a", "exceeded quota: small")];
      },
    }, 0);
    const heard: ClusterEvent[] = [];
    const offs = ["a", "b", "c"].map((job) => hub.subscribe("builds", job, (e) => job === "a" && heard.push(...e)));
    await tick();
    await tick();
    expect(lists).toBe(1);
    expect(heard).toEqual([{ reason: "FailedCreate", message: "exceeded quota: small" }]);
    for (const off of offs) off();
    await new Promise((r) => setTimeout(r, 5));
    expect(hub.following).toBe(0);
  });

  it("ignores events that are not a Job's FailedCreate", async () => {
    const w = watchable();
    const hub = new JobWarnings(w.source, 0);
    const heard: ClusterEvent[] = [];
    const off = hub.subscribe("builds", "a", (e) => heard.push(...e));
    await tick();
    w.send({ ...failedCreate("a", "x"), reason: "SuccessfulCreate" });
    expect(heard).toEqual([]);
    off();
  });

  it("a namespace stays followed a while after its last waiting build, for the next wave to reuse", async () => {
    const w = watchable();
    const hub = new JobWarnings(w.source, 50);
    hub.subscribe("builds", "a", () => {})();
    await tick();
    const off = hub.subscribe("builds", "b", () => {});
    off();
    expect(hub.following).toBe(1);
    await new Promise((r) => setTimeout(r, 80));
    expect(hub.following).toBe(0);
    expect(w.opened).toEqual(["builds"]);
  });
});
