// HTTP/2 to the API server, as client-go speaks it: every call, watch and log stream of a Cluster on one TLS
// connection, another only when the server's limit of concurrent streams is reached. Measured with 1000
// builds at once from one process (bench/fanout.ts): over HTTP/1.1 each build held a watch, a log stream
// and calls on connections of their own, each a TLS handshake (about 2 ms of CPU: 12 of a build's 28 ms)
// with its buffers: 361 MB peak RSS, where a bare client creating the same Jobs with one watch took 227 MB.
// A server that does not offer h2 (a proxy, an old gateway) is spoken to over HTTP/1.1 (transport.ts).
import { connect, constants, type ClientHttp2Session, type ClientHttp2Stream, type IncomingHttpHeaders, type OutgoingHttpHeaders } from "node:http2";
import { isIP } from "node:net";
import { connect as tlsConnect, type ConnectionOptions, type TLSSocket } from "node:tls";

/** Streams opened on a session before its SETTINGS frame says how many it allows (RFC 9113's advice). */
const FIRST_STREAMS = 100;
/** A stream's and the session's receive windows: a log of 100 MB arrives without waiting on window updates. */
const STREAM_WINDOW = 4 << 20;
const SESSION_WINDOW = 32 << 20;

interface Session {
  s: ClientHttp2Session;
  active: number;
  /** What the server allows at once (its SETTINGS_MAX_CONCURRENT_STREAMS). */
  limit: number;
}

/** Connects with ALPN offering h2 and HTTP/1.1: resolves with the socket and what the server chose. */
export function negotiate(url: URL, tls: ConnectionOptions): Promise<{ socket: TLSSocket; h2: boolean }> {
  const host = url.hostname.replace(/^\[|\]$/g, "");
  return new Promise((resolve, reject) => {
    const socket = tlsConnect({ ...tls, host, port: Number(url.port) || 443, servername: tls.servername ?? (isIP(host) ? undefined : host), ALPNProtocols: ["h2", "http/1.1"] });
    socket.once("secureConnect", () => {
      socket.off("error", reject);
      resolve({ socket, h2: socket.alpnProtocol === "h2" });
    });
    socket.once("error", reject);
  });
}

/** The HTTP/2 sessions to one API server with one set of TLS credentials. */
export class H2Pool {
  private readonly sessions: Session[] = [];
  private opening: Promise<Session> | undefined;

  constructor(private readonly url: URL, private readonly tls: ConnectionOptions, first?: TLSSocket) {
    if (first) this.adopt(first);
  }

  /** Opens a stream on a session with room for it. Header names in lower case; no connection headers. */
  async request(headers: OutgoingHttpHeaders, endStream: boolean): Promise<ClientHttp2Stream> {
    const session = await this.room();
    const stream = session.s.request(headers, { endStream });
    if (session.active++ === 0) session.s.ref();
    stream.once("close", () => {
      if (--session.active === 0) session.s.unref();
    });
    return stream;
  }

  /** Closes every session (streams in flight end with an error). */
  close(): void {
    for (const s of this.sessions.splice(0)) s.s.destroy();
  }

  private async room(): Promise<Session> {
    for (;;) {
      const free = this.sessions.find((x) => x.active < x.limit && !x.s.closed && !x.s.destroyed);
      if (free) return free;
      this.opening ??= negotiate(this.url, this.tls).then(({ socket, h2 }) => {
        if (!h2) {
          socket.destroy();
          throw new Error(`${this.url.host} stopped offering HTTP/2`);
        }
        return this.adopt(socket);
      }).finally(() => (this.opening = undefined));
      const opened = await this.opening;
      // Another request may have taken the last slot meanwhile: look again.
      if (opened.active < opened.limit) return opened;
    }
  }

  private adopt(socket: TLSSocket): Session {
    const s = connect(this.url.origin, {
      createConnection: () => socket,
      peerMaxConcurrentStreams: FIRST_STREAMS,
      settings: { initialWindowSize: STREAM_WINDOW, enablePush: false },
      // Node refuses new streams past this much buffered in a session (10 MB by default): a thousand
      // streams at once need more room than that, though each holds little.
      maxSessionMemory: 256,
    });
    const session: Session = { s, active: 0, limit: FIRST_STREAMS };
    s.setLocalWindowSize(SESSION_WINDOW);
    s.on("remoteSettings", (settings) => {
      session.limit = settings.maxConcurrentStreams ?? session.limit;
    });
    const drop = () => {
      const i = this.sessions.indexOf(session);
      if (i >= 0) this.sessions.splice(i, 1);
    };
    // A session the server is leaving (GOAWAY) takes no new streams; those it has finish or fail.
    s.on("goaway", drop);
    s.on("close", drop);
    s.on("error", drop);
    s.unref();
    this.sessions.push(session);
    return session;
  }
}

/** The response head of an HTTP/2 stream: its status and headers as Node's HTTP/1.1 client gives them. */
export function responseHead(headers: IncomingHttpHeaders): { status: number; headers: Record<string, string | string[] | undefined> } {
  const out: Record<string, string | string[] | undefined> = {};
  for (const [k, v] of Object.entries(headers)) if (!k.startsWith(":")) out[k] = v;
  return { status: Number(headers[":status"] ?? 0), headers: out };
}

export const CANCEL = constants.NGHTTP2_CANCEL;
