// Following a build on the real cluster: every log line exactly once and in order, through a quiet spell, and
// again from a finished build. (Faults injected on purpose: faults.test.ts.)
import { describe, expect, it } from "vitest";
import { build, image, tc } from "./kit.js";
import { ALL, chatty, expectWholeLogAgain, missing, numbered } from "./numbered.js";

describe("following a quiet build", () => {
  it("a build quiet for 40 s is followed to its end", async () => {
    const { result, lines } = await build({
      source: { dockerfile: `FROM ${tc().busybox}\nRUN echo before && sleep 40 && echo after\n` },
      output: { image: image("follow:quiet") },
    });
    expect(result.status, result.message).toBe("Complete");
    const text = lines.build.join("\n");
    expect(text).toMatch(/before[\s\S]*after/);
  }, 120_000);
});

describe("following a build that has finished", () => {
  it("reads the whole log again, every line once and in order, with the same result", async () => {
    const first = await build({ source: chatty(), output: { image: image("follow:after") } });
    expect(first.result.status, first.result.message).toBe("Complete");
    expect(numbered(first.lines.build), missing(numbered(first.lines.build))).toEqual(ALL);
    await expectWholeLogAgain(first.result);
  });
});
