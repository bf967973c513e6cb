// A throwaway CA and a server certificate for 127.0.0.1/localhost, made with the openssl command line.
import { execFile } from "node:child_process";
import { readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { promisify } from "node:util";

const run = promisify(execFile);

export interface Certs {
  caPath: string;
  ca: Buffer;
  cert: Buffer;
  key: Buffer;
}

export async function makeCerts(dir: string): Promise<Certs> {
  const p = (f: string) => join(dir, f);
  const ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"];
  await run("openssl", [
    "req", "-x509", ...ec, "-keyout", p("ca.key"), "-out", p("ca.crt"), "-days", "3650", "-subj", "/CN=buildpod-test-ca",
    "-addext", "basicConstraints=critical,CA:TRUE", "-addext", "keyUsage=critical,keyCertSign,cRLSign",
  ]);
  await run("openssl", ["req", ...ec, "-keyout", p("apiserver.key"), "-out", p("apiserver.csr"), "-subj", "/CN=kube-apiserver"]);
  await writeFile(
    p("apiserver.ext"),
    "subjectAltName=IP:127.0.0.1,IP:::1,DNS:localhost,DNS:kubernetes.default.svc\n" +
      "extendedKeyUsage=serverAuth\nkeyUsage=critical,digitalSignature,keyEncipherment\nbasicConstraints=CA:FALSE\n",
  );
  await run("openssl", [
    "x509", "-req", "-in", p("apiserver.csr"), "-CA", p("ca.crt"), "-CAkey", p("ca.key"), "-CAcreateserial",
    "-out", p("apiserver.crt"), "-days", "3650", "-extfile", p("apiserver.ext"),
  ]);
  return { caPath: p("ca.crt"), ca: await readFile(p("ca.crt")), cert: await readFile(p("apiserver.crt")), key: await readFile(p("apiserver.key")) };
}

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
