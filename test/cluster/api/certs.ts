// A throwaway CA and a server certificate for 127.0.0.1/localhost, for the emulated API server.
import { readFile } from "node:fs/promises";
import { issue, newCa } from "../kube/pki.js";

export { kubeconfigYaml } from "../kube/pki.js";

export interface Certs {
  caPath: string;
  ca: Buffer;
  cert: Buffer;
  key: Buffer;
}

export async function makeCerts(dir: string): Promise<Certs> {
  const caPath = await newCa(dir);
  const server = await issue(dir, "apiserver", {
    subject: "/CN=kube-apiserver", usage: "server", san: ["IP:127.0.0.1", "IP:::1", "DNS:localhost", "DNS:kubernetes.default.svc"],
  });
  return { caPath, ca: await readFile(caPath), cert: await readFile(server.cert), key: await readFile(server.key) };
}
