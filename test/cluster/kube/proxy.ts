// The forward proxy pods may be pointed at (HTTP_PROXY, HTTPS_PROXY): Debian's tinyproxy in the node's
// network namespace, started when the cluster is asked for it. It takes requests from the pods and the host,
// and forwards only to the test cluster's own services named to it (host:port each: the registries and the
// git daemon); anything else it refuses itself, without connecting (403 "Filtered", or "Access violation" for
// a CONNECT to another port). Its log, one line per connection and request and refusal, is the access log
// the tests read.
import { mkdir, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { canConnect } from "../infra/proc.js";
import { startDaemon, waitFor, type Daemon } from "./daemon.js";
import type { NodeNetwork } from "./netns.js";

export interface ForwardProxy {
  /** http://ADDRESS:PORT, as the pods and the host reach it. */
  url: string;
  /** tinyproxy's log: "Request (file descriptor N): CONNECT HOST:PORT ...", "Proxying refused on filtered url ...". */
  accessLog: string;
  daemon: Daemon;
  stop(): Promise<void>;
}

export interface ForwardProxyOptions {
  /** The cluster's directory: config under DIR/proxy, the log in DIR/logs. */
  dir: string;
  net: NodeNetwork;
  port?: number;
  /** Client networks it takes requests from (CIDR). */
  clients: string[];
  /** The only services it forwards to: host:port each, the host an IP address. */
  upstreams: string[];
}

export const PROXY_PORT = 3128;

const escape = (s: string) => s.replace(/[.\\[\]()*+?^$|{}]/g, "\\$&");

/**
 * The filter tinyproxy checks each request's URL against (FilterURLs, extended regular expressions): a
 * CONNECT's is "HOST:PORT", a plain request's "http://HOST:PORT/PATH".
 */
export function proxyFilter(upstreams: string[]): string {
  return upstreams.flatMap((u) => [`^${escape(u)}$`, `^http://${escape(u)}/`]).join("\n") + "\n";
}

export function proxyConfig(o: { address: string; port: number; clients: string[]; upstreams: string[]; filterPath: string }): string {
  const ports = [...new Set(o.upstreams.map((u) => u.slice(u.lastIndexOf(":") + 1)))];
  return [
    `Port ${o.port}`,
    `Listen ${o.address}`,
    // Run as nobody; without a LogFile it logs to its standard output (it runs in the foreground).
    "User nobody",
    "Group nogroup",
    "Timeout 120",
    "MaxClients 64",
    "LogLevel Info",
    "DisableViaHeader Yes",
    ...o.clients.map((c) => `Allow ${c}`),
    `Filter ${JSON.stringify(o.filterPath)}`,
    "FilterURLs On",
    "FilterType ere",
    "FilterDefaultDeny Yes",
    ...ports.map((p) => `ConnectPort ${p}`),
    "",
  ].join("\n");
}

export async function startForwardProxy(o: ForwardProxyOptions): Promise<ForwardProxy> {
  const dir = join(o.dir, "proxy");
  const logDir = join(o.dir, "logs");
  await mkdir(dir, { recursive: true });
  await mkdir(logDir, { recursive: true });
  const port = o.port ?? PROXY_PORT;
  const filterPath = join(dir, "filter");
  await writeFile(filterPath, proxyFilter(o.upstreams));
  const configPath = join(dir, "tinyproxy.conf");
  await writeFile(configPath, proxyConfig({ address: o.net.address, port, clients: o.clients, upstreams: o.upstreams, filterPath }));
  const daemon = startDaemon("tinyproxy", ["tinyproxy", "-d", "-c", configPath], { logDir, enter: o.net.enter });
  try {
    await waitFor("tinyproxy to listen", () => canConnect(port, o.net.address), [daemon], 10_000);
  } catch (err) {
    await daemon.stop();
    throw err;
  }
  return { url: `http://${o.net.address}:${port}`, accessLog: daemon.logPath, daemon, stop: () => daemon.stop() };
}
