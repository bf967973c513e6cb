// Exec credential plugins (client.authentication.k8s.io): running one, and keeping its credential until it
// expires or the server refuses it.
import { execFile } from "node:child_process";
import { ClusterError } from "./errors.js";
import { fileOrData, str, type ClusterEntry, type ExecConfig } from "./kubeconfig-files.js";

/** An exec credential is renewed this long before it expires, so no request goes out with a stale one. */
const EXEC_RENEW_MS = 30_000;
const EXEC_TIMEOUT_MS = 120_000;

interface ExecCredential {
  token?: string;
  cert?: string;
  key?: string;
  /** Milliseconds since the epoch; none: good until the process ends or the server refuses it. */
  expires?: number;
}

/** Runs an exec credential plugin (client.authentication.k8s.io) and keeps its answer until it expires. */
export class ExecPlugin {
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
