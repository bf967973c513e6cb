// A kubeconfig's context made ready for requests: its TLS settings and credentials (a token, a token file, a
// client certificate, an exec plugin's credential) put on each connection. These are handled here and cost a
// few milliseconds; the legacy auth-provider plugins and proxy-url go to client-node's KubeConfig, loaded only
// for them (it is most of a bundle and about 90 ms of start-up).
import { readFileSync } from "node:fs";
import type { RequestOptions } from "node:https";
import { ExecPlugin } from "./credential-plugin.js";
import { ClusterError } from "./errors.js";
import { fileOrData, readKubeconfigFiles, type ClusterEntry, type ConnectOptions, type Merged, type UserEntry } from "./kubeconfig-files.js";
import { importPart } from "./lazy.js";

export type { ConnectOptions };

/** What talking to a cluster needs from a kubeconfig; client-node's KubeConfig has the same shape. */
export interface ClusterAccess {
  getCurrentCluster(): { server: string; proxyUrl?: string } | null;
  getCurrentContext(): string;
  getContextObject(name: string): { namespace?: string } | null;
  /** Puts the TLS material and credentials of the current context on a request's options. */
  applyToHTTPSOptions(o: RequestOptions): Promise<void>;
  /**
   * The server refused the credentials a request was sent with (its options): drops them if they can be
   * fetched again. Says whether the next request will carry other credentials.
   */
  refused?(used: RequestOptions): boolean;
}

/** Token files are re-read this often: projected service account tokens rotate under a running process. */
const TOKEN_FILE_TTL_MS = 60_000;

/** One context of a kubeconfig: its cluster and the credentials to use there. */
export class Kubeconfig implements ClusterAccess {
  private tokenRead?: { token: string; at: number };
  private readonly plugin?: ExecPlugin;

  constructor(
    private readonly merged: Merged,
    private readonly context: string,
    private readonly cluster: ClusterEntry,
    private readonly user: UserEntry,
  ) {
    if (user.exec) this.plugin = new ExecPlugin(user.exec, cluster);
  }

  getCurrentCluster() {
    return { server: this.cluster.server, proxyUrl: this.cluster.proxyUrl };
  }

  refused(used: RequestOptions): boolean {
    const auth = (used.headers as Record<string, string> | undefined)?.Authorization;
    if (this.plugin) return this.plugin.refused(auth, used.cert);
    if (!this.user.tokenFile) return false;
    // A projected token rotated or was revoked within the minute: read the file again now.
    const before = this.tokenRead?.token;
    if (auth !== `Bearer ${before}`) return true;
    this.tokenRead = undefined;
    try {
      return this.token() !== before;
    } catch {
      return true; // the next request says why the file cannot be read
    }
  }

  getCurrentContext(): string {
    return this.context;
  }

  getContextObject(name: string) {
    const c = this.merged.contexts.get(name);
    return c ? { namespace: c.namespace } : null;
  }

  /**
   * The bearer token. As client-go has it, a token file's token wins over a token written beside it, which
   * is used only while the file cannot be read.
   */
  private token(): string | undefined {
    const u = this.user;
    if (!u.tokenFile) return u.token;
    const now = Date.now();
    if (!this.tokenRead || now - this.tokenRead.at > TOKEN_FILE_TTL_MS) {
      try {
        this.tokenRead = { token: readFileSync(u.tokenFile, "utf8").trim(), at: now };
      } catch (err) {
        if (u.token) return u.token;
        throw new ClusterError(`cannot read the token file ${u.tokenFile}: ${(err as Error).message}`);
      }
    }
    return this.tokenRead.token;
  }

  async applyToHTTPSOptions(o: RequestOptions): Promise<void> {
    const c = this.cluster;
    const u = this.user;
    if (c.skipTLSVerify) o.rejectUnauthorized = false;
    if (c.tlsServerName) o.servername = c.tlsServerName;
    const ca = fileOrData(c.caFile, c.caData, "certificate authority");
    if (ca) o.ca = ca;
    const headers = { ...(o.headers as Record<string, string> | undefined) };
    const cred = this.plugin ? await this.plugin.credential() : undefined;
    const cert = cred?.cert ?? fileOrData(u.certFile, u.certData, "client certificate");
    const key = cred?.key ?? fileOrData(u.keyFile, u.keyData, "client key");
    if (cert) o.cert = cert;
    if (key) o.key = key;
    const token = cred?.token ?? this.token();
    if (token) headers.Authorization = `Bearer ${token}`;
    else if (u.username !== undefined && u.password !== undefined) headers.Authorization = `Basic ${Buffer.from(`${u.username}:${u.password}`).toString("base64")}`;
    if (u.as) headers["Impersonate-User"] = u.as;
    o.headers = headers;
  }
}

/**
 * The kubeconfig's context (the current one, or `context`), ready to make requests: own code for
 * everything but auth-provider users and proxy-url clusters, which client-node's KubeConfig serves.
 */
export async function loadKubeConfig(opts: ConnectOptions = {}): Promise<ClusterAccess> {
  const merged = readKubeconfigFiles(opts);
  const names = () => [...merged.contexts.keys()].join(", ") || "none";
  const name = opts.context ?? merged.current;
  if (!name) throw new ClusterError(`the kubeconfig sets no current-context; choose one of its contexts (${names()})`);
  const ctx = merged.contexts.get(name);
  if (!ctx) {
    throw new ClusterError(opts.context
      ? `the kubeconfig has no context "${name}" (it has: ${names()})`
      : `the kubeconfig's current-context "${name}" is not one of its contexts (${names()})`);
  }
  const cluster = merged.clusters.get(ctx.cluster);
  if (!cluster) throw new ClusterError(`the kubeconfig's context "${name}" names cluster "${ctx.cluster}", which the kubeconfig does not define`);
  let user: UserEntry = {};
  if (ctx.user) {
    const u = merged.users.get(ctx.user);
    // kubectl goes on anonymously; a missing user is more likely a mistake than a wish.
    if (!u) throw new ClusterError(`the kubeconfig's context "${name}" names user "${ctx.user}", which the kubeconfig does not define`);
    user = u;
  }
  if (user.authProvider || cluster.proxyUrl) {
    // Bundled, the part is a bundle of its own beside the one this module is in.
    const { clientNodeConfig } = await importPart<typeof import("./kubeconfig-legacy.js")>(import.meta.url, "/index.js", "./auth/index.js", "./kubeconfig-legacy.js");
    return clientNodeConfig(name, ctx, cluster, user);
  }
  return new Kubeconfig(merged, name, cluster, user);
}
