// core/scripts/provenance.sh against a real registry (Debian's docker-registry, distribution 2.8, which has
// no referrers API): the statement buildpod renders is filled in, pushed as an artifact whose subject is the
// image, and listed in the referrers tag schema's index, with basic credentials and with a bearer token
// from a token service, run by dash as the build pod's /bin/sh may be.
import { spawn } from "node:child_process";
import { createHash, createSign, randomUUID } from "node:crypto";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createServer, type Server } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parseRequest } from "../../core/index.js";
import { provenanceEnv } from "../../core/provenance.js";
import { freePort, startRegistry, type Registry } from "../cluster/infra/registry.js";

const SCRIPT = readFileSync(new URL("../../core/scripts/provenance.sh", import.meta.url), "utf8");
const USER = "alice";
const PASSWORD = "s3cret pass";
const temp = mkdtempSync(join(tmpdir(), "buildpod-provenance-"));
const basicAuth = Buffer.from(`${USER}:${PASSWORD}`).toString("base64");

/** Runs a command without blocking this process, whose token service must keep answering meanwhile. */
function run(cmd: string, args: string[], opts: { env?: NodeJS.ProcessEnv } = {}): Promise<{ status: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { env: opts.env ?? process.env, stdio: ["ignore", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (d) => (stdout += d));
    child.stderr.on("data", (d) => (stderr += d));
    child.on("error", reject);
    child.on("close", (status) => resolve({ status, stdout, stderr }));
  });
}

/** A one-layer image in an OCI layout, pushed with skopeo; returns its manifest digest. */
async function pushImage(registry: Registry, repo: string): Promise<string> {
  const dir = join(temp, `layout-${repo.replace(/\W/g, "-")}`);
  mkdirSync(join(dir, "file"), { recursive: true });
  mkdirSync(join(dir, "img", "blobs", "sha256"), { recursive: true });
  writeFileSync(join(dir, "file", "hello"), `hello from ${repo}\n`);
  expect((await run("tar", ["-C", join(dir, "file"), "-cf", join(dir, "layer.tar"), "hello"])).status).toBe(0);
  const put = (data: Buffer | string) => {
    const hex = createHash("sha256").update(data).digest("hex");
    writeFileSync(join(dir, "img", "blobs", "sha256", hex), data);
    return { digest: `sha256:${hex}`, size: Buffer.byteLength(data) };
  };
  const layer = put(readFileSync(join(dir, "layer.tar")));
  const config = put(JSON.stringify({ architecture: "amd64", os: "linux", rootfs: { type: "layers", diff_ids: [layer.digest] }, config: {} }));
  const manifest = put(JSON.stringify({
    schemaVersion: 2, mediaType: "application/vnd.oci.image.manifest.v1+json",
    config: { mediaType: "application/vnd.oci.image.config.v1+json", ...config },
    layers: [{ mediaType: "application/vnd.oci.image.layer.v1.tar", ...layer }],
  }));
  writeFileSync(join(dir, "img", "index.json"), JSON.stringify({
    schemaVersion: 2,
    manifests: [{ mediaType: "application/vnd.oci.image.manifest.v1+json", ...manifest, annotations: { "org.opencontainers.image.ref.name": "v1" } }],
  }));
  writeFileSync(join(dir, "img", "oci-layout"), '{"imageLayoutVersion":"1.0.0"}');
  const push = await run("skopeo", ["copy", "-q", "--preserve-digests", "--dest-tls-verify=false", "--dest-creds", `${USER}:${PASSWORD}`, `oci:${join(dir, "img")}:v1`, `docker://${registry.host}/${repo}:v1`]);
  expect(push.status, push.stderr).toBe(0);
  return manifest.digest;
}

/** Runs attach_provenance as the build container does, for an image of REPO in the registry. */
function attach(registry: Registry, repo: string, digest: string, opts: { password?: string; buildArgs?: Record<string, string> } = {}) {
  const req = parseRequest({
    name: "app",
    source: { git: { url: "https://git.example.com/team/app.git", ref: "main" } },
    strategy: { type: "docker", buildArgs: opts.buildArgs ?? { VERSION: "1" } },
    output: { image: `${registry.host}/${repo}:v1`, pushSecret: "regcred", insecure: true },
  });
  const dir = mkdtempSync(join(temp, "pod-"));
  const auth = join(dir, "config.json");
  const creds = Buffer.from(`${USER}:${opts.password ?? PASSWORD}`).toString("base64");
  // Pretty-printed, as kubectl create secret docker-registry does not, to read it as any writer may.
  writeFileSync(auth, JSON.stringify({ auths: { [registry.host]: { username: USER, auth: creds } } }, null, 2));
  const env = {
    PATH: process.env.PATH, TMPDIR: dir, REGISTRY_AUTH_FILE: auth, BUILDPOD_TLS_VERIFY: "false",
    BUILDPOD_IMAGE: req.output.image, ...provenanceEnv(req, "quay.io/buildah/stable@sha256:" + "1".repeat(64), "app-x2k4z"),
  } as NodeJS.ProcessEnv;
  // The pod's termination message is not the host's to write: here a failure says it on stderr alone.
  const text = `set -eu\n${SCRIPT}\nprov_fail() { printf 'buildpod: %s\\n' "$1" >&2; exit 1; }\nattach_provenance "$1"\ncat "$TMPDIR/attestation"`;
  return run("dash", ["-c", text, "buildpod-build", digest], { env });
}

async function getJson(url: string, accept: string, auth: string): Promise<any> {
  const res = await fetch(url, { headers: { accept, authorization: auth } });
  expect(res.status, url).toBe(200);
  return res.json();
}

/** What a verifier reads: the referrers index under sha256-<hex>, each artifact, and its statement. */
async function referrers(registry: Registry, repo: string, digest: string, auth: string) {
  const base = `http://${registry.host}/v2/${repo}`;
  const index = await getJson(`${base}/manifests/sha256-${digest.slice(7)}`, "application/vnd.oci.image.index.v1+json", auth);
  const out = [];
  for (const d of index.manifests) {
    const manifest = await getJson(`${base}/manifests/${d.digest}`, "application/vnd.oci.image.manifest.v1+json", auth);
    const statement = await getJson(`${base}/blobs/${manifest.layers[0].digest}`, "*/*", auth);
    out.push({ descriptor: d, manifest, statement });
  }
  return out;
}

describe("provenance.sh with basic credentials", () => {
  let registry: Registry;
  beforeAll(async () => {
    const htpasswd = join(temp, "htpasswd");
    expect((await run("htpasswd", ["-Bbc", htpasswd, USER, PASSWORD])).status).toBe(0);
    registry = await startRegistry({ stateDir: temp, name: "basic", htpasswd });
  }, 30_000);
  afterAll(async () => registry?.stop());

  it("attaches the filled-in statement as a referrer of the image, and a second beside the first", async () => {
    const digest = await pushImage(registry, "team/app");
    const first = await attach(registry, "team/app", digest, { buildArgs: { A: "@@SUBJECT@@" } });
    expect(first.status, first.stderr).toBe(0);
    expect(first.stdout).toContain(`(referrers tag sha256-${digest.slice(7)})`);
    const artifact = first.stdout.trim().split("\n").pop();
    const second = await attach(registry, "team/app", digest, { buildArgs: { A: "other" } });
    expect(second.status, second.stderr).toBe(0);

    const found = await referrers(registry, "team/app", digest, `Basic ${basicAuth}`);
    expect(found.map((f) => f.descriptor.digest)).toContain(artifact);
    expect(found).toHaveLength(2);
    for (const { descriptor, manifest, statement } of found) {
      expect(descriptor.artifactType).toBe("application/vnd.in-toto+json");
      expect(descriptor.annotations["in-toto.io/predicate-type"]).toBe("https://slsa.dev/provenance/v1");
      expect(manifest.artifactType).toBe("application/vnd.in-toto+json");
      expect(manifest.config).toMatchObject({ mediaType: "application/vnd.oci.empty.v1+json", size: 2 });
      expect(manifest.subject).toMatchObject({ mediaType: "application/vnd.oci.image.manifest.v1+json", digest });
      expect(statement.subject).toEqual([{ name: `${registry.host}/team/app`, digest: { sha256: digest.slice(7) } }]);
      expect(statement.predicate.runDetails.metadata.invocationId).toBe("default/app-x2k4z");
      expect(Date.parse(statement.predicate.runDetails.metadata.finishedOn)).toBeGreaterThan(Date.now() - 120_000);
    }
    expect(found.map((f) => f.statement.predicate.buildDefinition.externalParameters.strategy.buildArgs.A).sort()).toEqual(["@@SUBJECT@@", "other"]);
  });

  it("fails with the registry's refusal when the credentials are wrong", async () => {
    const digest = await pushImage(registry, "team/other");
    const r = await attach(registry, "team/other", digest, { password: "wrong" });
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/buildpod: .*HTTP 401/);
  });
});

describe("provenance.sh with a bearer token", () => {
  let registry: Registry;
  let tokens: Server;
  let tokenPort = 0;
  const asked: { authorization?: string; scope?: string; service?: string }[] = [];
  beforeAll(async () => {
    const key = join(temp, "token.key");
    const cert = join(temp, "token.crt");
    const made = await run("openssl", ["req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", key, "-out", cert, "-days", "1", "-subj", "/CN=token-issuer"]);
    expect(made.status, made.stderr).toBe(0);
    const der = readFileSync(cert, "utf8").replace(/-----[^-]+-----|\s/g, "");
    const port = (tokenPort = await freePort());
    // The token service: basic credentials in, a JWT granting the scope asked for out.
    tokens = createServer((req, res) => {
      const url = new URL(req.url ?? "/", "http://x");
      const scope = url.searchParams.get("scope") ?? "";
      asked.push({ authorization: req.headers.authorization, scope, service: url.searchParams.get("service") ?? "" });
      if (req.headers.authorization !== `Basic ${basicAuth}`) {
        res.writeHead(401).end('{"errors":[{"code":"UNAUTHORIZED"}]}');
        return;
      }
      const [, name, actions] = scope.split(":");
      const now = Math.floor(Date.now() / 1000);
      const b64 = (o: unknown) => Buffer.from(JSON.stringify(o)).toString("base64url");
      const body = `${b64({ typ: "JWT", alg: "RS256", x5c: [der] })}.${b64({
        iss: "test-issuer", sub: USER, aud: "test-registry", exp: now + 300, nbf: now - 10, iat: now, jti: randomUUID(),
        access: [{ type: "repository", name, actions: actions.split(",") }],
      })}`;
      const jwt = `${body}.${createSign("RSA-SHA256").update(body).sign(readFileSync(key), "base64url")}`;
      res.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify({ token: jwt, expires_in: 300 }));
    });
    await new Promise<void>((r) => tokens.listen(port, "127.0.0.1", r));
    registry = await startRegistry({
      stateDir: temp, name: "token",
      token: { realm: `http://127.0.0.1:${port}/token`, service: "test-registry", issuer: "test-issuer", rootCertBundle: cert },
    });
  }, 30_000);
  afterAll(async () => {
    await registry?.stop();
    tokens?.close();
  });

  it("logs in with a token for the repository, and attaches the statement", async () => {
    const digest = await pushImage(registry, "team/app");
    asked.length = 0;
    const r = await attach(registry, "team/app", digest);
    expect(r.status, r.stderr).toBe(0);
    expect(asked.length).toBeGreaterThan(0);
    expect(asked.every((a) => a.authorization === `Basic ${basicAuth}` && a.scope === "repository:team/app:pull,push" && a.service === "test-registry")).toBe(true);
    // A verifier reads it back with a pull token of its own.
    const res = await fetch(`http://127.0.0.1:${tokenPort}/token?service=test-registry&scope=repository:team/app:pull`, { headers: { authorization: `Basic ${basicAuth}` } });
    const { token } = (await res.json()) as { token: string };
    const found = await referrers(registry, "team/app", digest, `Bearer ${token}`);
    expect(found).toHaveLength(1);
    expect(found[0].manifest.subject.digest).toBe(digest);
    expect(found[0].statement.subject[0].digest.sha256).toBe(digest.slice(7));
  });

  it("says the token service refused, with wrong credentials", async () => {
    const digest = await pushImage(registry, "team/refused");
    const r = await attach(registry, "team/refused", digest, { password: "wrong" });
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/buildpod: the token service .* gave no token for team\/refused/);
  });
});

afterAll(() => rmSync(temp, { recursive: true, force: true }));
