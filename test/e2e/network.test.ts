// Registries the way enterprises run them, on the test cluster's own: "base" and "secure" serve HTTPS with a
// CA of the cluster's and want a password each. A build pulls its base image from one with a pull Secret,
// through a short-name alias of a registries.conf, and pushes to the other with a push Secret, trusting the
// CA from a ConfigMap: no --insecure-registry anywhere. And a forward proxy that the pulls and RUN steps go
// through, as its access log shows.
import { spawnSync } from "node:child_process";
import { createHash, randomBytes } from "node:crypto";
import { mkdirSync, mkdtempSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { run } from "../cluster/infra/proc.js";
import { authJson, certDir, cluster, forwardProxy, gitHttps, image, privateRegistries, repo, tc } from "./kit.js";

const BIN = join(import.meta.dirname, "../../buildpod");
const NS = "default";
const suffix = `${Date.now().toString(36)}${randomBytes(2).toString("hex")}`;
const CA = `corp-ca-${suffix}`;
const REGISTRIES = `registries-${suffix}`;
const PULL = `base-pull-${suffix}`;
const PUSH = `secure-push-${suffix}`;
/** The short name the registries.conf makes an alias of base's busybox. */
const ALIAS = "corp/busybox";

async function create(kind: "configmaps" | "secrets", body: Record<string, unknown>): Promise<void> {
  const c = await cluster();
  await c.call(`creating ${kind}`, "POST", `/api/v1/namespaces/${NS}/${kind}`, { body });
}

async function remove(kind: "configmaps" | "secrets", name: string): Promise<void> {
  const c = await cluster();
  await c.call(`deleting ${name}`, "DELETE", `/api/v1/namespaces/${NS}/${kind}/${name}`).catch(() => {});
}

const dockerConfigSecret = (name: string, entries: Parameters<typeof authJson>[0]) => ({
  metadata: { name }, type: "kubernetes.io/dockerconfigjson",
  data: { ".dockerconfigjson": Buffer.from(authJson(entries)).toString("base64") },
});

function buildpod(...args: string[]) {
  const c = tc();
  const env = { ...process.env, KUBECONFIG: c.kubeconfig, BUILDPOD_IMAGE_SOURCE: c.builder, BUILDPOD_IMAGE_BUILDAH: c.builder };
  const r = spawnSync(BIN, args, { encoding: "utf8", env, timeout: 200_000 });
  return { code: r.status, out: r.stdout, err: r.stderr };
}

function context(dockerfile: string): string {
  const dir = mkdtempSync(join(tmpdir(), "buildpod-net-"));
  writeFileSync(join(dir, "Dockerfile"), dockerfile);
  return dir;
}

/** secure/<this run's path>/NAME:TAG */
const secureRef = (nameAndTag: string) => `${privateRegistries().secure.host}/${image(nameAndTag).split("/").slice(1).join("/")}`;

/** What secure serves for REF, with its CA and password: the digest, or the refusal. */
async function served(ref: string) {
  const { secure } = privateRegistries();
  const dir = mkdtempSync(join(tmpdir(), "buildpod-auth-"));
  writeFileSync(join(dir, "auth.json"), '{"auths":{}}');
  return run("skopeo", ["inspect", "--cert-dir", certDir(secure.caPath), "--creds", `${secure.username}:${secure.password}`, "--format", "{{.Digest}}", `docker://${ref}`],
    { env: { ...tc().podmanEnv, REGISTRY_AUTH_FILE: join(dir, "auth.json") }, check: false, timeoutMs: 60_000 });
}

describe.skipIf(!tc().registries)("private registries: a CA bundle, a registries.conf, pull and push Secrets", () => {
  let from = "";
  beforeAll(async () => {
    const { base, secure } = privateRegistries();
    const colon = base.busybox.lastIndexOf(":");
    from = `FROM ${ALIAS}:${base.busybox.slice(colon + 1)}\nRUN echo built-behind-a-private-ca > /marker\n`;
    await create("configmaps", { metadata: { name: CA }, data: { "root.pem": readFileSync(base.caPath, "utf8") } });
    // Nothing resolves on a registry the file does not name: no search registries, only the alias.
    await create("configmaps", {
      metadata: { name: REGISTRIES },
      data: { "registries.conf": `unqualified-search-registries = []\nshort-name-mode = "enforcing"\n[aliases]\n"${ALIAS}" = "${base.busybox.slice(0, colon)}"\n` },
    });
    await create("secrets", dockerConfigSecret(PULL, [base]));
    await create("secrets", dockerConfigSecret(PUSH, [secure]));
  });
  afterAll(async () => {
    for (const name of [CA, REGISTRIES]) await remove("configmaps", name);
    for (const name of [PULL, PUSH]) await remove("secrets", name);
  });

  const common = () => ["--registries-conf", REGISTRIES, "--push-secret", PUSH];

  it("pulls from base with the pull Secret through the alias, pushes to secure with the push Secret, trusting the CA: secure serves the digest", async () => {
    const ref = secureRef("network:trusted");
    const out = join(mkdtempSync(join(tmpdir(), "buildpod-out-")), "result.json");
    const r = buildpod("run", "--from-dir", context(from), "-t", ref, ...common(), "--ca-bundle", `${CA}/root.pem`, "--pull-secret", PULL, "--result-file", out);
    expect(r.code, `${r.out}\n${r.err}`).toBe(0);
    expect(`${r.out}\n${r.err}`).not.toMatch(/insecure|tls-verify=false/i);
    // buildah's own word that the short name went through the alias.
    expect(r.out).toMatch(new RegExp(`Resolved "${ALIAS}" as an alias`));
    const result = JSON.parse(readFileSync(out, "utf8"));
    expect(result).toMatchObject({ status: "Complete", digest: expect.stringMatching(/^sha256:[a-f0-9]{64}$/) });
    const s = await served(ref);
    expect(s.code, s.stderr).toBe(0);
    expect(s.stdout.trim()).toBe(result.digest);
    // The provenance went the same way: over HTTPS trusting the CA, with the push Secret's password.
    expect(result.provenance).toMatch(/@sha256:[a-f0-9]{64}$/);
    expect(r.out).toContain(`attached the provenance ${result.provenance.split("@")[1]}`);
  });

  it("without the CA bundle, base's certificate is not trusted and the build fails pulling", () => {
    const r = buildpod("run", "--from-dir", context(from), "-t", secureRef("network:untrusted"), ...common(), "--pull-secret", PULL);
    expect(r.code).not.toBe(0);
    expect(r.out).toMatch(/^build +\| .*(x509|certificate signed by unknown authority)/im);
  });

  it("without the pull Secret, base refuses the pull for want of credentials (the push Secret is not base's)", () => {
    const r = buildpod("run", "--from-dir", context(from), "-t", secureRef("network:anonymous"), ...common(), "--ca-bundle", `${CA}/root.pem`);
    expect(r.code).not.toBe(0);
    expect(r.out).toMatch(/^build +\| .*(unauthorized|authentication required)/im);
  });

  it("a CA bundle ConfigMap without the key named is refused before anything is created, naming the keys it has", () => {
    const r = buildpod("run", "--from-dir", context(from), "-t", secureRef("network:nokey"), ...common(), "--ca-bundle", CA);
    expect(r.code).not.toBe(0);
    expect(r.err).toMatch(/the CA bundle ConfigMap "corp-ca-[^"]+" has no key "ca\.crt" \(it has root\.pem\)/);
  });

  it("through the forward proxy: the pull and a RUN step's request go through it, the push to a --no-proxy host does not", async () => {
    const proxy = forwardProxy();
    const { base, secure } = privateRegistries();
    const plain = tc().registry;
    const before = statSync(proxy.accessLog).size;
    const ref = secureRef("network:proxied");
    // busybox wget reads http_proxy; the plain registry answers /v2/ with 200.
    const dockerfile = `${from}RUN wget -q -O /dev/null http://${plain}/v2/ && echo reached-the-registry\n`;
    const r = buildpod("run", "--from-dir", context(dockerfile), "-t", ref, ...common(), "--ca-bundle", `${CA}/root.pem`, "--pull-secret", PULL,
      "--proxy", proxy.url, "--no-proxy", secure.host);
    expect(r.code, `${r.out}\n${r.err}`).toBe(0);
    expect(r.out).toContain("reached-the-registry");
    const log = readFileSync(proxy.accessLog).subarray(before).toString("utf8");
    expect(log).toContain(`CONNECT ${base.host} HTTP/1.1`);
    expect(log).toContain(`GET http://${plain}/v2/ HTTP/1.1`);
    expect(log).not.toContain(`CONNECT ${secure.host}`);
    expect((await served(ref)).code).toBe(0);
  });

  it("clones over HTTPS trusting the CA bundle, through the proxy: the proxy saw the CONNECT, and the result names the commit", async () => {
    const proxy = forwardProxy();
    const git = gitHttps();
    const name = `https-${suffix}`;
    const r0 = await repo(name, { files: { Dockerfile: from, "app.txt": "over https\n" } });
    const url = `${git.url}/${name}`;
    const before = statSync(proxy.accessLog).size;
    const out = join(mkdtempSync(join(tmpdir(), "buildpod-out-")), "result.json");
    const r = buildpod("run", "--git", url, "-t", secureRef("network:https"), ...common(), "--ca-bundle", `${CA}/root.pem`, "--pull-secret", PULL,
      "--proxy", proxy.url, "--result-file", out);
    expect(r.code, `${r.out}\n${r.err}`).toBe(0);
    expect(JSON.parse(readFileSync(out, "utf8"))).toMatchObject({ status: "Complete", source: { uri: url, commit: r0.head } });
    const log = readFileSync(proxy.accessLog).subarray(before).toString("utf8");
    expect(log).toContain(`CONNECT ${new URL(git.url).host} HTTP/1.1`);

    const untrusted = buildpod("run", "--git", url, "-t", secureRef("network:https-untrusted"), ...common(), "--pull-secret", PULL);
    expect(untrusted.code).not.toBe(0);
    expect(`${untrusted.out}\n${untrusted.err}`).toMatch(/could not fetch .*(SSL certificate problem|certificate verify failed|server certificate verification failed)/i);
  });

  it("the node pulls a tool image from base with --image-pull-secret, and cannot without it", () => {
    const { base } = privateRegistries();
    // busybox is shell enough for the source container of an upload.
    const args = ["run", "--from-dir", context(from), "--source-image", base.busybox, ...common(), "--ca-bundle", `${CA}/root.pem`, "--pull-secret", PULL];
    const r = buildpod(...args, "-t", secureRef("network:pulled-tools"), "--image-pull-secret", PULL);
    expect(r.code, `${r.out}\n${r.err}`).toBe(0);
    const refused = buildpod(...args, "-t", secureRef("network:no-pull-secret"), "--start-timeout", "60s");
    expect(refused.code).toBe(3);
    expect(refused.err).toMatch(/ErrImagePull|ImagePullBackOff|ImagePull/);
    expect(refused.err).toMatch(/401|unauthorized|authorization/i);
  });

  it("fetches a repository's Git LFS files over HTTPS: the build sees their content, not their pointers", async () => {
    const content = randomBytes(96 * 1024);
    const oid = createHash("sha256").update(content).digest("hex");
    const pointer = `version https://git-lfs.github.com/spec/v1\noid sha256:${oid}\nsize ${content.length}\n`;
    const name = `lfs-${suffix}`;
    const dockerfile = `${from}COPY model.bin /model.bin\nRUN sha256sum /model.bin\n`;
    const r0 = await repo(name, { files: { ".gitattributes": "*.bin filter=lfs diff=lfs merge=lfs -text\n", "model.bin": pointer, Dockerfile: dockerfile } });
    // The object where git-lfs keeps a clone's objects, which the test Git server serves from.
    const store = join(r0.path, ".git", "lfs", "objects", oid.slice(0, 2), oid.slice(2, 4));
    mkdirSync(store, { recursive: true });
    writeFileSync(join(store, oid), content);
    const before = statSync(gitHttps().accessLog).size;
    const r = buildpod("run", "--git", `${gitHttps().url}/${name}`, "-t", secureRef("network:lfs"), ...common(), "--ca-bundle", `${CA}/root.pem`, "--pull-secret", PULL);
    expect(r.code, `${r.out}\n${r.err}`).toBe(0);
    expect(r.out).toMatch(/^source +\| buildpod: fetching the Git LFS files$/m);
    expect(r.out).toContain(`${oid}  /model.bin`);
    const served = readFileSync(gitHttps().accessLog).subarray(before).toString("utf8");
    expect(served).toMatch(new RegExp(`POST /${name}(\\.git)?/info/lfs/objects/batch 200`));
    expect(served).toMatch(new RegExp(`GET /${name}(\\.git)?/info/lfs/objects/${oid} 200`));
  });
});
