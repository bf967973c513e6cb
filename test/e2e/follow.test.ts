// Following a build on the real cluster: every log line exactly once and in order, through a quiet spell, and
// again from a finished build. (Faults injected on purpose: test/e2e-faults.)
import { describe, expect, it } from "vitest";
import { findBuild, followBuild } from "../../core/index.js";
import { build, cluster, image, tc } from "./kit.js";

const COUNT = 3000;
/** A build step printing numbered lines, pausing now and then so that faults land mid-stream. */
const chatty = () => ({
  dockerfile: `FROM ${tc().busybox}\nRUN i=0; while [ $i -lt ${COUNT} ]; do i=$((i+1)); echo "line $i of ${COUNT}"; if [ $((i % 600)) -eq 0 ]; then sleep 1; fi; done\n`,
});

const ALL: number[] = Array.from({ length: COUNT }, (_, i) => i + 1);

function missing(got: number[]): string {
  const seen = new Set(got);
  const lost = ALL.filter((n) => !seen.has(n));
  const twice = got.filter((n, i) => got.indexOf(n) !== i);
  return `lost ${JSON.stringify(lost.slice(0, 20))}, repeated ${JSON.stringify(twice.slice(0, 20))}`;
}

function numbered(lines: string[] | undefined): number[] {
  return (lines ?? []).map((l) => /^line (\d+) of \d+$/.exec(l)).filter((m) => m !== null).map((m) => Number(m![1]));
}


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
    const c = await cluster();
    const handle = await findBuild(c, first.result.run, "default");
    expect(handle).toBeDefined();
    const lines: string[] = [];
    const again = await followBuild(c, handle!, { onLog: (name, l) => name === "build" && lines.push(l.text) });
    expect(again.status).toBe("Complete");
    expect(again.digest).toBe(first.result.digest);
    expect(numbered(lines), missing(numbered(lines))).toEqual(ALL);
  });
});
