// Kubeconfigs read as kubectl reads them, and their credentials on real requests to a small HTTPS server
// on loopback: tokens, token files, client certificates, basic auth, impersonation and exec credential
// plugins (real scripts); the legacy auth-provider and proxy-url kinds handed to client-node.
import { execFile } from "node:child_process";
import { chmod, mkdir, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { createServer, type Server } from "node:https";
import type { AddressInfo } from "node:net";
import type { TLSSocket } from "node:tls";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { KubeConfig } from "@kubernetes/client-node";
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from "vitest";
import { Cluster, ClusterError, contextNamespace, loadKubeConfig } from "../../core/index.js";
import { Kubeconfig } from "../../core/kubeconfig.js";
import { inClusterConfig } from "../../core/kubeconfig-files.js";
import { makeCerts, type Certs } from "./certs.js";

let dir: string;
let certs: Certs;
let server: Server;
let url: string;
const seen: { auth?: string; impersonate?: string; cn?: string; status?: number }[] = [];
/** Authorization headers the server answers with 401. */
const refusedAuth = new Set<string>();

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "bp-kubeconfig-"));
  certs = await makeCerts(dir);
  // A client certificate from the same CA.
  const run = promisify(execFile);
  const p = (f: string) => join(dir, f);
  await run("openssl", ["req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes", "-keyout", p("client.key"), "-out", p("client.csr"), "-subj", "/CN=cert-user"]);
  await run("openssl", ["x509", "-req", "-in", p("client.csr"), "-CA", p("ca.crt"), "-CAkey", p("ca.key"), "-CAcreateserial", "-out", p("client.crt"), "-days", "30"]);
  server = createServer({ cert: certs.cert, key: certs.key, ca: certs.ca, requestCert: true, rejectUnauthorized: false }, (req, res) => {
    const peer = (req.socket as TLSSocket).getPeerCertificate() as { subject?: { CN?: string } };
    const refused = refusedAuth.has(req.headers.authorization ?? "");
    seen.push({ auth: req.headers.authorization, impersonate: req.headers["impersonate-user"] as string | undefined, cn: (req.socket as TLSSocket).authorized ? peer.subject?.CN : undefined, status: refused ? 401 : 200 });
    if (refused) {
      res.writeHead(401, { "Content-Type": "application/json" });
      return void res.end(JSON.stringify({ kind: "Status", apiVersion: "v1", status: "Failure", message: "Unauthorized", reason: "Unauthorized", code: 401 }));
    }
    res.writeHead(200, { "Content-Type": "application/json" });
    res.end(JSON.stringify({ kind: "PodList", apiVersion: "v1", metadata: { resourceVersion: "1" }, items: [] }));
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  url = `https://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(async () => {
  server.closeAllConnections();
  await new Promise((r) => server.close(r));
  await rm(dir, { recursive: true, force: true });
});

afterEach(() => {
  vi.unstubAllEnvs();
  vi.useRealTimers();
});

let n = 0;
/** Writes a kubeconfig with one context; `user` is the YAML under users[0].user, indented by the caller. */
async function kubeconfig(user: string, opts: { cluster?: string; where?: string; extra?: string } = {}): Promise<string> {
  const where = opts.where ?? join(dir, `k${++n}`);
  await mkdir(where, { recursive: true });
  const file = join(where, "config");
  await writeFile(file, [
    "apiVersion: v1", "kind: Config",
    "clusters:", "- name: c", "  cluster:", `    server: ${url}/`, opts.cluster ?? `    certificate-authority-data: ${certs.ca.toString("base64")}`,
    "users:", "- name: u", "  user:", user,
    "contexts:", "- name: ctx", "  context: {cluster: c, user: u, namespace: team-a}",
    opts.extra ?? "", "current-context: ctx", "",
  ].join("\n"));
  return file;
}

/** One API call with the kubeconfig; what the server saw of it. */
async function call(file: string) {
  const cluster = await Cluster.connect({ kubeconfig: file });
  await cluster.listPods("ns", "a=b");
  return seen.at(-1)!;
}

const message = async (p: Promise<unknown>) => {
  const err = await p.then(() => undefined, (e: unknown) => e);
  expect(err).toBeInstanceOf(ClusterError);
  return (err as Error).message;
};

describe("credentials", () => {
  it("a token, with the CA from data; the context's namespace", async () => {
    const file = await kubeconfig("    token: tok-123");
    expect(await call(file)).toMatchObject({ auth: "Bearer tok-123" });
    expect(contextNamespace(await loadKubeConfig({ kubeconfig: file }))).toBe("team-a");
  });

  it("a client certificate and key from files named relative to the kubeconfig, and the CA from a file", async () => {
    const where = join(dir, "rel");
    await mkdir(join(where, "pki"), { recursive: true });
    for (const f of ["client.crt", "client.key", "ca.crt"]) await writeFile(join(where, "pki", f), await readFile(join(dir, f)));
    const file = await kubeconfig("    client-certificate: pki/client.crt\n    client-key: pki/client.key", { where, cluster: "    certificate-authority: pki/ca.crt" });
    expect(await call(file)).toMatchObject({ cn: "cert-user", auth: undefined });
  });

  it("precedence as client-go has it: a token file's token over a token; inline data over files", async () => {
    const tokenFile = join(dir, "precedence-token");
    await writeFile(tokenFile, "from-the-file\n");
    expect(await call(await kubeconfig(`    token: written-beside\n    tokenFile: ${tokenFile}`))).toMatchObject({ auth: "Bearer from-the-file" });
    // The token written beside it serves while the file cannot be read.
    expect(await call(await kubeconfig(`    token: written-beside\n    tokenFile: ${join(dir, "no-such-token")}`))).toMatchObject({ auth: "Bearer written-beside" });
    // certificate-authority-data, client-certificate-data and client-key-data win over the files, which are
    // not even read (they do not exist).
    const data = (f: string) => readFile(join(dir, f)).then((b) => b.toString("base64"));
    const file = await kubeconfig(
      `    client-certificate: ${join(dir, "missing.crt")}\n    client-certificate-data: ${await data("client.crt")}\n    client-key: ${join(dir, "missing.key")}\n    client-key-data: ${await data("client.key")}`,
      { cluster: `    certificate-authority: ${join(dir, "missing-ca.crt")}\n    certificate-authority-data: ${certs.ca.toString("base64")}` },
    );
    expect(await call(file)).toMatchObject({ cn: "cert-user", auth: undefined });
  });

  it("basic auth and impersonation", async () => {
    const file = await kubeconfig("    username: ann\n    password: s3cret\n    as: builder-bot");
    expect(await call(file)).toMatchObject({ auth: `Basic ${Buffer.from("ann:s3cret").toString("base64")}`, impersonate: "builder-bot" });
  });

  it("a token file is read again after a minute, as projected tokens rotate", async () => {
    const token = join(dir, "rotating-token");
    await writeFile(token, "first\n");
    const kc = await loadKubeConfig({ kubeconfig: await kubeconfig(`    tokenFile: ${token}`) });
    const auth = async () => {
      const o: { headers?: Record<string, string> } = {};
      await kc.applyToHTTPSOptions(o);
      return o.headers?.Authorization;
    };
    expect(await auth()).toBe("Bearer first");
    await writeFile(token, "second\n");
    expect(await auth()).toBe("Bearer first");
    vi.useFakeTimers({ now: Date.now() + 61_000, toFake: ["Date"] });
    expect(await auth()).toBe("Bearer second");
  });

  it("insecure-skip-tls-verify connects without a CA; without either, the server's certificate is refused", async () => {
    expect(await call(await kubeconfig("    token: t", { cluster: "    insecure-skip-tls-verify: true" }))).toMatchObject({ auth: "Bearer t" });
    const cluster = await Cluster.connect({ kubeconfig: await kubeconfig("    token: t", { cluster: "" }) });
    expect(await message(cluster.listPods("ns", "a=b"))).toMatch(/self-signed|unable to verify|certificate/i);
  });
});

/** An exec plugin script running `body` (which sees its run number as $RUN); `runs` counts its runs. */
async function pluginScript(name: string, body: string[]): Promise<{ path: string; runs: () => Promise<number> }> {
  const path = join(dir, name);
  const count = `${path}.runs`;
  await writeFile(count, "");
  await writeFile(path, ["#!/bin/sh", `echo run >> '${count}'`, `RUN=$(wc -l < '${count}')`, ...body, ""].join("\n"));
  await chmod(path, 0o755);
  return { path, runs: async () => (await readFile(count, "utf8")).split("\n").filter(Boolean).length };
}

describe("exec credential plugins", () => {
  /** A plugin script that counts its runs, checks what it was given and prints `status`. */
  const plugin = (name: string, status: Record<string, unknown>, opts: { exit?: number; apiVersion?: string } = {}) => pluginScript(name, [
    `[ "$PLUGIN_ENV" = from-kubeconfig ] || { echo "PLUGIN_ENV not passed" >&2; exit 3; }`,
    `case "$KUBERNETES_EXEC_INFO" in *'"kind":"ExecCredential"'*'"interactive":false'*) ;; *) echo "bad KUBERNETES_EXEC_INFO: $KUBERNETES_EXEC_INFO" >&2; exit 3;; esac`,
    opts.exit ? `echo "login expired, run sso-login" >&2; exit ${opts.exit}` : "",
    `printf '%s\\n' '${JSON.stringify({ apiVersion: opts.apiVersion ?? "client.authentication.k8s.io/v1", kind: "ExecCredential", status })}'`,
  ]);

  const execUser = (command: string, more = "") =>
    `    exec:\n      apiVersion: client.authentication.k8s.io/v1\n      command: ${command}\n      args: [get-token]\n      env: [{name: PLUGIN_ENV, value: from-kubeconfig}]\n      interactiveMode: Never${more}`;

  it("a token, kept until shortly before it expires, then asked for again", async () => {
    const expires = new Date(Date.now() + 10 * 60_000).toISOString();
    const p = await plugin("token-plugin", { token: "from-plugin", expirationTimestamp: expires });
    const file = await kubeconfig(execUser(p.path));
    const cluster = await Cluster.connect({ kubeconfig: file });
    await Promise.all([cluster.listPods("ns", "a=b"), cluster.listPods("ns", "a=b"), cluster.listPods("ns", "a=b")]);
    expect(seen.slice(-3).map((s) => s.auth)).toEqual(Array(3).fill("Bearer from-plugin"));
    expect(await p.runs()).toBe(1);
    vi.useFakeTimers({ now: Date.now() + 10 * 60_000, toFake: ["Date"] });
    await cluster.listPods("ns", "a=b");
    expect(await p.runs()).toBe(2);
  });

  it("a client certificate, with a relative command path starting at the kubeconfig's directory", async () => {
    const where = join(dir, "exec-cert");
    await mkdir(join(where, "bin"), { recursive: true });
    const p = await plugin("exec-cert/bin/cert-plugin", {
      clientCertificateData: await readFile(join(dir, "client.crt"), "utf8"), clientKeyData: await readFile(join(dir, "client.key"), "utf8"),
    });
    expect(p.path).toBe(join(where, "bin", "cert-plugin"));
    expect(await call(await kubeconfig(execUser("./bin/cert-plugin"), { where }))).toMatchObject({ cn: "cert-user", auth: undefined });
  });

  it("says what failed: the plugin's own words, a missing plugin with its install hint, a terminal it cannot have, a wrong answer", async () => {
    const failing = await plugin("failing-plugin", {}, { exit: 2 });
    expect(await message(call(await kubeconfig(execUser(failing.path))))).toMatch(/credential plugin .*failing-plugin failed \(exit 2\): login expired, run sso-login/);
    expect(await message(call(await kubeconfig(execUser("no-such-plugin-xyz", "\n      installHint: brew install xyz")))))
      .toMatch(/: the kubeconfig's credential plugin no-such-plugin-xyz was not found: brew install xyz$/);
    const always = await kubeconfig(execUser(failing.path));
    await writeFile(always, (await readFile(always, "utf8")).replace("interactiveMode: Never", "interactiveMode: Always"));
    expect(await message(call(always))).toMatch(/needs a terminal .*interactiveMode: Always/);
    const empty = await plugin("empty-plugin", { expirationTimestamp: new Date().toISOString() });
    expect(await message(call(await kubeconfig(execUser(empty.path))))).toMatch(/gave neither a token nor a client certificate/);
    const beta = await plugin("beta-plugin", { token: "x" }, { apiVersion: "client.authentication.k8s.io/v1beta1" });
    expect(await message(call(await kubeconfig(execUser(beta.path))))).toMatch(/answered in client.authentication.k8s.io\/v1beta1, not the client.authentication.k8s.io\/v1/);
  });
});

describe("credentials the server refuses (401)", () => {
  /** A plugin whose n-th run gives the token tok-n, or always `fixed`. */
  const tokenPlugin = (name: string, fixed?: string) => pluginScript(name, [
    `printf '{"apiVersion":"client.authentication.k8s.io/v1","kind":"ExecCredential","status":{"token":"%s"}}\\n' "${fixed ?? "tok-$RUN"}"`,
  ]);
  const execUser = (command: string) => `    exec:\n      apiVersion: client.authentication.k8s.io/v1\n      command: ${command}\n      interactiveMode: Never`;
  const since = (from: number) => seen.slice(from).map((s) => `${s.auth} ${s.status}`);

  it("an exec plugin's token refused mid-run: the plugin runs again and the call goes through; a log read gets the next one", async () => {
    const p = await tokenPlugin("rotating-plugin");
    const cluster = await Cluster.connect({ kubeconfig: await kubeconfig(execUser(p.path)) });
    const from = seen.length;
    await cluster.listPods("ns", "a=b");
    refusedAuth.add("Bearer tok-1"); // revoked before the token says it expires (it says nothing)
    await cluster.listPods("ns", "a=b");
    expect(since(from)).toEqual(["Bearer tok-1 200", "Bearer tok-1 401", "Bearer tok-2 200"]);
    expect(await p.runs()).toBe(2);
    refusedAuth.add("Bearer tok-2");
    const read = await cluster.streamLog("ns", "pod", "build", { follow: false }, () => undefined).then(() => 0, (e: ClusterError) => e.code);
    expect(read).toBe(401);
    await cluster.listPods("ns", "a=b");
    expect(since(from).slice(3)).toEqual(["Bearer tok-2 401", "Bearer tok-3 200"]);
    // A watch refused goes on with the renewed token instead of failing the build it follows.
    refusedAuth.add("Bearer tok-3");
    const stop = new AbortController();
    const watching = cluster.watchPods("ns", "a=b", { pod: () => undefined, deleted: () => undefined }, stop.signal);
    await vi.waitFor(() => expect(since(from).slice(5, 7)).toEqual(["Bearer tok-3 401", "Bearer tok-4 200"]));
    stop.abort();
    await expect(watching).resolves.toBeUndefined();
  });

  it("a plugin whose new token is refused too: one more try, then a clear error", async () => {
    const p = await tokenPlugin("revoked-plugin", "tok-revoked");
    refusedAuth.add("Bearer tok-revoked");
    const cluster = await Cluster.connect({ kubeconfig: await kubeconfig(execUser(p.path)) });
    const from = seen.length;
    expect(await message(cluster.listPods("ns", "a=b"))).toMatch(/Unauthorized; the credentials in the kubeconfig were refused: log in again/);
    expect(since(from)).toEqual(["Bearer tok-revoked 401", "Bearer tok-revoked 401"]);
    expect(await p.runs()).toBe(2);
  });

  it("a token file rotated within the minute is read again at once; a token written in the kubeconfig is not tried twice", async () => {
    const tokenFile = join(dir, "rotated-token");
    await writeFile(tokenFile, "first\n");
    const cluster = await Cluster.connect({ kubeconfig: await kubeconfig(`    tokenFile: ${tokenFile}`) });
    const from = seen.length;
    await cluster.listPods("ns", "a=b");
    refusedAuth.add("Bearer first");
    await writeFile(tokenFile, "second\n");
    await cluster.listPods("ns", "a=b");
    expect(since(from)).toEqual(["Bearer first 200", "Bearer first 401", "Bearer second 200"]);

    refusedAuth.add("Bearer written");
    const fixed = await Cluster.connect({ kubeconfig: await kubeconfig("    token: written") });
    const before = seen.length;
    expect(await message(fixed.listPods("ns", "a=b"))).toMatch(/credentials in the kubeconfig were refused/);
    expect(since(before)).toEqual(["Bearer written 401"]);
  });
});

describe("where the kubeconfig comes from", () => {
  const file = async (name: string, lines: string[]) => {
    const f = join(dir, name);
    await writeFile(f, lines.join("\n"));
    return f;
  };

  it("KUBECONFIG lists files merged as kubectl merges them: the first to name an entry wins, missing files are skipped", async () => {
    const a = await file("merge-a", ["clusters: [{name: c, cluster: {server: 'https://a.example'}}]", "users: [{name: u, user: {token: ta}}]", "contexts: [{name: one, context: {cluster: c, user: u}}]"]);
    const b = await file("merge-b", [
      "clusters: [{name: c, cluster: {server: 'https://b.example'}}, {name: d, cluster: {server: 'https://d.example'}}]",
      "users: [{name: u, user: {token: tb}}]", "contexts: [{name: two, context: {cluster: d, user: u, namespace: nb}}]", "current-context: two",
    ]);
    vi.stubEnv("KUBECONFIG", [join(dir, "missing"), a, b].join(":"));
    const kc = await loadKubeConfig();
    expect(kc.getCurrentCluster()?.server).toBe("https://d.example");
    expect(contextNamespace(kc)).toBe("nb");
    const o: { headers?: Record<string, string> } = {};
    await kc.applyToHTTPSOptions(o);
    expect(o.headers?.Authorization).toBe("Bearer ta");
    expect((await loadKubeConfig({ context: "one" })).getCurrentCluster()?.server).toBe("https://a.example");
    vi.stubEnv("KUBECONFIG", [join(dir, "missing"), join(dir, "missing2")].join(":"));
    expect(await message(loadKubeConfig())).toMatch(/none of the kubeconfig files KUBECONFIG lists exists/);
  });

  it("~/.kube/config when KUBECONFIG is unset; the service account inside a pod; otherwise a clear error", async () => {
    const home = join(dir, "home");
    await mkdir(join(home, ".kube"), { recursive: true });
    vi.stubEnv("KUBECONFIG", "");
    vi.stubEnv("HOME", home);
    vi.stubEnv("KUBERNETES_SERVICE_HOST", "");
    expect(await message(loadKubeConfig())).toBe("no cluster to talk to: give --kubeconfig, set KUBECONFIG, create ~/.kube/config, or run inside a cluster");
    await writeFile(join(home, ".kube", "config"), "clusters: [{name: c, cluster: {server: 'https://home.example'}}]\ncontexts: [{name: x, context: {cluster: c}}]\ncurrent-context: x\n");
    expect((await loadKubeConfig()).getCurrentCluster()?.server).toBe("https://home.example");

    const sa = join(dir, "sa");
    await mkdir(sa, { recursive: true });
    await writeFile(join(sa, "token"), "sa-token\n");
    await writeFile(join(sa, "namespace"), "builds");
    await writeFile(join(sa, "ca.crt"), certs.ca);
    vi.stubEnv("KUBERNETES_SERVICE_HOST", "fd00::1");
    vi.stubEnv("KUBERNETES_SERVICE_PORT", "443");
    const m = inClusterConfig(sa)!;
    const kc = new Kubeconfig(m, "in-cluster", m.clusters.get("in-cluster")!, m.users.get("in-cluster")!);
    expect(kc.getCurrentCluster().server).toBe("https://[fd00::1]:443");
    expect(contextNamespace(kc)).toBe("builds");
    const o: { headers?: Record<string, string>; ca?: Buffer } = {};
    await kc.applyToHTTPSOptions(o);
    expect(o.headers?.Authorization).toBe("Bearer sa-token");
    expect(o.ca).toEqual(certs.ca);
  });

  it("names what is wrong with a kubeconfig, without a stack trace", async () => {
    const missing = join(dir, "nope");
    expect(await message(loadKubeConfig({ kubeconfig: missing }))).toBe(`the kubeconfig ${missing} does not exist`);
    const broken = await file("broken", ["clusters: [{name: c, cluster: {server: x}", ""]);
    expect(await message(loadKubeConfig({ kubeconfig: broken }))).toMatch(new RegExp(`^the kubeconfig ${broken} is not valid: `));
    const noServer = await file("no-server", ["clusters: [{name: c, cluster: {}}]"]);
    expect(await message(loadKubeConfig({ kubeconfig: noServer }))).toBe(`the kubeconfig ${noServer} is not valid: clusters "c" has no server`);
    const two = await file("two", ["clusters: [{name: c, cluster: {server: 'https://x'}}]", "contexts: [{name: a, context: {cluster: c}}, {name: b, context: {cluster: gone}}]"]);
    expect(await message(loadKubeConfig({ kubeconfig: two }))).toBe("the kubeconfig sets no current-context; choose one of its contexts (a, b)");
    expect(await message(loadKubeConfig({ kubeconfig: two, context: "c" }))).toBe('the kubeconfig has no context "c" (it has: a, b)');
    expect(await message(loadKubeConfig({ kubeconfig: two, context: "b" }))).toBe('the kubeconfig\'s context "b" names cluster "gone", which the kubeconfig does not define');
    const groups = await file("groups", ["users: [{name: u, user: {token: t, as: x, as-groups: [g]}}]"]);
    expect(await message(loadKubeConfig({ kubeconfig: groups }))).toMatch(/impersonating groups.*not supported/);
  });
});

describe("kinds left to client-node", () => {
  it("an auth-provider user and a proxy-url cluster get client-node's KubeConfig, with the same cluster and credentials", async () => {
    const oidc = await loadKubeConfig({ kubeconfig: await kubeconfig("    auth-provider:\n      name: oidc\n      config: {client-id: x, id-token: not-checked-here}") });
    expect(oidc).toBeInstanceOf(KubeConfig);
    expect(oidc.getCurrentCluster()?.server).toBe(url);
    expect(contextNamespace(oidc)).toBe("team-a");
    const proxied = await loadKubeConfig({ kubeconfig: await kubeconfig("    token: via-proxy", { cluster: `    certificate-authority-data: ${certs.ca.toString("base64")}\n    proxy-url: http://127.0.0.1:3128` }) });
    expect(proxied).toBeInstanceOf(KubeConfig);
    expect(proxied.getCurrentCluster()?.proxyUrl).toBe("http://127.0.0.1:3128");
    const o: { headers?: Record<string, string>; agent?: import("node:https").Agent } = {};
    await proxied.applyToHTTPSOptions(o);
    expect(o.headers?.Authorization).toBe("Bearer via-proxy");
    expect(o.agent).toBeDefined();
  });

  it("a KubeConfig loaded by client-node works as a connection too", async () => {
    const kc = new KubeConfig();
    kc.loadFromFile(await kubeconfig("    token: from-client-node"));
    const cluster = await Cluster.connect(kc);
    await cluster.listPods("ns", "a=b");
    expect(seen.at(-1)).toMatchObject({ auth: "Bearer from-client-node" });
  });
});
