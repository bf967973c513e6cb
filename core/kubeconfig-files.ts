// Reading kubeconfigs as kubectl does: the given file, the KUBECONFIG list merged, ~/.kube/config, or the
// pod's service account, into the entries a context is made of (kubeconfig.ts makes it ready for requests).
import { existsSync, readFileSync } from "node:fs";
import { homedir } from "node:os";
import { isIPv6 } from "node:net";
import { delimiter, dirname, isAbsolute, join } from "node:path";
import { parse } from "yaml";
import { ClusterError } from "./errors.js";

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

export const str = (v: unknown): string | undefined => (typeof v === "string" && v !== "" ? v : undefined);

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
export function fileOrData(file: string | undefined, data: string | undefined, what: string): Buffer | undefined {
  if (data) return Buffer.from(data, "base64");
  if (!file) return undefined;
  try {
    return readFileSync(file);
  } catch (err) {
    throw new ClusterError(`cannot read the kubeconfig's ${what} ${file}: ${(err as Error).message}`);
  }
}
