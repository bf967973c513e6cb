// Reading kubeconfigs as kubectl does: the given file, the KUBECONFIG list merged, ~/.kube/config, or the
// pod's service account. Tokens, token files, client certificates and exec credential plugins are handled
// here and cost a few milliseconds; the legacy auth-provider plugins and proxy-url go to client-node's
// KubeConfig, loaded only for them (it is most of a bundle and about 90 ms of start-up).
import { execFile } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { homedir } from "node:os";
import { isIPv6 } from "node:net";
import { delimiter, dirname, isAbsolute, join } from "node:path";
import type { RequestOptions } from "node:https";
import { parse } from "yaml";
import { ClusterError } from "./errors.js";
import { importPart } from "./lazy.js";

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

export interface ConnectOptions {
  /** Path of a kubeconfig file; otherwise KUBECONFIG, ~/.kube/config, or the in-cluster service account. */
  kubeconfig?: string;
  context?: string;
}

export interface ClusterEntry {
  server: string;
  caFile?: string;
  caData?: string;
  skipTLSVerify: boolean;
  tlsServerName?: string;
  proxyUrl?: string;
}

export interface ExecConfig {
  command: string;
  args: string[];
  env: { name: string; value: string }[];
  apiVersion: string;
  installHint?: string;
  provideClusterInfo: boolean;
  interactiveMode?: string;
}

export interface UserEntry {
  token?: string;
  tokenFile?: string;
  certFile?: string;
  certData?: string;
  keyFile?: string;
  keyData?: string;
  username?: string;
  password?: string;
  as?: string;
  exec?: ExecConfig;
  authProvider?: { name: string; config?: Record<string, string> };
}

export interface ContextEntry {
  cluster: string;
  user?: string;
  namespace?: string;
}

/** Every file's entries merged: the first file to name a cluster, user or context wins, as in kubectl. */
export interface Merged {
  clusters: Map<string, ClusterEntry>;
  users: Map<string, UserEntry>;
  contexts: Map<string, ContextEntry>;
  current?: string;
}

const SERVICE_ACCOUNT = "/var/run/secrets/kubernetes.io/serviceaccount";
/** Token files are re-read this often: projected service account tokens rotate under a running process. */
const TOKEN_FILE_TTL_MS = 60_000;
/** An exec credential is renewed this long before it expires, so no request goes out with a stale one. */
const EXEC_RENEW_MS = 30_000;
const EXEC_TIMEOUT_MS = 120_000;

const str = (v: unknown): string | undefined => (typeof v === "string" && v !== "" ? v : undefined);

function bad(file: string, what: string): ClusterError {
  return new ClusterError(`the kubeconfig ${file} is not valid: ${what}`);
}

/**
 * The named entries of a kubeconfig list ("clusters", each with its "cluster" mapping...) as [name, mapping],
 * leaving out names an earlier file set: the first file to name an entry wins, as in kubectl.
 */
function entries(doc: Record<string, unknown>, key: string, field: string, known: Map<string, unknown>, file: string): [string, Record<string, unknown>][] {
  const v = doc[key];
  if (v === undefined || v === null) return [];
  if (!Array.isArray(v)) throw bad(file, `${key} must be a list`);
  return v.flatMap((e, i) => {
    if (!e || typeof e !== "object" || !str((e as { name?: unknown }).name)) throw bad(file, `${key}[${i}] has no name`);
    const { name, [field]: body } = e as Record<string, unknown>;
    return known.has(name as string) ? [] : [[name as string, (body ?? {}) as Record<string, unknown>]];
  });
}

function absolute(base: string, p: string | undefined): string | undefined {
  return p === undefined || isAbsolute(p) ? p : join(base, p);
}

function execConfig(v: Record<string, unknown>, base: string, file: string, name: string): ExecConfig {
  const given = str(v.command);
  if (!given) throw bad(file, `users "${name}": exec has no command`);
  // A relative path with a directory in it is relative to the kubeconfig, as in kubectl.
  const command = given.includes("/") && !isAbsolute(given) ? join(base, given) : given;
  const args = Array.isArray(v.args) ? v.args.map(String) : [];
  const env = Array.isArray(v.env) ? v.env.map((e: { name?: unknown; value?: unknown }) => ({ name: String(e?.name ?? ""), value: String(e?.value ?? "") })) : [];
  return {
    command, args, env,
    apiVersion: str(v.apiVersion) ?? "client.authentication.k8s.io/v1",
    installHint: str(v.installHint),
    provideClusterInfo: v.provideClusterInfo === true,
    interactiveMode: str(v.interactiveMode),
  };
}

/** Adds one file's entries to `into` (names already there stay as they are). */
function addFile(into: Merged, file: string, text: string): void {
  let doc: unknown;
  try {
    doc = parse(text);
  } catch (err) {
    throw bad(file, (err as Error).message.split("\n")[0]);
  }
  if (doc === null || doc === undefined) return;
  if (typeof doc !== "object" || Array.isArray(doc)) throw bad(file, "it is not a YAML mapping");
  const d = doc as Record<string, unknown>;
  const base = dirname(file);
  for (const [name, c] of entries(d, "clusters", "cluster", into.clusters, file)) {
    const server = str(c.server);
    if (!server) throw bad(file, `clusters "${name}" has no server`);
    into.clusters.set(name, {
      server: server.replace(/\/+$/, ""),
      caFile: absolute(base, str(c["certificate-authority"])),
      caData: str(c["certificate-authority-data"]),
      skipTLSVerify: c["insecure-skip-tls-verify"] === true,
      tlsServerName: str(c["tls-server-name"]),
      proxyUrl: str(c["proxy-url"]),
    });
  }
  for (const [name, u] of entries(d, "users", "user", into.users, file)) {
    if (u["as-groups"] !== undefined || u["as-uid"] !== undefined || u["as-user-extra"] !== undefined) {
      throw bad(file, `users "${name}": impersonating groups, UIDs or extra fields (as-groups, as-uid, as-user-extra) is not supported; impersonate a user with "as"`);
    }
    const provider = u["auth-provider"] as { name?: unknown; config?: Record<string, string> } | undefined;
    into.users.set(name, {
      token: str(u.token),
      tokenFile: absolute(base, str(u.tokenFile) ?? str(u["token-file"])),
      certFile: absolute(base, str(u["client-certificate"])),
      certData: str(u["client-certificate-data"]),
      keyFile: absolute(base, str(u["client-key"])),
      keyData: str(u["client-key-data"]),
      username: str(u.username),
      password: str(u.password),
      as: str(u.as),
      exec: u.exec && typeof u.exec === "object" ? execConfig(u.exec as Record<string, unknown>, base, file, name) : undefined,
      authProvider: provider && str(provider.name) ? { name: provider.name as string, config: provider.config } : undefined,
    });
  }
  for (const [name, c] of entries(d, "contexts", "context", into.contexts, file)) {
    const cluster = str(c.cluster);
    if (!cluster) throw bad(file, `contexts "${name}" names no cluster`);
    into.contexts.set(name, { cluster, user: str(c.user), namespace: str(c.namespace) });
  }
  into.current ??= str(d["current-context"]);
}

function readText(file: string): string {
  try {
    return readFileSync(file, "utf8");
  } catch (err) {
    throw new ClusterError(`cannot read the kubeconfig ${file}: ${(err as NodeJS.ErrnoException).code === "EACCES" ? "permission denied" : (err as Error).message}`);
  }
}

/** The service account a pod runs as, when this runs in one. `root` is for tests. */
export function inClusterConfig(root = SERVICE_ACCOUNT): Merged | undefined {
  const host = process.env.KUBERNETES_SERVICE_HOST;
  const port = process.env.KUBERNETES_SERVICE_PORT;
  const tokenFile = join(root, "token");
  if (!host || !port || !existsSync(tokenFile)) return undefined;
  let namespace: string | undefined;
  try {
    namespace = readFileSync(join(root, "namespace"), "utf8").trim() || undefined;
  } catch {}
  return {
    clusters: new Map([["in-cluster", { server: `https://${isIPv6(host) ? `[${host}]` : host}:${port}`, caFile: join(root, "ca.crt"), skipTLSVerify: false }]]),
    users: new Map([["in-cluster", { tokenFile }]]),
    contexts: new Map([["in-cluster", { cluster: "in-cluster", user: "in-cluster", namespace }]]),
    current: "in-cluster",
  };
}

/** The kubeconfig entries buildpod would use, from where kubectl would find them. */
export function readKubeconfigFiles(opts: ConnectOptions = {}): Merged {
  const merged: Merged = { clusters: new Map(), users: new Map(), contexts: new Map() };
  if (opts.kubeconfig) {
    if (!existsSync(opts.kubeconfig)) throw new ClusterError(`the kubeconfig ${opts.kubeconfig} does not exist`);
    addFile(merged, opts.kubeconfig, readText(opts.kubeconfig));
    return merged;
  }
  const listed = (process.env.KUBECONFIG ?? "").split(delimiter).filter(Boolean);
  if (listed.length) {
    // kubectl skips the files of the list that do not exist.
    const present = listed.filter((f) => existsSync(f));
    if (!present.length) throw new ClusterError(`none of the kubeconfig files KUBECONFIG lists exists (${listed.join(delimiter)})`);
    for (const f of present) addFile(merged, f, readText(f));
    return merged;
  }
  const home = process.env.HOME || homedir();
  const file = join(home, ".kube", "config");
  if (existsSync(file)) {
    addFile(merged, file, readText(file));
    return merged;
  }
  const inCluster = inClusterConfig();
  if (inCluster) return inCluster;
  throw new ClusterError("no cluster to talk to: give --kubeconfig, set KUBECONFIG, create ~/.kube/config, or run inside a cluster");
}

/** Inline data over a file, as client-go has it (data wins when a kubeconfig gives both). */
function fileOrData(file: string | undefined, data: string | undefined, what: string): Buffer | undefined {
  if (data) return Buffer.from(data, "base64");
  if (!file) return undefined;
  try {
    return readFileSync(file);
  } catch (err) {
    throw new ClusterError(`cannot read the kubeconfig's ${what} ${file}: ${(err as Error).message}`);
  }
}

interface ExecCredential {
  token?: string;
  cert?: string;
  key?: string;
  /** Milliseconds since the epoch; none: good until the process ends or the server refuses it. */
  expires?: number;
}

/** Runs an exec credential plugin (client.authentication.k8s.io) and keeps its answer until it expires. */
class ExecPlugin {
  private cached?: ExecCredential;
  private running?: Promise<ExecCredential>;

  constructor(private readonly config: ExecConfig, private readonly cluster: ClusterEntry) {}

  credential(): Promise<ExecCredential> {
    const c = this.cached;
    if (c && (c.expires === undefined || c.expires - Date.now() > EXEC_RENEW_MS)) return Promise.resolve(c);
    this.running ??= this.run().then(
      (cred) => ((this.cached = cred), (this.running = undefined), cred),
      (err: unknown) => {
        this.running = undefined;
        throw err;
      },
    );
    return this.running;
  }

  /**
   * The server refused a request sent with `auth` (its Authorization header) or `cert`: if that was the
   * credential in hand, the plugin is run again at the next request, as kubectl runs it again on a 401.
   */
  refused(auth: unknown, cert: unknown): true {
    const c = this.cached;
    // A credential renewed since that request (or being renewed) is kept.
    if (c && !this.running && (c.token ? auth === `Bearer ${c.token}` : cert === c.cert)) this.cached = undefined;
    return true;
  }

  private run(): Promise<ExecCredential> {
    const x = this.config;
    const name = `the kubeconfig's credential plugin ${x.command}`;
    if (/v1alpha1$/.test(x.apiVersion)) {
      return Promise.reject(new ClusterError(`${name} speaks ${x.apiVersion}, which Kubernetes clients no longer support; update the plugin and its kubeconfig entry to client.authentication.k8s.io/v1`));
    }
    if (x.interactiveMode === "Always") {
      return Promise.reject(new ClusterError(`${name} needs a terminal to ask for a login (interactiveMode: Always), and buildpod runs without one; use a kubeconfig with a token or a non-interactive plugin`));
    }
    const spec: Record<string, unknown> = { interactive: false };
    if (x.provideClusterInfo) {
      const c = this.cluster;
      const ca = fileOrData(c.caFile, c.caData, "certificate authority");
      spec.cluster = {
        server: c.server, "tls-server-name": c.tlsServerName, "insecure-skip-tls-verify": c.skipTLSVerify,
        "certificate-authority-data": ca?.toString("base64"),
      };
    }
    const env: NodeJS.ProcessEnv = { ...process.env, KUBERNETES_EXEC_INFO: JSON.stringify({ apiVersion: x.apiVersion, kind: "ExecCredential", spec }) };
    for (const e of x.env) env[e.name] = e.value;
    return new Promise((resolve, reject) => {
      execFile(x.command, x.args, { env, timeout: EXEC_TIMEOUT_MS, maxBuffer: 4 << 20 }, (err, stdout, stderr) => {
        if (err) {
          const e = err as NodeJS.ErrnoException & { killed?: boolean; code?: string | number };
          if (e.code === "ENOENT") return reject(new ClusterError(`${name} was not found: ${x.installHint ?? "install it, or put its directory on PATH"}`));
          if (e.killed) return reject(new ClusterError(`${name} gave no credential in ${EXEC_TIMEOUT_MS / 1000}s`));
          const said = stderr.trim().split("\n").slice(-5).join("\n").slice(-600);
          return reject(new ClusterError(`${name} failed (exit ${e.code ?? "?"})${said ? `: ${said}` : ""}`));
        }
        let out: { apiVersion?: string; kind?: string; status?: Record<string, unknown> };
        try {
          out = JSON.parse(stdout) as typeof out;
        } catch {
          return reject(new ClusterError(`${name} printed no ExecCredential (its output is not JSON)`));
        }
        const s = out?.status;
        if (out?.kind !== "ExecCredential" || !s || typeof s !== "object") return reject(new ClusterError(`${name} printed no ExecCredential status`));
        if (out.apiVersion !== x.apiVersion) return reject(new ClusterError(`${name} answered in ${out.apiVersion}, not the ${x.apiVersion} the kubeconfig asks for`));
        const cred: ExecCredential = { token: str(s.token), cert: str(s.clientCertificateData), key: str(s.clientKeyData) };
        if (!cred.token && !(cred.cert && cred.key)) return reject(new ClusterError(`${name} gave neither a token nor a client certificate and key`));
        const expires = str(s.expirationTimestamp);
        if (expires) {
          const t = Date.parse(expires);
          if (!Number.isFinite(t)) return reject(new ClusterError(`${name} gave an expirationTimestamp that is not a time: ${expires}`));
          cred.expires = t;
        }
        resolve(cred);
      });
    });
  }
}

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
