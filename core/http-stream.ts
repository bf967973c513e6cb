// A streaming GET over HTTP/1.1 on a socket of its own, for log streams. Node's HTTP client hands the body
// over one HTTP chunk at a time, and an API server following a log may send every line as its own chunk:
// a million-line log cost a million events (1-1.3 s of CPU in the parser alone). Here what one socket read
// brings is de-chunked in one pass and handed over as one buffer.
import { EventEmitter } from "node:events";
import { connect as netConnect, isIP, type Socket } from "node:net";
import { connect as tlsConnect, type ConnectionOptions } from "node:tls";

/** What the response parser says, in order: head, then body pieces, then end (or error, at any point). */
export interface BodyEvents {
  head(status: number, headers: Record<string, string>): void;
  data(chunk: Buffer): void;
  end(): void;
  error(err: Error): void;
}

type Framing = { kind: "chunked" } | { kind: "length"; left: number } | { kind: "close" };

/** The largest response head accepted: a server sending more is not an API server. */
const HEAD_LIMIT = 64 * 1024;

/**
 * Parses an HTTP/1.1 response fed in pieces as they arrive. Pure: no socket, so every framing and every
 * split of the input can be tested.
 */
export class ResponseParser {
  private head: Buffer | undefined = Buffer.alloc(0);
  private framing: Framing = { kind: "close" };
  /** Chunked: bytes of the current chunk still to come; -1 while a size line is awaited. */
  private chunkLeft = -1;
  /** Chunked: bytes of the CRLF after a chunk's data still expected (2: CR then LF, 1: LF). */
  private crlfLeft = 0;
  private line = "";
  private trailers = false;
  private done = false;

  constructor(private readonly on: BodyEvents) {}

  /** Whether the body has ended (a close-delimited body ends when the connection does). */
  get finished(): boolean {
    return this.done;
  }

  push(input: Buffer): void {
    if (this.done) return;
    let data = input;
    if (this.head) {
      const all = this.head.length ? Buffer.concat([this.head, data]) : data;
      const end = all.indexOf("\r\n\r\n");
      if (end < 0) {
        if (all.length > HEAD_LIMIT) return this.fail("the response head is too large");
        this.head = all;
        return;
      }
      const rest = all.subarray(end + 4);
      const status = /^HTTP\/1\.[01] (1\d\d)/.exec(all.toString("latin1", 0, 16))?.[1];
      if (status !== undefined && status !== "101") {
        // An informational answer (100 Continue, 103 Early Hints) comes before the final one: skip it.
        this.head = Buffer.alloc(0);
        if (rest.length) this.push(rest);
        return;
      }
      this.head = undefined;
      if (!this.parseHead(all.subarray(0, end).toString("latin1"))) return;
      data = rest;
    }
    const out: Buffer[] = [];
    if (this.framing.kind === "chunked") this.dechunk(data, out);
    else if (this.framing.kind === "length") {
      const take = data.subarray(0, this.framing.left);
      this.framing.left -= take.length;
      if (take.length) out.push(take);
      if (this.framing.left === 0) this.done = true;
    } else if (data.length) out.push(data);
    if (out.length) this.on.data(out.length === 1 ? out[0] : Buffer.concat(out));
    if (this.done) this.on.end();
  }

  /** The connection ended: the end of a close-delimited body, a cut stream otherwise. */
  close(): void {
    if (this.done) return;
    if (!this.head && this.framing.kind === "close") {
      this.done = true;
      return this.on.end();
    }
    this.fail("the stream was cut");
  }

  private fail(message: string): void {
    this.done = true;
    this.on.error(new Error(message));
  }

  private parseHead(text: string): boolean {
    const [statusLine, ...lines] = text.split("\r\n");
    const m = /^HTTP\/1\.[01] (\d{3})/.exec(statusLine);
    if (!m) {
      this.fail(`not an HTTP/1.1 response: ${JSON.stringify(statusLine.slice(0, 40))}`);
      return false;
    }
    const headers: Record<string, string> = {};
    for (const l of lines) {
      const colon = l.indexOf(":");
      if (colon <= 0) continue;
      const name = l.slice(0, colon).trim().toLowerCase();
      const value = l.slice(colon + 1).trim();
      headers[name] = headers[name] === undefined ? value : `${headers[name]}, ${value}`;
    }
    const status = Number(m[1]);
    if (/\bchunked\b/i.test(headers["transfer-encoding"] ?? "")) this.framing = { kind: "chunked" };
    else if (headers["content-length"] !== undefined) {
      const n = Number(headers["content-length"]);
      if (!Number.isSafeInteger(n) || n < 0) {
        this.fail(`bad Content-Length ${JSON.stringify(headers["content-length"])}`);
        return false;
      }
      this.framing = { kind: "length", left: n };
      if (n === 0) this.done = true;
    }
    this.on.head(status, headers);
    return true;
  }

  /** Takes the chunks' data out of `data` (views, not copies) into `out`. */
  private dechunk(data: Buffer, out: Buffer[]): void {
    let i = 0;
    while (i < data.length && !this.done) {
      if (this.crlfLeft > 0) {
        // A chunk's data ends with CRLF exactly: anything else (a bare LF, say) would shift every chunk
        // after it, so it is refused, as llhttp refuses it.
        if (data[i] !== (this.crlfLeft === 2 ? 13 : 10)) return this.fail("a chunk's data is not followed by CRLF");
        this.crlfLeft--;
        i++;
        continue;
      }
      if (this.chunkLeft > 0) {
        const take = Math.min(this.chunkLeft, data.length - i);
        out.push(data.subarray(i, i + take));
        this.chunkLeft -= take;
        i += take;
        if (this.chunkLeft === 0) {
          this.chunkLeft = -1;
          this.crlfLeft = 2;
        }
        continue;
      }
      // A size line (or, after the last chunk, a trailer line), which may arrive split.
      const nl = data.indexOf(10, i);
      // The common case, a whole size line of hex digits: read from the bytes, with no string made (a
      // server may send a chunk per log line, a million of them).
      if (nl >= 0 && this.line === "" && !this.trailers) {
        const size = hexSize(data, i, nl);
        if (size >= 0) {
          i = nl + 1;
          if (size === 0) this.trailers = true;
          else this.chunkLeft = size;
          continue;
        }
      }
      if (nl < 0) {
        this.line += data.toString("latin1", i);
        if (this.line.length > 4096) return this.fail("a chunk size line is too long");
        return;
      }
      const line = (this.line + data.toString("latin1", i, nl)).replace(/\r$/, "");
      this.line = "";
      i = nl + 1;
      if (this.trailers) {
        if (line === "") this.done = true;
        continue;
      }
      const size = parseInt(line.split(";", 1)[0].trim(), 16);
      if (!Number.isSafeInteger(size) || size < 0 || !/^[0-9a-fA-F]+$/.test(line.split(";", 1)[0].trim())) {
        return this.fail(`bad chunk size ${JSON.stringify(line.slice(0, 20))}`);
      }
      if (size === 0) this.trailers = true;
      else this.chunkLeft = size;
    }
  }
}

/**
 * The chunk size of the line data[from, nl) ("1a2f\r", no extension), or -1 when it is anything else
 * (extensions, spaces, no digits, too many digits): the general parser then takes the line.
 */
function hexSize(data: Buffer, from: number, nl: number): number {
  const end = nl > from && data[nl - 1] === 13 ? nl - 1 : nl;
  if (end === from || end - from > 12) return -1;
  let size = 0;
  for (let j = from; j < end; j++) {
    const c = data[j];
    const d = c >= 48 && c <= 57 ? c - 48 : c >= 97 && c <= 102 ? c - 87 : c >= 65 && c <= 70 ? c - 55 : -1;
    if (d < 0) return -1;
    size = size * 16 + d;
  }
  return size;
}

/**
 * How long a server may take to send a response's head. A log stream's body may then be silent for as long
 * as the build is (a quiet step), so it has no such bound: TCP keepalive probes, from KEEPALIVE_MS of
 * silence on, find a peer that has gone away (about 30 s plus the kernel's probes).
 */
export const HEAD_TIMEOUT_MS = 30_000;
const KEEPALIVE_MS = 30_000;

export interface StreamRequest {
  url: URL;
  headers: Record<string, string>;
  /** Default HEAD_TIMEOUT_MS. */
  headTimeoutMs?: number;
  /** For https: the CA, client certificate, a shared secureContext, rejectUnauthorized, servername. */
  tls?: ConnectionOptions;
}

/** One response: "head" (status, headers), "data" (body pieces), "end", "error"; pause/resume the socket. */
export class StreamResponse extends EventEmitter {
  private paused = false;
  constructor(private readonly socket: Socket) {
    super();
  }
  pause(): void {
    this.paused = true;
    this.socket.pause();
  }
  resume(): void {
    this.paused = false;
    this.socket.resume();
  }
  isPaused(): boolean {
    return this.paused;
  }
  destroy(): void {
    this.socket.destroy();
  }
}

/** Sends a GET on a connection of its own (closed after the response) and parses the answer as it comes. */
export function streamGet(req: StreamRequest): StreamResponse {
  const { url } = req;
  const https = url.protocol === "https:";
  const port = Number(url.port) || (https ? 443 : 80);
  const host = url.hostname.replace(/^\[|\]$/g, "");
  const socket = https
    ? tlsConnect({ ...req.tls, host, port, servername: req.tls?.servername ?? (isIP(host) ? undefined : host), ALPNProtocols: ["http/1.1"] })
    : netConnect({ host, port });
  const res = new StreamResponse(socket);
  let ended = false;
  const headTimeout = req.headTimeoutMs ?? HEAD_TIMEOUT_MS;
  const silent = setTimeout(() => socket.destroy(new Error(`the server sent no answer within ${headTimeout / 1000}s`)), headTimeout);
  socket.once("close", () => clearTimeout(silent));
  const parser = new ResponseParser({
    head: (status, headers) => {
      clearTimeout(silent);
      res.emit("head", status, headers);
    },
    data: (chunk) => res.emit("data", chunk),
    end: () => {
      ended = true;
      res.emit("end");
      socket.destroy();
    },
    error: (err) => {
      ended = true;
      res.emit("error", err);
      socket.destroy();
    },
  });
  socket.setNoDelay(true);
  socket.setKeepAlive(true, KEEPALIVE_MS);
  socket.on(https ? "secureConnect" : "connect", () => {
    const lines = [`GET ${url.pathname}${url.search} HTTP/1.1`, `Host: ${url.host}`, "Connection: close"];
    for (const [k, v] of Object.entries(req.headers)) lines.push(`${k}: ${v}`);
    socket.write(`${lines.join("\r\n")}\r\n\r\n`);
  });
  socket.on("data", (d: Buffer) => parser.push(d));
  socket.on("end", () => parser.close());
  socket.on("error", (err) => {
    if (ended) return;
    ended = true;
    res.emit("error", err);
  });
  socket.on("close", () => {
    if (!ended) parser.close();
  });
  return res;
}
