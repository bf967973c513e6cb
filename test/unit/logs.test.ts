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
