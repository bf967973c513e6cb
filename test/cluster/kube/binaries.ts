// Where test/cluster/cmd/build.sh (run by `npm run setup`) puts the test cluster's binaries.
import { existsSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

export interface KubeBinaries {
  /** etcd, kube-apiserver, kube-controller-manager, kube-scheduler, kubelet, kubectl: `kube NAME ...` */
  kube: string;
  /** kubectl of the same release (a link to kube). */
  kubectl: string;
  /** The pod sandbox's one binary. */
  pause: string;
  /** The fault proxy the fault tests put in front of the API server. */
  faultproxy: string;
  /** The HTTPS Git server (git http-backend behind TLS). */
  githttps: string;
  /** The TCP forwarder that drops connections on demand (a registry with passing trouble). */
  flaky: string;
  /** A node that plays each pod's life without containers, for the fan-out benchmark. */
  virtualkubelet: string;
}

/** The repository's root (from the sources or from their compiled copy under build/). */
export function repoRoot(): string {
  let d = dirname(fileURLToPath(import.meta.url));
  while (!existsSync(join(d, "package.json")) && dirname(d) !== d) d = dirname(d);
  return d;
}

export function kubeBinaries(): KubeBinaries {
  const dir = join(repoRoot(), ".cluster", "bin");
  const b = { kube: join(dir, "kube"), kubectl: join(dir, "kubectl"), pause: join(dir, "pause"), faultproxy: join(dir, "faultproxy"), githttps: join(dir, "githttps"), flaky: join(dir, "flaky"), virtualkubelet: join(dir, "virtualkubelet") };
  for (const f of Object.values(b)) {
    if (!existsSync(f)) throw new Error(`${f} is missing: build the test cluster's Kubernetes with  bash test/cluster/cmd/build.sh  (npm run setup does)`);
  }
  return b;
}
