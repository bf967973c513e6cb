// The test cluster's two private registries, beside the plain-HTTP one of test/cluster/infra: both serve
// HTTPS with a certificate of a CA the cluster makes for them (not the API server's), and ask for a user and
// password of their own (htpasswd, bcrypt).
//   secure  where builds that need a password push
//   base    holds only the busybox image, copied from the plain registry, to pull a base image from
// They listen in the node's network namespace like the plain one (the host and the pods reach them at the
// node's address) and keep nothing between clusters: their storage lies in the cluster's own directory.
// The node's containerd trusts their CA (node.ts writes a certs.d entry for each), so the kubelet pulls from
// them for a pod with imagePullSecrets holding their credentials; builders inside pods reach them with the CA
// and credentials mounted. The same CA signs the HTTPS Git server's certificate (githttps.ts): caDir.
import { randomBytes } from "node:crypto";
import { copyFileSync, mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { PodmanEnv } from "../infra/podman-env.js";
import { run } from "../infra/proc.js";
import { startRegistry, type Listen, type Registry } from "../infra/registry.js";
import { issue, newCa } from "./pki.js";

/** What a client needs to reach one of the registries. */
export interface PrivateRegistry {
  name: "secure" | "base";
  /** host:port, as the host and the pods both reach it. */
  host: string;
  /** The CA that signed its certificate (PEM). */
  caPath: string;
  username: string;
  password: string;
  registry: Registry;
}

export interface PrivateRegistries {
  secure: PrivateRegistry;
  /** Its busybox: the suite's busybox image under the same name and tag. */
  base: PrivateRegistry & { busybox: string };
  caPath: string;
  /** The CA's directory (ca.crt, ca.key), to issue other servers' certificates from it (pki.ts's issue). */
  caDir: string;
  /** A directory holding only ca.crt: a --cert-dir for skopeo and buildah. */
  certDir: string;
  /** containers-auth.json with both registries' credentials (for skopeo's and buildah's --authfile). */
  authFile: string;
  stop(): Promise<void>;
}

export interface PrivateRegistriesOptions {
  /** The cluster's directory: everything goes under DIR/registries. */
  dir: string;
  listen: Listen;
  podman: PodmanEnv;
  /** The busybox image in the plain registry, copied to "base" ("" for none). */
  busybox: string;
  /** host:port of the plain registry. */
  plainRegistry: string;
}

export const SECURE_PORT = 5001;
export const BASE_PORT = 5002;

/** An htpasswd file with one bcrypt entry; the password goes to htpasswd on its standard input. */
async function htpasswd(path: string, user: string, password: string): Promise<void> {
  const r = await run("htpasswd", ["-niB", user], { input: `${password}\n` });
  writeFileSync(path, r.stdout, { mode: 0o600 });
}

/** containers-auth.json: {"auths": {HOST: {"auth": base64(USER:PASSWORD)}}} */
export function authJson(entries: { host: string; username: string; password: string }[]): string {
  const auths: Record<string, { auth: string }> = {};
  for (const e of entries) auths[e.host] = { auth: Buffer.from(`${e.username}:${e.password}`).toString("base64") };
  return JSON.stringify({ auths }, null, 2);
}

export async function startPrivateRegistries(o: PrivateRegistriesOptions): Promise<PrivateRegistries> {
  const dir = join(o.dir, "registries");
  const pki = join(dir, "pki");
  const caPath = await newCa(pki, "buildpod-registry-ca");
  const cert = await issue(pki, "registry", { subject: "/CN=buildpod-registry", usage: "server", san: [`IP:${o.listen.address}`] });
  const certDir = join(dir, "trust");
  mkdirSync(certDir, { recursive: true });
  copyFileSync(caPath, join(certDir, "ca.crt"));

  const started: PrivateRegistry[] = [];
  const stop = async () => {
    await Promise.all(started.map((r) => r.registry.stop()));
  };
  try {
    for (const [name, port] of [["secure", SECURE_PORT], ["base", BASE_PORT]] as const) {
      mkdirSync(join(dir, name), { recursive: true });
      const username = `${name}-user-${randomBytes(3).toString("hex")}`;
      const password = randomBytes(18).toString("base64url");
      const file = join(dir, name, "htpasswd");
      await htpasswd(file, username, password);
      const registry = await startRegistry({
        stateDir: dir, name, port, listen: o.listen, tls: { ...cert, ca: caPath }, htpasswd: file, accessLog: true,
      });
      started.push({ name, host: registry.host, caPath, username, password, registry });
    }
    const [secure, baseRegistry] = started as [PrivateRegistry, PrivateRegistry];
    const authFile = join(dir, "auth.json");
    writeFileSync(authFile, authJson(started), { mode: 0o600 });
    // A cluster started without images has none to copy (then busybox is "").
    const busybox = o.busybox ? baseRegistry.registry.ref(o.busybox.slice(o.plainRegistry.length + 1)) : "";
    if (busybox) {
      await run("skopeo", ["copy", "--quiet", "--src-tls-verify=false", "--dest-cert-dir", certDir, "--dest-authfile", authFile,
        `docker://${o.busybox}`, `docker://${busybox}`], { env: o.podman.env });
    }
    return { secure, base: { ...baseRegistry, busybox }, caPath, caDir: pki, certDir, authFile, stop };
  } catch (err) {
    await stop();
    throw err;
  }
}
