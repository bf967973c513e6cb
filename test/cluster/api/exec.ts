// pods/exec and pods/attach over WebSocket with the Kubernetes channel protocols: v5.channel.k8s.io (with the
// close signal on channel 255), v4.channel.k8s.io, and v4.base64.channel.k8s.io. Channel 0 stdin, 1 stdout,
// 2 stderr, 3 the v1 Status that ends the session (with the exit code), 4 terminal resize.
import { PassThrough, Writable } from "node:stream";
import type { WebSocket } from "ws";
import type { ExecStreams, RunningPod } from "../node/runtime.js";

export const execProtocols = ["v5.channel.k8s.io", "v4.channel.k8s.io", "v4.base64.channel.k8s.io"];

export function pickProtocol(offered: Set<string>): string | false {
  for (const p of execProtocols) if (offered.has(p)) return p;
  return false;
}

export interface ExecRequest {
  running: RunningPod;
  container: string;
  command: string[];
  stdin: boolean;
  stdout: boolean;
  stderr: boolean;
  tty: boolean;
  attach: boolean;
}

export function exitStatus(code: number, command: string[]): object {
  if (code === 0) return { metadata: {}, status: "Success" };
  return {
    metadata: {},
    status: "Failure",
    message: `command terminated with non-zero exit code: error executing command [${command.join(" ")}], exit code ${code}`,
    reason: "NonZeroExitCode",
    details: { causes: [{ reason: "ExitCode", message: String(code) }] },
  };
}

export function runSession(ws: WebSocket, r: ExecRequest): void {
  const base64 = ws.protocol.includes("base64");
  const send = (channel: number, data: Buffer, cb?: (err?: Error) => void) => {
    if (ws.readyState !== ws.OPEN) return cb?.();
    if (base64) ws.send(String.fromCharCode(48 + channel) + data.toString("base64"), cb);
    else ws.send(Buffer.concat([Buffer.from([channel]), data]), { binary: true }, cb);
  };
  const out = (channel: number) =>
    new Writable({
      write(chunk: Buffer, _enc, cb) {
        send(channel, Buffer.from(chunk), () => cb());
      },
    });
  const stdin = r.stdin ? new PassThrough() : undefined;
  const streams: ExecStreams = { tty: r.tty };
  if (stdin) streams.stdin = stdin;
  if (r.stdout) streams.stdout = out(1);
  if (r.stderr && !r.tty) streams.stderr = out(2);
  let finished = false;

  ws.on("message", (raw: Buffer | string, isBinary: boolean) => {
    let data: Buffer;
    let channel: number;
    if (base64 || !isBinary) {
      const s = raw.toString();
      channel = s.charCodeAt(0) - (base64 ? 48 : 0);
      data = base64 ? Buffer.from(s.slice(1), "base64") : Buffer.from(s.slice(1));
    } else {
      const b = raw as Buffer;
      if (b.length === 0) return;
      channel = b[0];
      data = b.subarray(1);
    }
    if (channel === 0 && stdin && !stdin.writableEnded) stdin.write(data);
    else if (channel === 255 && data[0] === 0 && stdin && !stdin.writableEnded) stdin.end();
  });
  ws.on("close", () => {
    if (stdin && !stdin.writableEnded) stdin.end();
  });

  const finish = (status: object) => {
    if (finished) return;
    finished = true;
    const end = () => {
      send(3, Buffer.from(JSON.stringify(status)), () => {
        if (ws.readyState === ws.OPEN) ws.close(1000);
      });
    };
    // Let the output streams drain their last writes before the status goes out.
    const pending: Promise<void>[] = [];
    for (const s of [streams.stdout, streams.stderr]) {
      if (s && !s.writableFinished) pending.push(new Promise((res) => (s as Writable).end(() => res())));
    }
    void Promise.all(pending).then(end);
  };

  const work = r.attach
    ? r.running.attach
      ? r.running.attach(r.container, streams).then(() => exitStatus(0, []))
      : Promise.reject(new Error("attach is not supported by this node"))
    : r.running.exec(r.container, r.command, streams).then((code) => exitStatus(code, r.command));
  work.then(finish, (e: Error) =>
    finish({ metadata: {}, status: "Failure", message: e.message, reason: "InternalError", code: 500 }),
  );
}
