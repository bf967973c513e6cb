// buildpod prune on the test cluster.
import { describe, expect, it } from "vitest";
import { listBuilds, pruneBuilds } from "../../core/index.js";
import { build, cluster, image, tc } from "./kit.js";

describe("prune", () => {
  it("deletes finished builds beyond the newest of each build name", async () => {
    const source = { dockerfile: `FROM ${tc().busybox}\nRUN true\n` };
    for (let i = 0; i < 3; i++) {
      const { result } = await build({ name: "prunable", source, output: { image: image("prune:1") } });
      expect(result.status).toBe("Complete");
    }
    const failed = await build({ name: "prunable", source: { dockerfile: `FROM ${tc().busybox}\nRUN false\n` }, output: { image: image("prune:1") } });
    expect(failed.result.status).toBe("Failed");
    const c = await cluster();
    const mine = async () => (await listBuilds(c, "default")).filter((b) => b.build === "prunable");
    expect((await mine()).length).toBe(4);
    const dry = await pruneBuilds(c, "default", { keepSuccessful: 1, keepFailed: 1, olderThan: 0, orphans: false, dryRun: true });
    expect(dry.filter((d) => d.build.build === "prunable").length).toBe(2);
    expect((await mine()).length).toBe(4);
    await pruneBuilds(c, "default", { keepSuccessful: 1, keepFailed: 1, olderThan: 0, orphans: false });
    const left = await mine();
    expect(left.map((b) => b.state).sort()).toEqual(["failed", "succeeded"]);
  });
});
