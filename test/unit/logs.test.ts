import { describe, expect, it } from "vitest";
import { LogCursor } from "../../core/index.js";

const texts = (lines: { text: string }[]) => lines.map((l) => l.text);
const T = (s: number, ns = 0) => `2026-11-23T10:00:${String(s).padStart(2, "0")}.${String(ns).padStart(9, "0")}Z`;

describe("LogCursor", () => {
  it("delivers complete lines across chunk boundaries", () => {
    const c = new LogCursor();
    expect(c.nextStream()).toEqual({});
    expect(texts(c.push(`${T(1)} hel`))).toEqual([]);
    expect(texts(c.push(`lo\n${T(1, 5)} world\n${T(2)} `))).toEqual(["hello", "world"]);
    expect(texts(c.push(`again\n`))).toEqual(["again"]);
    expect(c.count).toBe(3);
  });

  it("resumes from the last second and skips what was already delivered", () => {
    const c = new LogCursor();
    c.nextStream();
    c.push(`${T(1, 100)} a\n${T(1, 200)} b\n`);
    c.end(false);
    expect(c.nextStream()).toEqual({ sinceTime: "2026-11-23T10:00:01Z" });
    expect(texts(c.push(`${T(1, 100)} a\n${T(1, 200)} b\n${T(1, 300)} c\n${T(2)} d\n`))).toEqual(["c", "d"]);
  });

  it("a resumed stream that no longer has the last lines delivered (the log rotated): the gap, once; none on a normal resume", () => {
    const c = new LogCursor();
    c.nextStream();
    c.push(`${T(1, 100)} a\n${T(1, 200)} b\n`);
    expect(c.takeGap()).toBeUndefined();
    c.end(false);
    c.nextStream();
    // The newest file starts at 10:00:04: b and whatever followed it before 04 are gone.
    expect(texts(c.push(`${T(4, 10)} x\n${T(4, 20)} y\n`))).toEqual(["x", "y"]);
    expect(c.takeGap()).toEqual({ after: T(1, 200), before: T(4, 10) });
    expect(c.takeGap()).toBeUndefined();
    c.end(false);
    c.nextStream();
    expect(texts(c.push(`${T(4, 20)} y\n${T(5)} z\n`))).toEqual(["z"]);
    expect(c.takeGap()).toBeUndefined();
  });

  it("keeps distinct lines that share a timestamp", () => {
    const c = new LogCursor();
    c.nextStream();
    c.push(`${T(3, 7)} same\n`);
    c.nextStream();
    expect(texts(c.push(`${T(3, 7)} same\n${T(3, 7)} same\n`))).toEqual(["same"]);
    expect(c.count).toBe(2);
  });

  it("reads a line cut mid-way again, once, on the next stream", () => {
    const c = new LogCursor();
    c.nextStream();
    expect(texts(c.push(`${T(1)} one\n${T(2)} tw`))).toEqual(["one"]);
    expect(c.end(false)).toEqual([]);
    c.nextStream();
    expect(texts(c.push(`${T(1)} one\n${T(2)} two\n`))).toEqual(["two"]);
  });

  it("a last line without a newline counts when the log is finished", () => {
    const c = new LogCursor();
    c.nextStream();
    c.push(`${T(1)} done`);
    expect(texts(c.end(true))).toEqual(["done"]);
  });

  it("compares timestamps by value, whatever their precision", () => {
    const c = new LogCursor();
    c.nextStream();
    c.push("2026-11-23T10:00:01.5Z a\n");
    c.nextStream();
    expect(texts(c.push("2026-11-23T10:00:01.12Z old\n2026-11-23T10:00:01.5Z a\n2026-11-23T10:00:01.51Z new\n"))).toEqual(["new"]);
  });

  it("reads zone offsets, and tells apart the same clock time in another zone", () => {
    const c = new LogCursor();
    c.nextStream();
    expect(texts(c.push("2026-11-23T10:00:01.5+00:00 a\n2026-11-23T10:00:01.6+01:00 b\n"))).toEqual(["a", "b"]);
    // b is at 09:00:01 UTC: a resumed stream starts at that second and skips it once.
    expect(c.nextStream()).toEqual({ sinceTime: "2026-11-23T09:00:01Z" });
    expect(texts(c.push("2026-11-23T10:00:01.6+01:00 b\n2026-11-23T09:00:01.7Z c\n"))).toEqual(["c"]);
  });

  it("takes what only looks like a timestamp for text", () => {
    const c = new LogCursor();
    c.nextStream();
    const lines = [
      "2026-11-23T10:00:01.1234567890Z ten digits", "2026-13-23T10:00:01Z no month 13", "2026-11-23T10:00:01 no zone",
      "2026-11-23T10:00:01.Z no digits", "2026-11-23T10:00:01.5+0100 short offset", "plain text",
    ];
    expect(texts(c.push(lines.map((l) => `${l}\n`).join("")))).toEqual(lines);
  });

  it("reads a line whose chunks are cut inside the timestamp and between CR and LF", () => {
    const c = new LogCursor();
    c.nextStream();
    const log = `${T(1, 5)} a\r\n${T(2, 6)} b\r\n${T(2, 7)} c\n`;
    // Every cut: in the stamps' fixed part, their fraction, the zone, the space, and between \r and \n.
    for (let cut = 1; cut < log.length; cut++) {
      const d = new LogCursor();
      d.nextStream();
      const lines = [...d.push(log.slice(0, cut)), ...d.push(log.slice(cut))];
      expect(lines, `cut at ${cut}`).toEqual([{ time: T(1, 5), text: "a" }, { time: T(2, 6), text: "b" }, { time: T(2, 7), text: "c" }]);
      expect(d.lastRaw).toBe(`${T(2, 7)} c`);
    }
    // A stamp in three chunks, the middle one without a newline.
    expect(c.push("2026-11-23T10:0")).toEqual([]);
    expect(c.push("0:01.1")).toEqual([]);
    expect(c.partial).toBe("2026-11-23T10:00:01.1");
    expect(c.push("Z x\r")).toEqual([]);
    expect(c.push("\n")).toEqual([{ time: "2026-11-23T10:00:01.1Z", text: "x" }]);
    expect(c.lastRaw).toBe("2026-11-23T10:00:01.1Z x");
  });

  it("a stamp with no text after it, and lines with no stamp among stamped ones", () => {
    const c = new LogCursor();
    c.nextStream();
    expect(c.push(`${T(1, 1)} \n${T(1, 2)}\nplain\r\n\n${T(1, 3)} z\n`)).toEqual([
      { time: T(1, 1), text: "" },
      // No space after it: the stamp is not one, the line is text at the last time.
      { time: T(1, 1), text: T(1, 2) },
      { time: T(1, 1), text: "plain" },
      { time: T(1, 1), text: "" },
      { time: T(1, 3), text: "z" },
    ]);
    c.push("plain again\r\n");
    expect(c.lastRaw).toBe("plain again");
    expect(c.isAtEnd("plain again\r\n", "")).toBe(true);
    expect(c.push(`${T(2)} \r\n`)).toEqual([{ time: T(2), text: "" }]);
    expect(c.lastRaw).toBe(`${T(2)} `);
    expect(c.isAtEnd(`${T(2)} \n`, "")).toBe(true);
    expect(c.isAtEnd(`${T(2)} x\n`, "")).toBe(false);
    expect(c.count).toBe(7);
  });

  it("checks every line's stamp in full, also among lines of the same second in one chunk", () => {
    const c = new LogCursor();
    c.nextStream();
    const bad = ["2026-11-23T10:0x:01.000000002Z b", "2x26-11-23T10:00:01.000000002Z b", "2026-11-23T10:00:01.00000000xZ b", "2026-11-23T10:00:01.000000002Zb"];
    const lines = [`${T(1, 1)} a`, ...bad.flatMap((b, i) => [b, `${T(1, 10 + i)} ok`])];
    expect(c.push(lines.map((l) => `${l}\n`).join(""))).toEqual([
      { time: T(1, 1), text: "a" },
      ...bad.flatMap((b, i) => [{ time: i === 0 ? T(1, 1) : T(1, 9 + i), text: b }, { time: T(1, 10 + i), text: "ok" }]),
    ]);
    // The same clock second in another zone, then another minute with the same seconds, in one chunk.
    expect(c.push(`2026-11-23T10:00:01.5+01:00 e\n2026-11-23T10:01:01Z f\n`)).toEqual([
      { time: "2026-11-23T10:00:01.5+01:00", text: "e" },
      { time: "2026-11-23T10:01:01Z", text: "f" },
    ]);
  });

  it("a resumed stream skips the lines already delivered at the last second, however its chunks are cut", () => {
    const all = [T(1, 1), T(1, 2), T(1, 2), T(1, 3), T(1, 3), T(1, 3), T(2)].map((t, i) => `${t} l${i}\n`).join("");
    for (let delivered = 1; delivered <= 6; delivered++) {
      for (const size of [1, 7, 40, all.length]) {
        const c = new LogCursor();
        c.nextStream();
        const first = c.push(all.split("\n").slice(0, delivered).map((l) => `${l}\n`).join(""));
        c.end(false);
        expect(c.nextStream()).toEqual({ sinceTime: "2026-11-23T10:00:01Z" });
        const rest: string[] = [];
        for (let i = 0; i < all.length; i += size) rest.push(...texts(c.push(all.slice(i, i + size))));
        expect([...texts(first), ...rest], `${delivered} delivered, chunks of ${size}`).toEqual(["l0", "l1", "l2", "l3", "l4", "l5", "l6"]);
        expect(c.takeGap()).toBeUndefined();
        expect(c.lastRaw).toBe(`${T(2)} l6`);
      }
    }
  });

  it("survives a server that ignores sinceTime and replays everything", () => {
    const c = new LogCursor();
    const all = Array.from({ length: 50 }, (_, i) => `${T(i % 60, i)} line ${i}\n`).join("");
    c.nextStream();
    const first = texts(c.push(all.slice(0, 700)));
    c.end(false);
    c.nextStream();
    const rest = texts(c.push(all));
    expect([...first, ...rest]).toEqual(Array.from({ length: 50 }, (_, i) => `line ${i}`));
  });
});
