// A build that prints numbered lines, and the checks that each arrived exactly once and in order.
import { expect } from "vitest";
import { findBuild, followBuild, type BuildResult, type Cluster } from "../../core/index.js";
import { cluster, tc } from "./kit.js";

export const COUNT = 3000;
/** A build step printing numbered lines, pausing now and then so that faults land mid-stream. */
export const chatty = () => ({
  dockerfile: `FROM ${tc().busybox}\nRUN i=0; while [ $i -lt ${COUNT} ]; do i=$((i+1)); echo "line $i of ${COUNT}"; if [ $((i % 600)) -eq 0 ]; then sleep 1; fi; done\n`,
});

export const ALL: number[] = Array.from({ length: COUNT }, (_, i) => i + 1);

export function missing(got: number[]): string {
  const seen = new Set(got);
  const lost = ALL.filter((n) => !seen.has(n));
  const twice = got.filter((n, i) => got.indexOf(n) !== i);
  return `lost ${JSON.stringify(lost.slice(0, 20))}, repeated ${JSON.stringify(twice.slice(0, 20))}`;
}

export function numbered(lines: string[] | undefined): number[] {
  return (lines ?? []).map((l) => /^line (\d+) of \d+$/.exec(l)).filter((m) => m !== null).map((m) => Number(m![1]));
}

/** Follows a finished chatty build again: the same result, and every line once and in order. */
export async function expectWholeLogAgain(first: BuildResult, through?: Cluster): Promise<void> {
  const c = through ?? await cluster();
  const handle = await findBuild(c, first.run, "default");
  expect(handle).toBeDefined();
  const lines: string[] = [];
  const again = await followBuild(c, handle!, { onLog: (name, l) => name === "build" && lines.push(l.text) });
  expect(again.status).toBe("Complete");
  expect(again.digest).toBe(first.digest);
  expect(numbered(lines), missing(numbered(lines))).toEqual(ALL);
}
