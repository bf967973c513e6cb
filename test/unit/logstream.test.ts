// followLog against a log server emulated in memory: sinceTime at whole seconds, many lines sharing one
// timestamp (as container runtimes write bursts), and streams cut mid-line, with or without an error.
import { describe, expect, it } from "vitest";
import type { Cluster } from "../../core/index.js";
import { followLog } from "../../core/logstream.js";

interface Entry { ts: string; text: string }

/** Log entries served as kubelet does: sinceTime at whole seconds, tailLines; the last entry may lack its newline. */
function logServer(entries: Entry[], cuts: { afterBytes: number; error: boolean }[], lastUnterminated = false, linger = 0) {
  let calls = 0;
  let closed = 0;
  const follows: boolean[] = [];
  const fake = {
    async streamLog(_ns: string, _pod: string, _c: string, opts: { follow?: boolean; sinceTime?: string; tailLines?: number; signal?: AbortSignal }, onChunk: (b: Buffer) => void) {
      calls++;
      if (opts.tailLines === undefined) follows.push(opts.follow === true);
      const since = opts.sinceTime ? Date.parse(opts.sinceTime) : -Infinity;
      const picked = entries.filter((e) => Date.parse(e.ts) >= since).slice(opts.tailLines === undefined ? 0 : -opts.tailLines);
      let text = picked.map((e) => `${e.ts} ${e.text}\n`).join("");
      if (lastUnterminated && picked.at(-1) === entries.at(-1)) text = text.slice(0, -1);
      const cut = opts.tailLines === undefined ? cuts.shift() : undefined;
      const body = Buffer.from(cut ? text.slice(0, cut.afterBytes) : text);
      for (let i = 0; i < body.length; i += 1000) onChunk(body.subarray(i, i + 1000));
      if (cut?.error) throw Object.assign(new Error("the stream was cut"), {});
      // A follow held open at the end of the log, as a kubelet holds it until it next finds the container stopped.
      if (linger && !cut && opts.tailLines === undefined) {
        await new Promise<void>((resolve) => {
          const timer = setTimeout(resolve, linger);
          opts.signal?.addEventListener("abort", () => (closed++, clearTimeout(timer), resolve()), { once: true });
        });
      }
    },
  };
  return { cluster: fake as unknown as Cluster, calls: () => calls, closed: () => closed, follows };
}

function burstLog(n: number): Entry[] {
  // 300 lines per timestamp, 600 per second.
  return Array.from({ length: n }, (_, i) => {
    const second = Math.floor(i / 600);
    const half = Math.floor((i % 600) / 300);
    return { ts: `2026-11-23T10:00:${String(second).padStart(2, "0")}.${half ? "5" : "1"}00000000+00:00`, text: `line ${i + 1}` };
  });
}

async function follow(entries: Entry[], cuts: { afterBytes: number; error: boolean }[], lastUnterminated = false, terminated = () => true, linger = 0) {
  const server = logServer(entries, cuts, lastUnterminated, linger);
  const got: string[] = [];
  await followLog(server.cluster, { namespace: "ns", pod: "p", container: "build" }, {
    terminated,
    changed: () => new Promise((r) => setTimeout(r, 1)),
    onLine: (l) => got.push(l.text),
    signal: new AbortController().signal,
  });
  return { got, calls: server.calls(), closed: server.closed(), follows: server.follows };
}

describe("followLog", () => {
  const log = burstLog(3000);
  const all = log.map((e) => e.text);

  it("reads an ended container's log plainly, a running one's followed", async () => {
    const ended = await follow(log, []);
    expect(ended.got).toEqual(all);
    expect(ended.follows).toEqual([false]);
    // Running until the first stream has been cut short, ended after.
    const server = logServer(log, [{ afterBytes: 40_000, error: false }]);
    const got: string[] = [];
    await followLog(server.cluster, { namespace: "ns", pod: "p", container: "build" }, {
      terminated: () => server.calls() > 0,
      changed: () => new Promise((r) => setTimeout(r, 1)),
      onLine: (l) => got.push(l.text),
      signal: new AbortController().signal,
    });
    const live = { got, follows: server.follows };
    expect(live.got).toEqual(all);
    expect(live.follows).toEqual([true, false]);
  });

  it("reads a finished container's log with one confirming read", async () => {
    const { got, calls } = await follow(log, []);
    expect(got).toEqual(all);
    expect(calls).toBe(2);
  });

  it("a stream open when the container ends is confirmed by the tail, not read again", async () => {
    // terminated() is false when the first stream starts and true by the time it ends.
    let asked = 0;
    const { got, calls } = await follow(log, [], false, () => ++asked > 1);
    expect(got).toEqual(all);
    expect(calls).toBe(2);
  });

  it("a stream that ended early as the container ended is resumed after the tail says so", async () => {
    let asked = 0;
    const { got, calls } = await follow(log, [{ afterBytes: 20_000, error: false }], false, () => ++asked > 1);
    expect(got).toEqual(all);
    expect(calls).toBe(4);
  });

  it("a stream held open after the container ended is closed once it has delivered the log's last line", async () => {
    // The pod says the container ended while its stream is open; the server would hold the stream a minute.
    let ended = false;
    setTimeout(() => (ended = true), 20);
    const { got, calls, closed } = await follow(log, [], false, () => ended, 60_000);
    expect(got).toEqual(all);
    expect(closed).toBe(1);
    expect(calls).toBe(2);
  });

  it("a held stream whose last line has no newline ends by itself, the line delivered once", async () => {
    const entries = [{ ts: "2026-11-23T10:00:00.1Z", text: "first" }, { ts: "2026-11-23T10:00:00.2Z", text: "no newline" }];
    const { got, closed } = await follow(entries, [], true, () => true, 50);
    expect(got).toEqual(["first", "no newline"]);
    expect(closed).toBe(0);
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

  it("streams that end cleanly at the same place again and again are not taken for the end", async () => {
    // A clean end mid-line, twice at the same offset, looks like a last line without a newline; and a
    // clean end just after the lines already read looks like nothing new. Only the log's tail says which.
    const stuck = Array.from({ length: 4 }, () => ({ afterBytes: 9000, error: false }));
    const { got } = await follow(log, stuck);
    expect(got).toEqual(all);
    const atBoundary = log.slice(0, 300).map((e) => `${e.ts} ${e.text}\n`).join("").length;
    const { got: again } = await follow(log, Array.from({ length: 4 }, () => ({ afterBytes: atBoundary, error: false })));
    expect(again).toEqual(all);
  });

  it("a last line without a newline is delivered once", async () => {
    const entries = [{ ts: "2026-11-23T10:00:00.1Z", text: "first" }, { ts: "2026-11-23T10:00:00.2Z", text: "no newline" }];
    const { got } = await follow(entries, [], true);
    expect(got).toEqual(["first", "no newline"]);
    const { got: cut } = await follow(entries, [{ afterBytes: 30, error: false }, { afterBytes: 30, error: false }], true);
    expect(cut).toEqual(["first", "no newline"]);
  });

  it("an empty log ends at once", async () => {
    const { got, calls } = await follow([], []);
    expect(got).toEqual([]);
    expect(calls).toBe(2);
  });
});
