// The command's printer: log lines that arrive in one turn of the event loop are one write; progress
// keeps its place among them.
import { setImmediate as nextTurn } from "node:timers/promises";
import { describe, expect, it } from "vitest";
import { printer } from "../../adapters/cli/commands.js";

function recorder() {
  const writes: [string, string][] = [];
  return { writes, io: { out: (s: string) => void writes.push(["out", s]), err: (s: string) => void writes.push(["err", s]) } };
}

const line = (text: string) => ({ time: "2026-12-04T15:00:00Z", text });

describe("printer", () => {
  it("writes the lines of one turn together, once the turn is over", async () => {
    const { writes, io } = recorder();
    const p = printer(io, "out");
    for (let i = 0; i < 1000; i++) {
      p.log("build", line(`line ${i}`));
      expect(p.afterBatch()).toBeUndefined();
    }
    expect(writes).toEqual([]);
    await nextTurn();
    expect(writes).toHaveLength(1);
    expect(writes[0][1].split("\n")).toHaveLength(1001);
    expect(writes[0][1]).toMatch(/^build  \| line 0\nbuild  \| line 1\n/);
    p.log("source", line("next turn"));
    await nextTurn();
    expect(writes.map((w) => w[1])).toEqual([writes[0][1], "source | next turn\n"]);
  });

  it("prints progress after the lines before it, and flushes what is left", async () => {
    const { writes, io } = recorder();
    const p = printer(io, "err");
    p.log("build", line("before"));
    p.progress("pushed");
    p.log("build", line("after"));
    p.flush();
    expect(writes).toEqual([["err", "build  | before\n"], ["err", "buildpod: pushed\n"], ["err", "build  | after\n"]]);
    await nextTurn();
    expect(writes).toHaveLength(3);
  });

  it("holds the stream while the output drains", async () => {
    let drained: () => void = () => undefined;
    const wait = new Promise<void>((r) => (drained = r));
    const p = printer({ out: () => undefined, err: () => undefined, drained: (s) => (s === "out" ? wait : undefined) }, "out");
    p.log("build", line("x"));
    const held = p.afterBatch();
    expect(held).toBe(wait);
    drained();
    await held;
  });
});
