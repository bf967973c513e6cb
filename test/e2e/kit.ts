// What the end-to-end tests share: the cluster's coordinates, requests aimed at it, registry checks,
// Git repositories, identities bound to Roles, the fault proxy's controls, and the private registries, the
// Git server over HTTPS and the forward proxy.
import { copyFileSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parse as parseYaml, stringify } from "yaml";
import { expect, inject } from "vitest";
import { Cluster, parseRequest, runBuild, type BuildRequest, type BuildResult, type RunOptions } from "../../core/index.js";
import { createTestRepo, type TestRepoOptions } from "../cluster/infra/gitd.js";
import { bindRole, builderRules, type Rule } from "../cluster/kube/index.js";
import { run } from "../cluster/infra/proc.js";
import { faultControl, type FaultControl } from "../cluster/kube/faults.js";
// A docker config.json / containers-auth.json with a user and password for each host.
export { authJson } from "../cluster/kube/registries.js";

export const tc = () => inject("cluster");

let connected: Promise<Cluster> | undefined;
export function cluster(): Promise<Cluster> {
  connected ??= Cluster.connect({ kubeconfig: tc().kubeconfig });
  return connected;
}

/** deploy/rbac.yaml's Role. */
export const rbacRole = builderRules;

let identities = 0;

/**
 * A kubeconfig for a new identity that may do exactly RULES in NAMESPACE (plus what every authenticated
 * user may, such as access reviews): a ServiceAccount bound to a Role, with a token from the TokenRequest
 * API, as a CI system running in the cluster would have.
 */
export async function kubeconfigFor(rules: Rule[], namespace = "default"): Promise<string> {
  const c = await cluster();
  const name = `e2e-${RUN}-${++identities}`;
  const ns = `/api/v1/namespaces/${namespace}`;
  await c.call("creating a service account", "POST", `${ns}/serviceaccounts`, { body: { metadata: { name } } });
  await bindRole(c, namespace, name, rules, { kind: "ServiceAccount", name });
  const token = await c.call<{ status: { token: string } }>("requesting a token", "POST", `${ns}/serviceaccounts/${name}/token`, {
    body: { apiVersion: "authentication.k8s.io/v1", kind: "TokenRequest", spec: { expirationSeconds: 3600 } },
  });
  const doc = parseYaml(readFileSync(tc().kubeconfig, "utf8")) as { users: { name: string; user: Record<string, unknown> }[]; contexts: { context: Record<string, unknown> }[] };
  for (const u of doc.users) u.user = { token: token.status.token };
  for (const x of doc.contexts) x.context.namespace = namespace;
  const path = join(mkdtempSync(join(tmpdir(), "buildpod-id-")), "config");
  writeFileSync(path, stringify(doc), { mode: 0o600 });
  return path;
}

/** A request for the test cluster: its registry (plain HTTP), its images, short deadlines. */
export function request_(raw: Record<string, unknown>): BuildRequest {
  const c = tc();
  return parseRequest({
    images: { source: c.builder, buildah: c.builder },
    startTimeout: "60s",
    timeout: "5m",
    ...raw,
    output: { insecure: true, ...(raw.output as object) },
  });
}

export interface Recorded {
  result: BuildResult;
  progress: string[];
  lines: Record<string, string[]>;
}

/** Runs a build to its end, as the suite's identity or as the one of KUBECONFIG. */
export async function build(raw: Record<string, unknown>, opts: RunOptions = {}, kubeconfig?: string): Promise<Recorded> {
  const progress: string[] = [];
  const lines: Record<string, string[]> = {};
  const c = kubeconfig ? await Cluster.connect({ kubeconfig }) : await cluster();
  const result = await runBuild(c, request_(raw), {
    ...opts,
    onProgress: (m) => progress.push(m),
    onLog: (c, l) => (lines[c] ??= []).push(l.text),
  });
  // A build that did not complete leaves its story in the test's output, for a failure met only in CI.
  if (result.status !== "Complete") {
    const logs = Object.entries(lines).map(([c, l]) => `--- ${c} (last 40 lines)\n${l.slice(-40).join("\n")}`);
    console.error(`build ${result.run}: ${result.status} ${result.reason}: ${result.message}\n--- progress\n${progress.join("\n")}\n${logs.join("\n")}`);
  }
  return { result, progress, lines };
}

/** The registry keeps its images between runs: each run pushes under its own path. */
const RUN = `e2e-${Date.now().toString(36)}${Math.random().toString(36).slice(2, 6)}`;

export function image(name: string): string {
  return `${tc().registry}/${RUN}/${name}`;
}

/** The digest the registry serves for a reference, read with skopeo. */
export async function registryDigest(ref: string): Promise<string> {
  const r = await run("skopeo", ["inspect", "--tls-verify=false", "--format", "{{.Digest}}", `docker://${ref}`], { env: tc().podmanEnv });
  return r.stdout.trim();
}

/** Whether the registry holds `ref`: false only for the registry's own "unknown" answer, anything else throws. */
export async function registryHas(ref: string): Promise<boolean> {
  try {
    await registryDigest(ref);
    return true;
  } catch (err) {
    if (/manifest unknown|name unknown|repository name not known/i.test((err as Error).message)) return false;
    throw err;
  }
}

export async function repo(name: string, opts: TestRepoOptions) {
  const r = await createTestRepo(tc().gitBase, name, opts);
  return { ...r, url: `${tc().gitUrl}/${name}` };
}

/** The fault proxy's controls (test/cluster/kube/faults.ts). */
export function faults(): FaultControl {
  const f = tc().faults;
  if (!f) throw new Error("this cluster has no fault proxy (the test cluster's has)");
  return faultControl(f.url, tc().caPath);
}

let throughFaults: Promise<Cluster> | undefined;
/** The cluster as the admin reaches it through the fault proxy. */
export function faultyCluster(): Promise<Cluster> {
  throughFaults ??= Cluster.connect({ kubeconfig: tc().faults!.kubeconfig });
  return throughFaults;
}

/** The test cluster's HTTPS registries with passwords (test/cluster/kube/registries.ts). */
export function privateRegistries(): NonNullable<ReturnType<typeof tc>["registries"]> {
  const r = tc().registries;
  if (!r) throw new Error("this cluster has no private registries (the test cluster has)");
  return r;
}

/** The test cluster's Git server over HTTPS (test/cluster/kube/githttps.ts); repo() makes what it serves. */
export function gitHttps(): NonNullable<ReturnType<typeof tc>["gitHttps"]> {
  const g = tc().gitHttps;
  if (!g) throw new Error("this cluster has no Git server over HTTPS (the test cluster has)");
  return g;
}

/** The test cluster's forward proxy (test/cluster/kube/proxy.ts). */
export function forwardProxy(): NonNullable<ReturnType<typeof tc>["proxy"]> {
  const p = tc().proxy;
  if (!p) throw new Error("this cluster has no forward proxy (the test cluster started with proxy: true has)");
  return p;
}

/** A new directory holding only CAPATH, as ca.crt: what skopeo's and buildah's --cert-dir take. */
export function certDir(caPath: string): string {
  const dir = mkdtempSync(join(tmpdir(), "buildpod-ca-"));
  copyFileSync(caPath, join(dir, "ca.crt"));
  return dir;
}

/** The index's manifests: platform -> digest. */
export async function indexPlatforms(ref: string): Promise<Record<string, string>> {
  const r = await run("skopeo", ["inspect", "--raw", "--tls-verify=false", `docker://${ref}`], { env: tc().podmanEnv });
  const index = JSON.parse(r.stdout) as { manifests: { digest: string; platform: { os: string; architecture: string } }[] };
  return Object.fromEntries(index.manifests.map((m) => [`${m.platform.os}/${m.platform.architecture}`, m.digest]));
}

async function getJson(url: string, accept: string): Promise<any> {
  const res = await fetch(url, { headers: { accept } });
  expect(res.status, url).toBe(200);
  return res.json();
}

/** What a verifier finds attached to repository@digest: each referrer's descriptor, manifest and statement. */
export async function attached(ref: string, digest: string) {
  const slash = ref.indexOf("/");
  const [host, repository] = [ref.slice(0, slash), ref.slice(slash + 1).replace(/:[^/]*$/, "")];
  const base = `http://${host}/v2/${repository}`;
  const index = await getJson(`${base}/manifests/sha256-${digest.slice(7)}`, "application/vnd.oci.image.index.v1+json");
  return Promise.all(index.manifests.map(async (descriptor: any) => {
    const manifest = await getJson(`${base}/manifests/${descriptor.digest}`, "application/vnd.oci.image.manifest.v1+json");
    const statement = await getJson(`${base}/blobs/${manifest.layers[0].digest}`, "application/vnd.in-toto+json");
    return { descriptor, manifest, statement };
  }));
}
