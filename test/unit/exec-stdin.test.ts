import { Readable } from "node:stream";
import { describe, expect, it } from "vitest";
import { sendStdin, type ExecSocket } from "../../core/exec-stdin.js";

/** A socket that records frames; `buffered` stands for what the connection has not written out yet. */
function socket(protocol = "v5.channel.k8s.io") {
  const frames: Buffer[] = [];
  const pending: (() => void)[] = [];
  const ws = {
    protocol, readyState: 1, buffered: 0, closed: false,
    get bufferedAmount() { return this.buffered; },
    send(data: Buffer, cb?: (err?: Error) => void) {
      frames.push(data);
      this.buffered += data.length;
      if (cb) pending.push(() => cb());
    },
    close() { this.closed = true; },
    /** The connection writes everything out. */
    drain() {
      this.buffered = 0;
      for (const cb of pending.splice(0)) cb();
    },
  };
  return { ws, frames };
}

describe("sendStdin", () => {
  it("sends each chunk on channel 0, then closes stdin alone on v5", async () => {
    const { ws, frames } = socket();
    await sendStdin(ws as ExecSocket, Readable.from([Buffer.from("ab"), Buffer.from("c")]));
    expect(frames.map((f) => [...f])).toEqual([[0, 97, 98], [0, 99], [255, 0]]);
    expect(ws.closed).toBe(false);
  });

  it("closes the connection at the end on older protocols, which cannot close one stream", async () => {
    const { ws } = socket("v4.channel.k8s.io");
    await sendStdin(ws as ExecSocket, Readable.from([Buffer.from("x")]));
    expect(ws.closed).toBe(true);
  });

  it("reads no more of the source while the connection holds a megabyte", async () => {
    const { ws, frames } = socket();
    const big = Buffer.alloc(600 * 1024);
    let pulled = 0;
    const src = new Readable({ read() { this.push(pulled++ < 5 ? big : null); } });
    const sending = sendStdin(ws as ExecSocket, src);
    await new Promise((r) => setTimeout(r, 50));
    // Two frames put the connection over the mark; the third waits for it to drain.
    expect(frames.length).toBe(3);
    ws.drain();
    await new Promise((r) => setTimeout(r, 50));
    ws.drain();
    await new Promise((r) => setTimeout(r, 50));
    ws.drain();
    await sending;
    expect(frames.length).toBe(6);
  });

  it("fails when the source fails, without closing stdin as if the input were whole", async () => {
    const { ws, frames } = socket();
    const src = new Readable({ read() { this.destroy(new Error("disk gone")); } });
    await expect(sendStdin(ws as ExecSocket, src)).rejects.toThrow(/disk gone/);
    expect(frames.some((f) => f[0] === 255)).toBe(false);
  });

  it("fails at once for a source that failed before the connection was made", async () => {
    const { ws } = socket();
    const src = new Readable({ read() {} });
    src.on("error", () => undefined);
    src.destroy(new Error("packing failed"));
    await new Promise((r) => setImmediate(r));
    await expect(sendStdin(ws as ExecSocket, src)).rejects.toThrow(/packing failed/);
  });
});
