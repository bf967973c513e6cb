// A container registry on loopback: Debian's docker-registry binary with its own config and storage dir
// (never the system service). Storage survives between runs, so images assembled once stay cached.
// Plain HTTP by default; with `tls` it serves HTTPS with the certificate given, with `htpasswd` it asks for
// a user and password (bcrypt entries), with `token` for a bearer token from a token service.
import { spawn, type ChildProcess } from "node:child_process";
import { mkdirSync, openSync, readFileSync, writeFileSync } from "node:fs";
import { request } from "node:https";
import { createServer } from "node:net";
import { join } from "node:path";
import { reapOnExit, sleep } from "./proc.js";

export interface Registry {
  /** host:port, e.g. 127.0.0.1:41234 */
  host: string;
  port: number;
  storageDir: string;
  /** Fully qualified image reference in this registry, e.g. ref("buildpod/busybox:abc") */
  ref(nameAndTag: string): string;
  stop(): Promise<void>;
}

export interface RegistryOptions {
  stateDir: string;
  /** Fixed port; 0 or absent picks a free one. */
  port?: number;
  /** Where it listens: default 127.0.0.1 in this process's network namespace. */
  listen?: Listen;
  /** Its directory under stateDir (config, log, storage): default "registry". */
  name?: string;
  /** Serve HTTPS with this certificate; `ca` is the CA that signed it, to check the registry answers. */
  tls?: { cert: string; key: string; ca: string };
  /** An htpasswd file with bcrypt entries: every request then needs one of its users. */
  htpasswd?: string;
  /**
   * Ask for a bearer token from the token service at `realm` instead: tokens are JWTs signed by a key whose
   * certificate is in `rootCertBundle`, issued by `issuer` for `service`.
   */
  token?: { realm: string; service: string; issuer: string; rootCertBundle: string };
  /** Log every request (default off). */
  accessLog?: boolean;
}

/** An address in a network namespace of the test cluster's (test/cluster/kube/netns.ts). */
export interface Listen {
  address: string;
  /** argv prefix that runs a command in the namespace. */
  enter: string[];
}

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.on("error", reject);
    srv.listen(0, "127.0.0.1", () => {
      const addr = srv.address();
      const port = typeof addr === "object" && addr ? addr.port : 0;
      srv.close(() => resolve(port));
    });
  });
}

export async function startRegistry(opts: RegistryOptions): Promise<Registry> {
  const dir = join(opts.stateDir, opts.name ?? "registry");
  const storageDir = join(dir, "storage");
  mkdirSync(storageDir, { recursive: true });
  const port = opts.port || Number(process.env.BUILDPOD_REGISTRY_PORT) || (await freePort());
  const host = `${opts.listen?.address ?? "127.0.0.1"}:${port}`;
  const config = [
    "version: 0.1",
    "log:",
    `  level: ${opts.accessLog ? "info" : "warn"}`,
    "  accesslog:",
    `    disabled: ${!opts.accessLog}`,
    "storage:",
    "  filesystem:",
    `    rootdirectory: ${JSON.stringify(storageDir)}`,
    "  delete:",
    "    enabled: true",
    "http:",
    `  addr: ${host}`,
    ...(opts.tls ? ["  tls:", `    certificate: ${JSON.stringify(opts.tls.cert)}`, `    key: ${JSON.stringify(opts.tls.key)}`] : []),
    ...(opts.htpasswd ? ["auth:", "  htpasswd:", `    realm: ${JSON.stringify(opts.name ?? "registry")}`, `    path: ${JSON.stringify(opts.htpasswd)}`] : []),
    ...(opts.token
      ? ["auth:", "  token:", ...Object.entries({ realm: opts.token.realm, service: opts.token.service, issuer: opts.token.issuer, rootcertbundle: opts.token.rootCertBundle }).map(([k, v]) => `    ${k}: ${JSON.stringify(v)}`)]
      : []),
    "",
  ].join("\n");
  const configPath = join(dir, `config-${host.replace(/[^0-9A-Za-z]/g, "-")}.yml`);
  writeFileSync(configPath, config);
  const logFd = openSync(join(dir, "registry.log"), "a");
  const argv = [...(opts.listen?.enter ?? []), "docker-registry", "serve", configPath];
  const child: ChildProcess = spawn(argv[0]!, argv.slice(1), {
    stdio: ["ignore", logFd, logFd],
    detached: false,
  });
  const exited = reapOnExit(child);

  const deadline = Date.now() + 15_000;
  for (;;) {
    if (exited()) throw new Error(`docker-registry exited early; see ${join(dir, "registry.log")}`);
    if (await answers(host, opts.tls?.ca)) break;
    if (Date.now() > deadline) {
      child.kill("SIGKILL");
      throw new Error(`docker-registry did not answer on ${host}`);
    }
    await sleep(100);
  }

  return {
    host,
    port,
    storageDir,
    ref: (nameAndTag) => `${host}/${nameAndTag}`,
    stop: async () => {
      if (exited()) return;
      const gone = new Promise<void>((r) => child.once("exit", () => r()));
      child.kill("SIGTERM");
      await Promise.race([gone, sleep(5000)]);
      if (!exited()) child.kill("SIGKILL");
    },
  };
}

/**
 * Whether the registry answers its API's base: 200, or 401 when it asks for a password. With CA, over HTTPS
 * checked against that CA.
 */
async function answers(host: string, ca?: string): Promise<boolean> {
  if (!ca) return fetch(`http://${host}/v2/`).then((r) => r.status === 200 || r.status === 401, () => false);
  const [hostname, port] = [host.slice(0, host.lastIndexOf(":")), Number(host.slice(host.lastIndexOf(":") + 1))];
  return new Promise((resolve) => {
    const req = request({ hostname, port, path: "/v2/", ca: readFileSync(ca), timeout: 2000 }, (res) => {
      res.resume();
      resolve(res.statusCode === 200 || res.statusCode === 401);
    });
    req.on("error", () => resolve(false));
    req.on("timeout", () => req.destroy());
    req.end();
  });
}

/** Whether the registry holds name:tag (a manifest HEAD request). */
export async function hasImage(registry: Registry, name: string, tag: string): Promise<boolean> {
  const res = await fetch(`http://${registry.host}/v2/${name}/manifests/${tag}`, {
    method: "HEAD",
    headers: {
      accept: [
        "application/vnd.oci.image.manifest.v1+json",
        "application/vnd.docker.distribution.manifest.v2+json",
        "application/vnd.oci.image.index.v1+json",
        "application/vnd.docker.distribution.manifest.list.v2+json",
      ].join(", "),
    },
  });
  return res.ok;
}
