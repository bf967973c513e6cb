// The test cluster's Git server over HTTPS (test/cluster/cmd/githttps: git http-backend behind TLS), beside
// the git:// daemon and serving the same repositories, so that a test can make a repository once and reach it
// both ways. Its certificate comes from the private registries' CA (registries.ts): one private CA for
// everything a build reaches over TLS outside the API server. It listens in the node's network namespace
// like the registries; its log is one line per request (client, method, path, status).
import { readFileSync } from "node:fs";
import { mkdir } from "node:fs/promises";
import { join } from "node:path";
import { startDaemon, waitFor } from "./daemon.js";
import type { NodeNetwork } from "./netns.js";
import { issue } from "./pki.js";

export interface GitHttps {
  /** ADDRESS:PORT, as the host and the pods reach it. */
  host: string;
  /** https://ADDRESS:PORT/NAME for the repository NAME. */
  url(name: string): string;
  /** The CA that signed its certificate (PEM). */
  caPath: string;
  /** Its log: "... CLIENT METHOD PATH STATUS" per request. */
  accessLog: string;
  stop(): Promise<void>;
}

export interface GitHttpsOptions {
  binary: string;
  /** The cluster's directory: the log goes to DIR/logs. */
  dir: string;
  net: NodeNetwork;
  /** The CA to issue its certificate from: CADIR/ca.crt and CADIR/ca.key (pki.ts's newCa). */
  caDir: string;
  /** The directory of repositories. */
  root: string;
  port?: number;
}

export const GIT_HTTPS_PORT = 8443;

export async function startGitHttps(o: GitHttpsOptions): Promise<GitHttps> {
  const port = o.port ?? GIT_HTTPS_PORT;
  const logDir = join(o.dir, "logs");
  await mkdir(logDir, { recursive: true });
  const cert = await issue(o.caDir, "githttps", { subject: "/CN=buildpod-githttps", usage: "server", san: [`IP:${o.net.address}`] });
  const daemon = startDaemon("githttps", [o.binary, `--listen=${o.net.address}:${port}`, `--cert=${cert.cert}`, `--key=${cert.key}`,
    `--root=${o.root}`], { logDir, enter: o.net.enter });
  try {
    // Its own word rather than a probe connection, which would leave a handshake error in the access log.
    await waitFor("githttps to listen", async () => readFileSync(daemon.logPath, "utf8").includes("listening on"), [daemon], 10_000);
  } catch (err) {
    await daemon.stop();
    throw err;
  }
  const host = `${o.net.address}:${port}`;
  return {
    host,
    url: (name) => `https://${host}/${name}`,
    caPath: join(o.caDir, "ca.crt"),
    accessLog: daemon.logPath,
    stop: () => daemon.stop(),
  };
}
