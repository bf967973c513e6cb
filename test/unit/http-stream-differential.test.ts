// core/http-stream.ts against Node's own HTTP client (llhttp) on the same bytes: generated responses served
// raw by a loopback TCP server, read by both; each must end the same way (a whole body, or an error) with
// the same body. The generator covers what API servers and proxies send: chunked, Content-Length and
// close-delimited bodies, chunk extensions, trailers, 1xx answers before the final one, and the malformed
// cases a parser must refuse rather than misread (a bare LF after a chunk's data, a bad chunk size).
import { get } from "node:http";
import { createServer, type Server, type Socket } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { prng as rng } from "../../bench/upload-tree.js";
import { streamGet } from "../../core/http-stream.js";

interface Case {
  seed: number;
  bytes: Buffer;
  /** Whether the server closes the connection after sending (a close-delimited body needs it). */
  close: boolean;
}

function generate(seed: number): Case {
  const r = rng(seed);
  const pick = <T>(xs: T[]) => xs[Math.floor(r() * xs.length)]!;
  const text = (n: number) => Array.from({ length: n }, () => pick(["a", "b", "\n", "line ", "é", "{\"x\":1}", "\r\n"])).join("");
  const body = Buffer.from(text(Math.floor(r() * 40)));
  const parts: Buffer[] = [];
  // 1xx answers first, sometimes: 100 Continue, 102 Processing, 103 Early Hints with a header.
  for (let i = Math.floor(r() * 3); i > 0 && r() < 0.5; i--) {
    parts.push(Buffer.from(pick(["HTTP/1.1 100 Continue\r\n\r\n", "HTTP/1.1 102 Processing\r\n\r\n", "HTTP/1.1 103 Early Hints\r\nLink: </x>; rel=preload\r\n\r\n"])));
  }
  const framing = pick(["chunked", "chunked", "length", "close"] as const);
  const status = pick([200, 200, 200, 404, 500]);
  const head = [`HTTP/1.1 ${status} X`, "Content-Type: text/plain"];
  if (framing === "chunked") head.push("Transfer-Encoding: chunked");
  if (framing === "length") head.push(`Content-Length: ${body.length}`);
  if (framing !== "close") head.push(pick(["Connection: close", "Connection: keep-alive"]));
  parts.push(Buffer.from(`${head.join("\r\n")}\r\n\r\n`));
  if (framing === "chunked") {
    let at = 0;
    while (at < body.length) {
      const n = Math.min(body.length - at, 1 + Math.floor(r() * 12));
      const size = pick([n.toString(16), n.toString(16).toUpperCase(), `${n.toString(16)};name=value`, `${n.toString(16)};a;b="q"`]);
      // Now and then a malformed piece: a bare LF after the data, or a size that is not hex.
      const after = r() < 0.08 ? "\n" : "\r\n";
      const sizeLine = r() < 0.04 ? `z${size}` : size;
      parts.push(Buffer.from(`${sizeLine}\r\n`), body.subarray(at, at + n), Buffer.from(after));
      at += n;
    }
    parts.push(Buffer.from(`0\r\n${r() < 0.3 ? "X-Trailer: t\r\nX-Other: u\r\n" : ""}\r\n`));
  } else {
    parts.push(body);
  }
  return { seed, bytes: Buffer.concat(parts), close: framing === "close" || r() < 0.5 };
}

interface Outcome {
  status?: number;
  body?: string;
  error: boolean;
  /** What went wrong, for the report of a case that differs. */
  why?: string;
}

let server: Server;
let port = 0;
const cases = new Map<string, Case>();
const sockets = new Set<Socket>();

beforeAll(async () => {
  server = createServer((socket) => {
    sockets.add(socket);
    socket.on("close", () => sockets.delete(socket));
    let request = "";
    socket.on("data", (d: Buffer) => {
      request += d.toString("latin1");
      if (!request.includes("\r\n\r\n")) return;
      const c = cases.get(/^GET \/(\d+) /.exec(request)![1]!)!;
      socket.write(c.bytes, () => (c.close ? socket.end() : undefined));
    });
    socket.on("error", () => undefined);
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  port = (server.address() as { port: number }).port;
});

afterAll(async () => {
  for (const s of sockets) s.destroy();
  await new Promise((r) => server.close(r));
});

/** How long either client may take: a whole response on loopback takes a millisecond. */
const SETTLE_MS = 300;

/** Settles once with the first outcome; a response with neither an end nor an error by SETTLE_MS is one. */
function settling(resolve: (o: Outcome) => void, abandon: () => void) {
  let settled = false;
  const done = (o: Outcome) => {
    if (settled) return;
    settled = true;
    resolve(o);
  };
  setTimeout(() => {
    done({ error: true, why: "no end" });
    abandon();
  }, SETTLE_MS);
  return done;
}

function withNode(seed: number): Promise<Outcome> {
  return new Promise((resolve) => {
    const req = get({ host: "127.0.0.1", port, path: `/${seed}`, agent: false }, (res) => {
      const chunks: Buffer[] = [];
      res.on("data", (d: Buffer) => chunks.push(d));
      res.on("end", () => done({ status: res.statusCode, body: Buffer.concat(chunks).toString("latin1"), error: false }));
      res.on("error", (e) => done({ error: true, why: e.message }));
      res.on("aborted", () => done({ error: true, why: "aborted" }));
    });
    const done = settling(resolve, () => req.destroy());
    req.on("error", (e) => done({ error: true, why: e.message }));
  });
}

function withOurs(seed: number): Promise<Outcome> {
  return new Promise((resolve) => {
    const res = streamGet({ url: new URL(`http://127.0.0.1:${port}/${seed}`), headers: {} });
    const done = settling(resolve, () => res.destroy());
    let status: number | undefined;
    const chunks: Buffer[] = [];
    res.on("head", (s: number) => (status = s));
    res.on("data", (d: Buffer) => chunks.push(d));
    res.on("end", () => done({ status, body: Buffer.concat(chunks).toString("latin1"), error: false }));
    res.on("error", (e: Error) => done({ error: true, why: e.message }));
  });
}

describe("http-stream and llhttp on the same responses", () => {
  it("400 generated responses: the same end, the same body", async () => {
    const differ: string[] = [];
    let errors = 0;
    let informational = 0;
    for (let seed = 1; seed <= 400; seed++) {
      const c = generate(seed);
      cases.set(String(seed), c);
      const [node, ours] = await Promise.all([withNode(seed), withOurs(seed)]);
      if (node.error) errors++;
      if (/^HTTP\/1\.1 1\d\d/.test(c.bytes.toString("latin1"))) informational++;
      const same = node.error === ours.error && (node.error || (node.status === ours.status && node.body === ours.body));
      if (!same) differ.push(`seed ${seed}: llhttp ${JSON.stringify(node)}, ours ${JSON.stringify({ ...ours, body: ours.body?.slice(0, 60) })}; sent ${JSON.stringify(c.bytes.toString("latin1").slice(0, 200))}`);
    }
    expect(differ.slice(0, 3), `${differ.length} of 400 differ`).toEqual([]);
    // The generator reached the cases it is for.
    expect(errors).toBeGreaterThan(10);
    expect(informational).toBeGreaterThan(20);
  }, 120_000);
});

describe("a server that goes silent", () => {
  it("before its answer: an error after the head timeout, not a wait without end", async () => {
    const mute = createServer(() => undefined);
    await new Promise<void>((r) => mute.listen(0, "127.0.0.1", r));
    const res = streamGet({ url: new URL(`http://127.0.0.1:${(mute.address() as { port: number }).port}/`), headers: {}, headTimeoutMs: 200 });
    const error = await new Promise<string>((resolve) => {
      res.on("error", (e: Error) => resolve(e.message));
      res.on("end", () => resolve("ended"));
    });
    mute.close();
    expect(error).toBe("the server sent no answer within 0.2s");
  });
});
