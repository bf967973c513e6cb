// What the end-to-end tests share: the cluster's coordinates, requests aimed at it, registry checks,
// Git repositories, and the test API server's fault controls.
import { readFileSync } from "node:fs";
import { request } from "node:https";
import { inject } from "vitest";
import { Cluster, parseRequest, runBuild, type BuildRequest, type BuildResult, type RunOptions } from "../../core/index.js";
import { createTestRepo, type TestRepoOptions } from "../cluster/infra/gitd.js";
import { run } from "../cluster/infra/proc.js";
import type { Fault } from "../cluster/api/index.js";

export const tc = () => inject("cluster");

/** Fault injection and authorization policies exist only on the test cluster's emulated control plane. */
export const emulatedOnly = () => !inject("cluster").emulated;

let connected: Promise<Cluster> | undefined;
export function cluster(): Promise<Cluster> {
  connected ??= Cluster.connect({ kubeconfig: tc().kubeconfig });
  return connected;
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

export async function build(raw: Record<string, unknown>, opts: RunOptions = {}): Promise<Recorded> {
  const progress: string[] = [];
  const lines: Record<string, string[]> = {};
  const result = await runBuild(await cluster(), request_(raw), {
    ...opts,
    onProgress: (m) => progress.push(m),
    onLog: (c, l) => (lines[c] ??= []).push(l.text),
  });
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

export async function repo(name: string, opts: TestRepoOptions) {
  const r = await createTestRepo(tc().gitBase, name, opts);
  return { ...r, url: `${tc().gitUrl}/${name}` };
}

function control(method: string, path: string, body?: unknown): Promise<string> {
  const c = tc();
  return new Promise((resolve, reject) => {
    const req = request(`${c.apiUrl}${path}`, {
      method, ca: readFileSync(c.caPath), headers: { authorization: `Bearer ${c.apiToken}`, "content-type": "application/json" },
    }, (res) => {
      let text = "";
      res.on("data", (d: Buffer) => (text += d.toString()));
      res.on("end", () => (res.statusCode! < 300 ? resolve(text) : reject(new Error(`${method} ${path}: ${res.statusCode} ${text}`))));
    });
    req.on("error", reject);
    req.end(body === undefined ? undefined : JSON.stringify(body));
  });
}

/** Restricts what the kubeconfig's user may do (undefined: everything). */
export function setPolicy(rules: { verbs: string[]; resources: string[]; apiGroups?: string[] }[] | undefined): Promise<string> {
  return control("PUT", "/_test/policy", rules === undefined ? {} : { rules });
}

export const faults = {
  add: (f: Fault | Fault[]) => control("POST", "/_test/faults", f),
  clear: () => control("DELETE", "/_test/faults"),
};
