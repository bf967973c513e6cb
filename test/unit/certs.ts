// A throwaway CA and a server certificate for 127.0.0.1/localhost, for the unit tests' own TLS servers.
import { readFile } from "node:fs/promises";
import { issue, newCa } from "../cluster/kube/pki.js";

export { kubeconfigYaml } from "../cluster/kube/pki.js";

export interface Certs {
  caPath: string;
  ca: Buffer;
  cert: Buffer;
  key: Buffer;
}

export async function makeCerts(dir: string): Promise<Certs> {
  const caPath = await newCa(dir);
  const server = await issue(dir, "server", {
    subject: "/CN=localhost", usage: "server", san: ["IP:127.0.0.1", "IP:::1", "DNS:localhost"],
  });
  return { caPath, ca: await readFile(caPath), cert: await readFile(server.cert), key: await readFile(server.key) };
}
