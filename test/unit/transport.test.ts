// The cluster transport against a small HTTPS server on loopback, speaking HTTP/1.1 only, and one offering
// HTTP/2 as the API server does: calls share a few connections (one over HTTP/2), credentials go on every
// request, and watch streams are read event by event however the bytes are cut, ending as the server ends
// them.
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { createServer, type Server } from "node:https";
import { createSecureServer, type Http2SecureServer } from "node:http2";
import type { IncomingMessage, ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Cluster, loadKubeConfig, type ClusterAccess } from "../../core/index.js";
import { warnings, type TransportError } from "../../core/transport.js";
import { kubeconfigYaml, makeCerts } from "./certs.js";

let dir: string;
let server: Server;
let server2: Http2SecureServer;
let kcs: { http1: ClusterAccess; http2: ClusterAccess };
let connections = 0;
const seen: { url: string; auth?: string; version: string }[] = [];
/** What the next watch request gets: an answer status, and the body in pieces. */
let watchAnswer: { status: number; pieces: string[] } = { status: 200, pieces: [] };
/** What the next log request gets, in pieces. */
let logAnswer: string[] = [];

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "bp-transport-"));
  const certs = await makeCerts(dir);
  const handler = (req: IncomingMessage, res: ServerResponse) => {
    seen.push({ url: req.url ?? "", auth: req.headers.authorization as string | undefined, version: req.httpVersion });
    if (req.url?.includes("watch=true")) {
      const { status, pieces } = watchAnswer;
      res.writeHead(status, { "Content-Type": "application/json" });
      // Each piece in its own write, a moment apart, so the client sees them as separate chunks.
      let i = 0;
      const next = () => (i < pieces.length ? (res.write(pieces[i++]), setTimeout(next, 5)) : res.end());
      next();
      return;
    }
    if (req.url?.includes("/log?")) {
      res.writeHead(200, { "Content-Type": "text/plain" });
      let i = 0;
      const next = () => (i < logAnswer.length ? (res.write(logAnswer[i++]), setTimeout(next, 5)) : res.end());
      next();
      return;
    }
    if (req.url?.includes("/warned")) {
      // As the API server sends them: one header line per warning, RFC 7234's form, quotes escaped.
      res.setHeader("Warning", ['299 - "would violate PodSecurity \\"restricted:latest\\": runAsNonRoot != true"', '299 - "unknown field \\"spec.foo\\""']);
      res.writeHead(201, { "Content-Type": "application/json" });
      res.end("{}");
      return;
    }
    setTimeout(() => {
      res.writeHead(200, { "Content-Type": "application/json" });
      res.end(JSON.stringify({ kind: "PodList", apiVersion: "v1", metadata: { resourceVersion: "7" }, items: [] }));
    }, 5);
  };
  server = createServer({ cert: certs.cert, key: certs.key }, handler);
  server2 = createSecureServer({ cert: certs.cert, key: certs.key, allowHTTP1: true }, handler as unknown as Parameters<typeof createSecureServer>[1]);
  const kubeconfig = async (s: Server | Http2SecureServer, name: string) => {
    s.on("secureConnection", () => connections++);
    await new Promise<void>((r) => s.listen(0, "127.0.0.1", r));
    await writeFile(join(dir, name), kubeconfigYaml(`https://127.0.0.1:${(s.address() as AddressInfo).port}`, certs.ca, "secret-token", "tester"));
    return loadKubeConfig({ kubeconfig: join(dir, name) });
  };
  kcs = { http1: await kubeconfig(server, "kubeconfig"), http2: await kubeconfig(server2, "kubeconfig2") };
});

afterAll(async () => {
  server.closeAllConnections();
  await new Promise((r) => server.close(r));
  await new Promise((r) => server2.close(r));
  await rm(dir, { recursive: true, force: true });
});

describe.each([
  { protocol: "HTTP/1.1", key: "http1" as const, version: "1.1", connections: 16 },
  { protocol: "HTTP/2", key: "http2" as const, version: "2.0", connections: 1 },
])("over $protocol", ({ key, version, connections: most }) => {
  const kc = () => kcs[key];

  describe("API calls", () => {
    it("a burst of calls shares a few kept-alive connections, each call with the credentials", async () => {
      const cluster = new Cluster(kc());
      connections = 0;
      seen.length = 0;
      const lists = await Promise.all(Array.from({ length: 60 }, () => cluster.listPods("ns", "a=b")));
      expect(lists.every((l) => l.metadata?.resourceVersion === "7")).toBe(true);
      expect(seen).toHaveLength(60);
      expect(seen.every((s) => s.auth === "Bearer secret-token" && s.version === version)).toBe(true);
      expect(connections).toBeLessThanOrEqual(most);
      // Later calls reuse the open connections.
      await cluster.listPods("ns", "a=b");
      expect(connections).toBeLessThanOrEqual(most);
    });
  });

  describe("Warning headers", () => {
    it("each reaches the caller as its text, in order", async () => {
      const heard: string[] = [];
      await new Cluster(kc()).call("creating", "POST", "/warned", { body: {}, onWarning: (w) => heard.push(w) });
      expect(heard).toEqual(['would violate PodSecurity "restricted:latest": runAsNonRoot != true', 'unknown field "spec.foo"']);
    });

    it("an unusual form is passed on whole", () => {
      expect(warnings(["Content-Type", "x", "warning", "just words", "Warning", '299 - "a \\\\ b"'])).toEqual(["just words", "a \\ b"]);
    });
  });

  describe("watch", () => {
    const watch = async (signal = new AbortController().signal) => {
      const events: [string, unknown][] = [];
      const cluster = new Cluster(kc());
      const done = cluster.transport.watch("/api/v1/namespaces/ns/pods", { labelSelector: "a=b", resourceVersion: "7" }, (type, obj) => events.push([type, obj]), signal);
      return { events, done };
    };

    it("reads events cut anywhere, including an ERROR event, and resolves when the server ends the stream", async () => {
      const lines = [
        { type: "ADDED", object: { metadata: { name: "p", resourceVersion: "8" } } },
        { type: "MODIFIED", object: { metadata: { name: "p", resourceVersion: "9" }, status: { phase: "Running" } } },
        { type: "ERROR", object: { kind: "Status", code: 410 } },
      ].map((e) => JSON.stringify(e) + "\n").join("");
      watchAnswer = { status: 200, pieces: [lines.slice(0, 10), lines.slice(10, 75), lines.slice(75, 76), lines.slice(76)] };
      const { events, done } = await watch();
      await done;
      expect(events.map(([t]) => t)).toEqual(["ADDED", "MODIFIED", "ERROR"]);
      expect((events[1][1] as { status: { phase: string } }).status.phase).toBe("Running");
      const query = new URL(seen.at(-1)!.url, "https://x").searchParams;
      expect([query.get("watch"), query.get("labelSelector"), query.get("resourceVersion")]).toEqual(["true", "a=b", "7"]);
    });

    it("an answer other than 200 rejects with its status and message", async () => {
      watchAnswer = { status: 403, pieces: [JSON.stringify({ kind: "Status", message: "pods is forbidden", code: 403 })] };
      const { done } = await watch();
      const err = (await done.catch((e: unknown) => e)) as TransportError;
      expect(err.statusCode).toBe(403);
      expect(err.message).toBe("pods is forbidden");
    });

    it("aborting ends the watch quietly", async () => {
      watchAnswer = { status: 200, pieces: [JSON.stringify({ type: "ADDED", object: { metadata: { name: "p" } } }) + "\n", ...Array(100).fill(" ")] };
      const abort = new AbortController();
      const { events, done } = await watch(abort.signal);
      setTimeout(() => abort.abort(), 100);
      await expect(done).resolves.toBeUndefined();
      expect(events).toHaveLength(1);
    });
  });

  describe("log streams", () => {
    it("a container's log arrives whole, in the pieces the server sends", async () => {
      const lines = Array.from({ length: 2000 }, (_, i) => `2026-01-01T00:00:00.000000000Z line ${i}\n`).join("");
      logAnswer = [lines.slice(0, 100), lines.slice(100, 50_000), lines.slice(50_000)];
      let got = "";
      await new Cluster(kc()).streamLog("ns", "p", "build", { follow: false }, (chunk) => void (got += chunk.toString()));
      expect(got).toBe(lines);
      const last = seen.at(-1)!;
      expect([last.version, last.auth, new URL(last.url, "https://x").searchParams.get("container")]).toEqual([version, "Bearer secret-token", "build"]);
    });
  });

});
