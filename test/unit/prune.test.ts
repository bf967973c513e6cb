import { describe, expect, it } from "vitest";
import { selectForPrune, type BuildSummary } from "../../core/index.js";

const NOW = Date.parse("2026-11-23T12:00:00Z");
const min = 60_000;
const b = (name: string, build: string, state: BuildSummary["state"], agoMin: number, client?: string): BuildSummary =>
  ({ kind: "job", name, build, state, time: NOW - agoMin * min, client });

describe("selectForPrune", () => {
  const builds = [
    b("api-1", "api", "succeeded", 50), b("api-2", "api", "succeeded", 40), b("api-3", "api", "succeeded", 30),
    b("api-4", "api", "failed", 45), b("api-5", "api", "failed", 5), b("api-6", "api", "running", 1),
    b("web-1", "web", "succeeded", 100),
  ];
  const names = (ds: { build: BuildSummary }[]) => ds.map((d) => d.build.name).sort();

  it("keeps the newest N successful and N failed of each build name", () => {
    expect(names(selectForPrune(builds, { keepSuccessful: 1, keepFailed: 1, olderThan: 0, orphans: false }, NOW, "ci-1", () => true)))
      .toEqual(["api-1", "api-2", "api-4"]);
  });

  it("spares builds younger than the minimum age", () => {
    expect(names(selectForPrune(builds, { keepSuccessful: 1, keepFailed: 0, olderThan: 42 * 60, orphans: false }, NOW, "ci-1", () => true)))
      .toEqual(["api-1", "api-4"]);
  });

  it("never touches running builds unless they are orphans of a process on this host", () => {
    const running = [b("a-1", "a", "running", 10, "ci-1/100"), b("a-2", "a", "running", 10, "ci-1/200"), b("a-3", "a", "running", 10, "ci-2/100"), b("a-4", "a", "running", 10)];
    const picked = selectForPrune(running, { keepSuccessful: 0, keepFailed: 0, olderThan: 0, orphans: true }, NOW, "ci-1", (pid) => pid === 200);
    expect(names(picked)).toEqual(["a-1"]);
    expect(picked[0].why).toBe("orphaned: its client ci-1/100 has exited");
    expect(selectForPrune(running, { keepSuccessful: 0, keepFailed: 0, olderThan: 0, orphans: false }, NOW, "ci-1", () => false)).toEqual([]);
  });
});
