// followLog against a log server emulated in memory: sinceTime at whole seconds, many lines sharing one
// timestamp (as container runtimes write bursts), and streams cut mid-line, with or without an error.
import { describe, expect, it } from "vitest";
import type { Cluster } from "../../core/index.js";
import { followLog } from "../../core/logstream.js";

interface Entry { ts: string; text: string }

function logServer(entries: Entry[], cuts: { afterBytes: number; error: boolean }[]) {
  let calls = 0;
  const fake = {
    async streamLog(_ns: string, _pod: string, _c: string, opts: { sinceTime?: string }, onChunk: (b: Buffer) => void) {
      calls++;
      const since = opts.sinceTime ? Date.parse(opts.sinceTime) : -Infinity;
      const text = entries.filter((e) => Date.parse(e.ts) >= since).map((e) => `${e.ts} ${e.text}\n`).join("");
      const cut = cuts.shift();
      const body = Buffer.from(cut ? text.slice(0, cut.afterBytes) : text);
      for (let i = 0; i < body.length; i += 1000) onChunk(body.subarray(i, i + 1000));
      if (cut?.error) throw Object.assign(new Error("the stream was cut"), {});
    },
  };
  return { cluster: fake as unknown as Cluster, calls: () => calls };
}

function burstLog(n: number): Entry[] {
  // 300 lines per timestamp, 600 per second.
  return Array.from({ length: n }, (_, i) => {
    const second = Math.floor(i / 600);
    const half = Math.floor((i % 600) / 300);
    return { ts: `2026-11-23T10:00:${String(second).padStart(2, "0")}.${half ? "5" : "1"}00000000+00:00`, text: `line ${i + 1}` };
  });
}

async function follow(entries: Entry[], cuts: { afterBytes: number; error: boolean }[]) {
  const server = logServer(entries, cuts);
  const got: string[] = [];
  await followLog(server.cluster, { namespace: "ns", pod: "p", container: "build" }, {
    terminated: () => true,
    changed: () => new Promise((r) => setTimeout(r, 1)),
    onLine: (l) => got.push(l.text),
    signal: new AbortController().signal,
  });
  return { got, calls: server.calls() };
}

describe("followLog", () => {
  const log = burstLog(3000);
  const all = log.map((e) => e.text);

  it("reads a finished container's log with one confirming read", async () => {
    const { got, calls } = await follow(log, []);
    expect(got).toEqual(all);
    expect(calls).toBe(2);
  });

  for (const error of [false, true]) {
    it(`streams cut mid-line ${error ? "with" : "without"} an error lose and repeat nothing`, async () => {
      const cuts = [9000, 9001, 20_000, 33_333, 100, 5].map((afterBytes) => ({ afterBytes, error }));
      const { got } = await follow(log, cuts);
      expect(got).toEqual(all);
    });
  }

  it("a resumed stream cut before it passes what was already read", async () => {
    // The second stream restarts at the whole second and is cut inside lines already delivered.
    const { got } = await follow(log, [{ afterBytes: 30_000, error: false }, { afterBytes: 2000, error: false }, { afterBytes: 2000, error: false }]);
    expect(got).toEqual(all);
  });

  it("a last line without a newline is delivered once", async () => {
    const server = logServer([], []);
    (server.cluster as unknown as { streamLog: unknown }).streamLog = async (_a: string, _b: string, _c: string, _o: unknown, onChunk: (b: Buffer) => void) => {
      onChunk(Buffer.from("2026-11-23T10:00:00.1Z first\n2026-11-23T10:00:00.2Z no newline"));
    };
    const got: string[] = [];
    await followLog(server.cluster, { namespace: "ns", pod: "p", container: "c" }, {
      terminated: () => true, changed: async () => undefined, onLine: (l) => got.push(l.text), signal: new AbortController().signal,
    });
    expect(got).toEqual(["first", "no newline"]);
  });
});
