// Shared setup of the API tests: an emulated API server over the emulated node, and real client-node clients.
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { request as httpsRequest } from "node:https";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { PassThrough } from "node:stream";
import * as k8s from "@kubernetes/client-node";
import { EmulatedNode, type EmulatedNodeOptions } from "./emulated-node.js";
import { startApiServer, type ApiServer, type Policy } from "./index.js";

export interface Kit {
  server: ApiServer;
  node: EmulatedNode;
  kc: k8s.KubeConfig;
  core: k8s.CoreV1Api;
  batch: k8s.BatchV1Api;
  dir: string;
  close(): Promise<void>;
}

export async function startKit(opts: { policy?: Policy; node?: Partial<EmulatedNodeOptions>; historyLimit?: number } = {}): Promise<Kit> {
  const dir = mkdtempSync(join(tmpdir(), "buildpod-api-"));
  const node = new EmulatedNode({ dir: join(dir, "node"), ...opts.node });
  const server = await startApiServer({ node, dir: join(dir, "api"), policy: opts.policy, historyLimit: opts.historyLimit });
  const kc = new k8s.KubeConfig();
  kc.loadFromFile(server.kubeconfigPath);
  return {
    server,
    node,
    kc,
    dir,
    core: kc.makeApiClient(k8s.CoreV1Api),
    batch: kc.makeApiClient(k8s.BatchV1Api),
    async close() {
      await server.close();
      await node.shutdown();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** The Status body of a failed client-node call. */
export async function statusOf(p: Promise<unknown>): Promise<{ code: number; reason?: string; message?: string; details?: Record<string, unknown>; kind?: string }> {
  try {
    await p;
  } catch (e) {
    const err = e as { code?: number; body?: unknown };
    const body = typeof err.body === "string" ? JSON.parse(err.body) : err.body;
    return { ...(body as object), code: err.code ?? (body as { code: number }).code };
  }
  throw new Error("expected the call to fail");
}

/** The HTTP status of a client-node call: 200 when it succeeds. */
export async function codeOf(p: Promise<unknown>): Promise<number> {
  try {
    await p;
    return 200;
  } catch (e) {
    return (e as { code?: number }).code ?? 0;
  }
}

export function podSpec(name: string, image: string, extra: Partial<k8s.V1Container> = {}, spec: Partial<k8s.V1PodSpec> = {}): k8s.V1Pod {
  return {
    metadata: { name, labels: { app: "test" } },
    spec: { restartPolicy: "Never", containers: [{ name: "main", image, ...extra }], ...spec },
  };
}

// A bound, not a timed assertion: the suite runs these beside the real cluster's start on the same two cores,
// where a pod that takes 1 s alone has taken over 5 s.
export async function waitFor<T>(fn: () => Promise<T | undefined> | T | undefined, what: string, timeoutMs = 30_000): Promise<T> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn();
    if (v !== undefined && v !== false && v !== null) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

export async function waitPhase(kit: Kit, name: string, phases: string[], ns = "default"): Promise<k8s.V1Pod> {
  return waitFor(async () => {
    const p = await kit.core.readNamespacedPod({ name, namespace: ns });
    return phases.includes(p.status?.phase ?? "") ? p : undefined;
  }, `pod ${name} in ${phases.join("/")}`);
}

/** Collect a log stream through client-node's Log until the response ends. */
export async function readLog(kit: Kit, name: string, container: string, options: k8s.LogOptions, ns = "default"): Promise<string> {
  const out = new PassThrough();
  const chunks: Buffer[] = [];
  out.on("data", (c: Buffer) => chunks.push(c));
  const finished = new Promise<void>((resolve, reject) => {
    out.on("finish", () => resolve());
    out.on("error", reject);
  });
  await new k8s.Log(kit.kc).log(ns, name, container, out, options);
  await finished;
  return Buffer.concat(chunks).toString();
}

export { k8s };

/** A raw HTTPS request to the server (the kubeconfig's token unless another is given); the whole body as text. */
export function request(
  kit: Kit,
  method: string,
  path: string,
  opts: { token?: string; body?: unknown; headers?: Record<string, string> } = {},
): Promise<{ status: number; headers: Record<string, string | string[] | undefined>; body: string }> {
  return new Promise((resolve, reject) => {
    const req = httpsRequest(
      `${kit.server.url}${path}`,
      {
        method,
        ca: readFileSync(kit.server.caPath),
        headers: { Authorization: `Bearer ${opts.token ?? kit.server.token}`, "Content-Type": "application/json", ...opts.headers },
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on("data", (c: Buffer) => chunks.push(c));
        res.on("end", () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString() }));
        res.on("error", reject);
      },
    );
    req.on("error", reject);
    req.end(opts.body === undefined ? undefined : JSON.stringify(opts.body));
  });
}
