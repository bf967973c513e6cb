// An exec session's stdin, sent with back-pressure. client-node's own relay sends each chunk the moment the
// stream gives it, so a fast source and a slower connection pile the whole input up in memory (a 200 MB
// upload took the client to 300 MB). Here the source is read only as fast as the connection takes it.
import type { Readable } from "node:stream";

/** What is used of the exec WebSocket (the `ws` package's). */
export interface ExecSocket {
  readonly protocol: string;
  readonly readyState: number;
  readonly bufferedAmount: number;
  send(data: Buffer, cb?: (err?: Error) => void): void;
  close(): void;
}

const OPEN = 1;
const STDIN = 0;
/** Bytes queued on the connection before reading more of the source. */
const HIGH_WATER = 1024 * 1024;

/** Sends `src` on the stdin channel, then closes stdin. Rejects if the source fails or the socket closes. */
export function sendStdin(ws: ExecSocket, src: Readable): Promise<void> {
  // The source may have failed while the connection was being made.
  if (src.destroyed) return Promise.reject(src.errored ?? new Error("the input stopped before its end"));
  return new Promise<void>((resolve, reject) => {
    let settled = false;
    const settle = (err?: Error | null) => {
      if (settled) return;
      settled = true;
      src.off("data", onData).off("end", onEnd).off("error", settle).off("close", onClose);
      if (err) {
        src.destroy();
        reject(err);
      } else resolve();
    };
    const sent = (err?: Error) => err && settle(err);
    const onData = (chunk: Buffer | string) => {
      const data = typeof chunk === "string" ? Buffer.from(chunk) : chunk;
      if (ws.readyState !== OPEN) return settle(new Error("the exec connection closed while sending stdin"));
      // A frame is the channel byte followed by the data.
      const frame = Buffer.allocUnsafe(data.length + 1);
      frame[0] = STDIN;
      data.copy(frame, 1);
      if (ws.bufferedAmount < HIGH_WATER) return void ws.send(frame, sent);
      // Over the mark: read on once this frame, and so all before it, has gone out.
      src.pause();
      ws.send(frame, (err) => (err ? settle(err) : settled || src.resume()));
    };
    const onEnd = () => {
      if (ws.readyState !== OPEN) return settle(new Error("the exec connection closed while sending stdin"));
      // v5 can close stdin alone, the session going on to report the exit status; older protocols have no
      // way but closing the connection (as client-node does).
      if (ws.protocol === "v5.channel.k8s.io") ws.send(Buffer.from([255, STDIN]), sent);
      else ws.close();
      settle();
    };
    const onClose = () => settle(new Error("the input stopped before its end"));
    // Chunk by chunk as the source gives them, each a message, rather than through an async iterator, which
    // joins whatever is buffered into one bigger copy.
    src.on("data", onData).once("end", onEnd).once("error", settle).once("close", onClose);
  });
}
