// The log streams' own HTTP/1.1 response parsing: every framing, every way the input can be split, and a
// real exchange with Node's HTTPS server (chunk per line, Content-Length, errors, a cut connection).
import { mkdtempSync } from "node:fs";
import { createServer, type Server } from "node:https";
import { tmpdir } from "node:os";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ResponseParser, streamGet } from "../../core/http-stream.js";
import { makeCerts, type Certs } from "./certs.js";

interface Seen {
  status?: number;
  headers?: Record<string, string>;
  body: string;
  pieces: number;
  ended: boolean;
  error?: string;
}

function parse(input: string, splits: number[] = []): Seen {
  const seen: Seen = { body: "", pieces: 0, ended: false };
  const p = new ResponseParser({
    head: (status, headers) => Object.assign(seen, { status, headers }),
    data: (chunk) => {
      seen.body += chunk.toString();
      seen.pieces++;
    },
    end: () => (seen.ended = true),
    error: (err) => (seen.error = err.message),
  });
  const buf = Buffer.from(input, "latin1");
  let at = 0;
  for (const s of [...splits, buf.length]) {
    p.push(buf.subarray(at, s));
    at = s;
  }
  return seen;
}

const CHUNKED = "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nTransfer-Encoding: chunked\r\n\r\n" +
  "6\r\nline 1\r\n7\r\n\nline 2\r\nb;ext=1\r\n\nline three\r\n0\r\nX-Trailer: t\r\n\r\n";

describe("ResponseParser", () => {
  it("de-chunks a body, ignoring chunk extensions and trailers, and hands over a read at a time", () => {
    const seen = parse(CHUNKED);
    expect(seen).toMatchObject({ status: 200, body: "line 1\nline 2\nline three", ended: true, pieces: 1 });
    expect(seen.headers!["content-type"]).toBe("text/plain");
  });

  it("reads sizes in either case of hex, with or without the CR, however split", () => {
    const body = "x".repeat(26) + "0123456789";
    const input = `HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n1A\r\n${"x".repeat(26)}\r\na\n0123456789\r\n0\r\n\r\n`;
    for (let cut = 1; cut < input.length; cut++) expect(parse(input, [cut]), `cut at ${cut}`).toMatchObject({ body, ended: true });
  });

  it("gives the same body however the input is split, down to a byte at a time", () => {
    const whole = parse(CHUNKED).body;
    for (let cut = 1; cut < CHUNKED.length; cut++) expect(parse(CHUNKED, [cut]).body, `cut at ${cut}`).toBe(whole);
    const bytes = Array.from({ length: CHUNKED.length - 1 }, (_, i) => i + 1);
    expect(parse(CHUNKED, bytes)).toMatchObject({ body: whole, ended: true });
  });

  it("reads a Content-Length body, and one that lasts until the connection closes", () => {
    expect(parse("HTTP/1.1 404 Not Found\r\nContent-Length: 5\r\n\r\nnopeEXTRA")).toMatchObject({ status: 404, body: "nope".padEnd(5, "E"), ended: true });
    const p = new ResponseParser({ head: () => undefined, data: () => undefined, end: () => (ended = true), error: () => undefined });
    let ended = false;
    p.push(Buffer.from("HTTP/1.1 200 OK\r\n\r\nuntil close"));
    expect(ended).toBe(false);
    p.close();
    expect(ended).toBe(true);
  });

  it("a stream cut before its last chunk is an error, not an end", () => {
    const seen = parse(CHUNKED.slice(0, CHUNKED.indexOf("b;ext")));
    expect(seen.ended).toBe(false);
    const p = new ResponseParser({ head: () => undefined, data: () => undefined, end: () => undefined, error: (e) => (seen.error = e.message) });
    p.push(Buffer.from(CHUNKED.slice(0, 60)));
    p.close();
    expect(seen.error).toBe("the stream was cut");
  });

  it("refuses what is not HTTP/1.1 or has a bad chunk size", () => {
    expect(parse("SSH-2.0-OpenSSH\r\n\r\n").error).toMatch(/not an HTTP\/1\.1 response/);
    expect(parse("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\nab\r\n").error).toMatch(/bad chunk size "zz"/);
    expect(parse("HTTP/1.1 200 OK\r\nContent-Length: -1\r\n\r\n").error).toMatch(/bad Content-Length/);
  });
});

describe("streamGet", () => {
  let certs: Certs;
  let server: Server;
  let base: string;
  beforeAll(async () => {
    certs = await makeCerts(mkdtempSync(`${tmpdir()}/buildpod-http-stream-`));
    server = createServer({ cert: certs.cert, key: certs.key }, (req, res) => {
      if (req.headers.authorization !== "Bearer t0ken") {
        res.writeHead(401, { "Content-Type": "application/json" });
        return void res.end(JSON.stringify({ kind: "Status", message: "Unauthorized" }));
      }
      if (req.url === "/lines") {
        res.writeHead(200, { "Content-Type": "text/plain" });
        // Each line its own HTTP chunk, as an API server following a log may send them.
        let i = 0;
        const more = () => {
          for (let n = 0; n < 1000 && i < 20_000; n++) res.write(`line ${++i}\n`);
          if (i < 20_000) setImmediate(more);
          else res.end();
        };
        return more();
      }
      if (req.url === "/cut") {
        res.writeHead(200, { "Content-Type": "text/plain" });
        res.write("partial line");
        return void setTimeout(() => req.socket.destroy(), 50);
      }
      res.writeHead(404, { "Content-Type": "application/json" });
      res.end(JSON.stringify({ kind: "Status", message: "no such path" }));
    });
    await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
    base = `https://127.0.0.1:${(server.address() as { port: number }).port}`;
  });
  afterAll(() => server.close());

  function get(path: string, token = "t0ken"): Promise<{ status: number; body: string; reads: number; error?: string }> {
    return new Promise((resolve) => {
      const res = streamGet({ url: new URL(path, base), headers: { Authorization: `Bearer ${token}` }, tls: { ca: certs.ca } });
      let status = 0;
      let body = "";
      let reads = 0;
      res.on("head", (s: number) => (status = s));
      res.on("data", (d: Buffer) => {
        body += d.toString();
        reads++;
      });
      res.on("end", () => resolve({ status, body, reads }));
      res.on("error", (e: Error) => resolve({ status, body, reads, error: e.message }));
    });
  }

  it("reads 20,000 one-line chunks whole and in order, in far fewer pieces", async () => {
    const r = await get("/lines");
    expect(r.status).toBe(200);
    const lines = r.body.split("\n").slice(0, -1);
    expect(lines).toHaveLength(20_000);
    expect(lines.every((l, i) => l === `line ${i + 1}`)).toBe(true);
    expect(r.reads).toBeLessThan(2_000);
  });

  it("passes the status and body of a refusal, and reports a cut connection", async () => {
    expect(await get("/lines", "wrong")).toMatchObject({ status: 401, body: '{"kind":"Status","message":"Unauthorized"}' });
    expect(await get("/nowhere")).toMatchObject({ status: 404 });
    expect(await get("/cut")).toMatchObject({ status: 200, body: "partial line", error: "the stream was cut" });
  });

  it("checks the server's certificate", async () => {
    const r = await new Promise<string>((resolve) => {
      const res = streamGet({ url: new URL("/lines", base), headers: {}, tls: {} });
      res.on("error", (e: Error) => resolve(e.message));
      res.on("end", () => resolve("ended"));
    });
    expect(r).toMatch(/self.signed|unable to verify|certificate/i);
  });
});
