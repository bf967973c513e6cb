// The test cluster's credentials: one CA for every serving and client certificate, the service-account
// signing key, and static tokens for the identities people and tests use (kube-apiserver --token-auth-file).
// Made with the openssl command line, fresh for every cluster.
import { execFile } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdir, readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { promisify } from "node:util";

const openssl = (args: string[]) => promisify(execFile)("openssl", args);
const EC = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"];

/** A self-signed CA: DIR/ca.crt and DIR/ca.key. */
export async function newCa(dir: string, name = "buildpod-test-ca"): Promise<string> {
  await mkdir(dir, { recursive: true });
  await openssl(["req", "-x509", ...EC, "-keyout", join(dir, "ca.key"), "-out", join(dir, "ca.crt"), "-days", "3650",
    "-subj", `/CN=${name}`, "-addext", "basicConstraints=critical,CA:TRUE", "-addext", "keyUsage=critical,keyCertSign,cRLSign"]);
  return join(dir, "ca.crt");
}

export interface Issue {
  /** Subject, e.g. /O=system:masters/CN=admin */
  subject: string;
  /** Subject alternative names of a serving certificate, e.g. ["IP:127.0.0.1", "DNS:localhost"]. */
  san?: string[];
  usage: "server" | "client";
}

/** A certificate signed by DIR's CA: DIR/NAME.crt and DIR/NAME.key. */
export async function issue(dir: string, name: string, what: Issue): Promise<{ cert: string; key: string }> {
  const p = (ext: string) => join(dir, `${name}.${ext}`);
  await openssl(["req", ...EC, "-keyout", p("key"), "-out", p("csr"), "-subj", what.subject]);
  await writeFile(p("ext"), [
    ...(what.san?.length ? [`subjectAltName=${what.san.join(",")}`] : []),
    `extendedKeyUsage=${what.usage === "server" ? "serverAuth" : "clientAuth"}`,
    "keyUsage=critical,digitalSignature,keyEncipherment", "basicConstraints=CA:FALSE", "",
  ].join("\n"));
  await openssl(["x509", "-req", "-in", p("csr"), "-CA", join(dir, "ca.crt"), "-CAkey", join(dir, "ca.key"),
    "-CAcreateserial", "-out", p("crt"), "-days", "3650", "-extfile", p("ext")]);
  return { cert: p("crt"), key: p("key") };
}

/** Someone the API server knows by a static token. */
export interface Identity {
  user: string;
  groups: string[];
  token: string;
}

export function identity(user: string, groups: string[] = []): Identity {
  return { user, groups, token: randomBytes(24).toString("hex") };
}

/** kube-apiserver's --token-auth-file: token,user,uid,"group1,group2" */
export function tokenFile(ids: Identity[]): string {
  return ids.map((i) => `${i.token},${i.user},${i.user},"${i.groups.join(",")}"\n`).join("");
}

export interface ClusterPki {
  dir: string;
  caPath: string;
  apiserver: { cert: string; key: string };
  /** The API server's client certificate towards kubelets (system:masters). */
  kubeletClient: { cert: string; key: string };
  kubelet: { cert: string; key: string };
  serviceAccountKey: string;
  serviceAccountPub: string;
}

/** Everything the control plane and the node need, for a node at `address`. */
export async function clusterPki(dir: string, address: string, nodeName: string, serviceIp: string): Promise<ClusterPki> {
  const caPath = await newCa(dir);
  const apiserver = await issue(dir, "apiserver", {
    subject: "/CN=kube-apiserver", usage: "server",
    san: [`IP:${address}`, "IP:127.0.0.1", `IP:${serviceIp}`, "DNS:localhost", "DNS:kubernetes", "DNS:kubernetes.default",
      "DNS:kubernetes.default.svc", "DNS:kubernetes.default.svc.cluster.local"],
  });
  const kubeletClient = await issue(dir, "apiserver-kubelet-client", { subject: "/O=system:masters/CN=kube-apiserver-kubelet-client", usage: "client" });
  const kubelet = await issue(dir, "kubelet", { subject: `/CN=${nodeName}`, usage: "server", san: [`IP:${address}`, `DNS:${nodeName}`] });
  const serviceAccountKey = join(dir, "sa.key");
  const serviceAccountPub = join(dir, "sa.pub");
  await openssl(["genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-out", serviceAccountKey]);
  await openssl(["pkey", "-in", serviceAccountKey, "-pubout", "-out", serviceAccountPub]);
  return { dir, caPath, apiserver, kubeletClient, kubelet, serviceAccountKey, serviceAccountPub };
}

/** A kubeconfig for one user with a bearer token, the CA embedded. */
export function kubeconfigYaml(server: string, ca: Buffer, token: string, user: string, namespace = "default"): string {
  const safeUser = user.replace(/[^A-Za-z0-9:._-]/g, "-");
  return [
    "apiVersion: v1",
    "kind: Config",
    "clusters:",
    "- name: buildpod-test",
    "  cluster:",
    `    server: ${server}`,
    `    certificate-authority-data: ${ca.toString("base64")}`,
    "users:",
    `- name: "${safeUser}"`,
    "  user:",
    `    token: ${token}`,
    "contexts:",
    "- name: buildpod-test",
    "  context:",
    "    cluster: buildpod-test",
    `    user: "${safeUser}"`,
    `    namespace: ${namespace}`,
    "current-context: buildpod-test",
    "preferences: {}",
    "",
  ].join("\n");
}

export async function writeKubeconfig(path: string, server: string, caPath: string, id: Identity, namespace?: string): Promise<string> {
  await writeFile(path, kubeconfigYaml(server, await readFile(caPath), id.token, id.user, namespace), { mode: 0o600 });
  return path;
}
