// The test cluster's private registries (HTTPS with a CA of the cluster's, a user and password each), its Git
// server over HTTPS (the same CA) and its forward proxy, as the host, a pod and the kubelet reach them: the
// ground that network.test.ts builds on (a CA bundle, pull credentials, a proxy). The build here reaches
// "secure" with --insecure-registry (TLS unverified) and a push Secret: the password alone decides.
import { spawnSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { run } from "../cluster/infra/proc.js";
import { authJson, certDir, cluster, forwardProxy, gitHttps, image, privateRegistries, registryDigest, repo, tc } from "./kit.js";

const BIN = join(import.meta.dirname, "../../buildpod");
const NS = "default";
const suffix = `${Date.now().toString(36)}${randomBytes(2).toString("hex")}`;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** skopeo with no credentials but those given: an empty auth file in place of the machine's. */
function skopeo(args: string[]) {
  const dir = mkdtempSync(join(tmpdir(), "buildpod-auth-"));
  writeFileSync(join(dir, "auth.json"), '{"auths":{}}');
  return run("skopeo", args, { env: { ...tc().podmanEnv, REGISTRY_AUTH_FILE: join(dir, "auth.json") }, check: false, timeoutMs: 60_000 });
}

const UNAUTHORIZED = /unauthorized|authentication required/i;
const UNTRUSTED = /x509|certificate signed by unknown authority/i;
/** git's (libcurl's) words for a server certificate it cannot verify. */
const GIT_UNTRUSTED = /server certificate verification failed|SSL certificate problem/i;

/** Names of the ConfigMap (the CA as ca.crt) and the Secret (auth.json for "base") the pods mount. */
const CA = `registry-ca-${suffix}`;
const AUTH = `registry-auth-${suffix}`;

async function create(kind: "configmaps" | "secrets", body: Record<string, unknown>): Promise<void> {
  const c = await cluster();
  await c.call(`creating ${kind}`, "POST", `/api/v1/namespaces/${NS}/${kind}`, { body });
}

async function remove(kind: "configmaps" | "secrets" | "pods", name: string): Promise<void> {
  const c = await cluster();
  await c.call(`deleting ${name}`, "DELETE", `/api/v1/namespaces/${NS}/${kind}/${name}`, { query: { gracePeriodSeconds: "0" } }).catch(() => {});
}

interface Step { rc: number; out: string }

/**
 * Runs STEPS (name and command line, in order) in one pod of the builder image, with the CA at /ca/ca.crt
 * and base's auth.json at /auth; returns each step's exit code and output, and the pod's address.
 */
async function inPod(name: string, steps: [string, string][], env: Record<string, string> = {}): Promise<{ steps: Record<string, Step>; ip: string }> {
  const c = await cluster();
  const pod = `${name}-${suffix}`;
  const script = [
    'step() { n=$1; shift; bash -c "$*" >/tmp/step.out 2>&1; rc=$?; echo "### $n rc=$rc"; cat /tmp/step.out; }',
    ...steps.map(([n, cmd]) => `step ${n} ${JSON.stringify(cmd)}`),
  ].join("\n");
  await c.call("creating a pod", "POST", `/api/v1/namespaces/${NS}/pods`, {
    body: {
      metadata: { name: pod },
      spec: {
        restartPolicy: "Never",
        containers: [{
          name: "main", image: tc().builder, command: ["bash", "-c", script],
          env: Object.entries(env).map(([k, v]) => ({ name: k, value: v })),
          volumeMounts: [{ name: "ca", mountPath: "/ca", readOnly: true }, { name: "auth", mountPath: "/auth", readOnly: true }],
        }],
        volumes: [{ name: "ca", configMap: { name: CA } }, { name: "auth", secret: { secretName: AUTH } }],
      },
    },
  });
  try {
    let ip = "";
    const deadline = Date.now() + 150_000;
    for (;;) {
      const p = await c.call<{ status?: { phase?: string; podIP?: string } }>("reading the pod", "GET", `/api/v1/namespaces/${NS}/pods/${pod}`);
      ip ||= p.status?.podIP ?? "";
      if (p.status?.phase === "Succeeded" || p.status?.phase === "Failed") break;
      if (Date.now() > deadline) throw new Error(`pod ${pod} did not finish: ${JSON.stringify(p.status)}`);
      await sleep(500);
    }
    const logs = spawnSync(tc().kubectl, ["--kubeconfig", tc().kubeconfig, "-n", NS, "logs", pod], { encoding: "utf8" });
    const out: Record<string, Step> = {};
    for (const part of logs.stdout.split(/^### /m).slice(1)) {
      const m = /^(\S+) rc=(\d+)\n/.exec(part);
      if (m) out[m[1]!] = { rc: Number(m[2]), out: part.slice(m[0].length) };
    }
    for (const [n] of steps) if (!out[n]) throw new Error(`pod ${pod} did not report step ${n}; its log:\n${logs.stdout}${logs.stderr}`);
    return { steps: out, ip };
  } finally {
    await remove("pods", pod);
  }
}

const registries = tc().registries;

describe.skipIf(!registries)("the test cluster's private registries and proxy", () => {
  beforeAll(async () => {
    const { base } = privateRegistries();
    await create("configmaps", { metadata: { name: CA }, data: { "ca.crt": readFileSync(base.caPath, "utf8") } });
    await create("secrets", { metadata: { name: AUTH }, type: "Opaque", stringData: { "auth.json": authJson([base]) } });
  });
  afterAll(async () => {
    await remove("configmaps", CA);
    await remove("secrets", AUTH);
  });

  it("from the host: skopeo reads base's busybox with the CA and base's password; without either, or with secure's password, it is refused", async () => {
    const { base, secure } = privateRegistries();
    expect(base.username).not.toBe(secure.username);
    expect(base.password).not.toBe(secure.password);
    const ca = certDir(base.caPath);
    const ref = `docker://${base.busybox}`;
    const creds = (r: { username: string; password: string }) => `${r.username}:${r.password}`;

    const ok = await skopeo(["inspect", "--cert-dir", ca, "--creds", creds(base), "--format", "{{.Digest}}", ref]);
    expect(ok.code, ok.stderr).toBe(0);
    // The very image of the plain registry, copied whole.
    expect(ok.stdout.trim()).toBe(await registryDigest(tc().busybox));

    const anonymous = await skopeo(["inspect", "--cert-dir", ca, "--no-creds", ref]);
    expect(anonymous.code).not.toBe(0);
    expect(anonymous.stderr).toMatch(UNAUTHORIZED);
    const otherPassword = await skopeo(["inspect", "--cert-dir", ca, "--creds", creds(secure), ref]);
    expect(otherPassword.code).not.toBe(0);
    expect(otherPassword.stderr).toMatch(UNAUTHORIZED);
    const untrusted = await skopeo(["inspect", "--creds", creds(base), ref]);
    expect(untrusted.code).not.toBe(0);
    expect(untrusted.stderr).toMatch(UNTRUSTED);
  });

  it("from a pod: buildah pulls base's busybox over TLS with the CA and the password, and is refused without either", async () => {
    const { base } = privateRegistries();
    const pull = (opts: string) => `buildah pull --quiet ${opts} docker://${base.busybox}`;
    // The refusals first: after a pull the image is local, but buildah pull asks the registry every time.
    const r = await inPod("base-pull", [
      ["no-password", pull("--cert-dir /ca")],
      ["no-ca", pull("--authfile /auth/auth.json")],
      ["pull", pull("--cert-dir /ca --authfile /auth/auth.json")],
    ]);
    expect(r.steps["no-password"]!.rc).not.toBe(0);
    expect(r.steps["no-password"]!.out).toMatch(UNAUTHORIZED);
    expect(r.steps["no-ca"]!.rc).not.toBe(0);
    expect(r.steps["no-ca"]!.out).toMatch(UNTRUSTED);
    expect(r.steps.pull!.rc, r.steps.pull!.out).toBe(0);
    expect(r.steps.pull!.out.trim()).toMatch(/^[a-f0-9]{64}$/m);
  });

  describe("a build pushing to secure with TLS unverified (--insecure-registry)", () => {
    const pushSecret = `secure-push-${suffix}`;
    beforeAll(async () => {
      const { secure } = privateRegistries();
      await create("secrets", {
        metadata: { name: pushSecret }, type: "kubernetes.io/dockerconfigjson",
        data: { ".dockerconfigjson": Buffer.from(authJson([secure])).toString("base64") },
      });
    });
    afterAll(() => remove("secrets", pushSecret));

    function buildpod(...args: string[]) {
      const c = tc();
      const env = { ...process.env, KUBECONFIG: c.kubeconfig, BUILDPOD_IMAGE_SOURCE: c.builder, BUILDPOD_IMAGE_BUILDAH: c.builder };
      const r = spawnSync(BIN, args, { encoding: "utf8", env, timeout: 180_000 });
      return { code: r.status, out: r.stdout, err: r.stderr };
    }
    const context = () => {
      const dir = mkdtempSync(join(tmpdir(), "buildpod-reg-"));
      writeFileSync(join(dir, "Dockerfile"), `FROM ${tc().busybox}\nRUN echo pushed-with-a-password > /marker\n`);
      return dir;
    };
    /** secure/<this run's path>/NAME:TAG */
    const secureRef = (nameAndTag: string) => `${privateRegistries().secure.host}/${image(nameAndTag).split("/").slice(1).join("/")}`;

    it("with the push Secret: the build pushes, and secure serves the digest it reports", async () => {
      const { secure } = privateRegistries();
      const ref = secureRef("registries:pushed");
      const out = join(mkdtempSync(join(tmpdir(), "buildpod-out-")), "result.json");
      const r = buildpod("run", "--from-dir", context(), "-t", ref, "--insecure-registry", "--push-secret", pushSecret, "--result-file", out);
      expect(r.code, `${r.out}\n${r.err}`).toBe(0);
      const result = JSON.parse(readFileSync(out, "utf8"));
      expect(result).toMatchObject({ status: "Complete", digest: expect.stringMatching(/^sha256:[a-f0-9]{64}$/) });
      const served = await skopeo(["inspect", "--cert-dir", certDir(secure.caPath), "--creds", `${secure.username}:${secure.password}`, "--format", "{{.Digest}}", `docker://${ref}`]);
      expect(served.code, served.stderr).toBe(0);
      expect(served.stdout.trim()).toBe(result.digest);
    });

    it("without it: the push is refused for want of credentials, and the build fails", async () => {
      const ref = secureRef("registries:refused");
      const r = buildpod("run", "--from-dir", context(), "-t", ref, "--insecure-registry");
      expect(r.code).not.toBe(0);
      // buildah's own words, in the build's log: the push, refused by the registry.
      expect(r.out).toMatch(/^build +\| Error: pushing image .*(unauthorized|authentication required)/im);
      const { secure } = privateRegistries();
      const served = await skopeo(["inspect", "--cert-dir", certDir(secure.caPath), "--creds", `${secure.username}:${secure.password}`, `docker://${ref}`]);
      expect(served.code).not.toBe(0);
      expect(served.stderr).toMatch(/manifest unknown|name unknown/i);
    });
  });

  it("the proxy: a pod's pulls through HTTPS_PROXY and HTTP_PROXY go through tinyproxy, which logs them, and it refuses what is not a registry or the git daemon", async () => {
    const { base } = privateRegistries();
    const proxy = forwardProxy();
    const plain = tc().registry;
    const api = new URL(tc().apiUrl).host;
    const from = statSync(proxy.accessLog).size;
    const r = await inPod("proxied", [
      ["https", `buildah pull --quiet --cert-dir /ca --authfile /auth/auth.json docker://${base.busybox}`],
      // TLS unverified: HTTPS first (a CONNECT, which the plain registry answers with no TLS), then plain HTTP.
      ["http", `buildah pull --quiet --tls-verify=false docker://${tc().busybox}`],
      // An address outside the test cluster (TEST-NET-1, documentation only): the proxy refuses it without connecting.
      ["outside", "buildah pull --quiet --tls-verify=false docker://192.0.2.1:5002/buildpod/busybox:none"],
      // The test cluster's own API server: not a registry.
      ["apiserver", `buildah pull --quiet --tls-verify=false docker://${api}/buildpod/busybox:none`],
    ], { HTTPS_PROXY: proxy.url, HTTP_PROXY: proxy.url });
    expect(r.steps.https!.rc, r.steps.https!.out).toBe(0);
    expect(r.steps.http!.rc, r.steps.http!.out).toBe(0);
    // The proxy's 403, as buildah reports it: it never reached either.
    for (const step of [r.steps.outside!, r.steps.apiserver!]) {
      expect(step.rc).not.toBe(0);
      expect(step.out).toMatch(/\b403\b/);
    }

    const log = readFileSync(proxy.accessLog).subarray(from).toString("utf8");
    expect(r.ip).toMatch(/^10\.244\./);
    expect(log).toMatch(new RegExp(`Connect \\(file descriptor \\d+\\): ${r.ip.replace(/\./g, "\\.")}\\s*$`, "m"));
    expect(log).toContain(`CONNECT ${base.host} HTTP/1.1`);
    expect(log).toContain(`GET http://${plain}/v2/`);
    expect(log).toContain(`Proxying refused on filtered url "192.0.2.1:5002"`);
    expect(log).not.toMatch(/Established connection to host "192\.0\.2\.1"/);
    expect(log).toMatch(new RegExp(`Refused CONNECT method on port ${api.split(":")[1]}|Proxying refused on filtered url "${api.replace(/\./g, "\\.")}"`));
  });
  describe.skipIf(!tc().gitHttps)("the Git server over HTTPS", () => {
    const name = `https-${suffix}`;
    let head = "";
    beforeAll(async () => {
      head = (await repo(name, { files: { "README": "served over HTTPS\n" } })).head;
    });
    afterAll(() => rmSync(join(tc().gitBase, name), { recursive: true, force: true }));

    /** git on the host, with none of the machine's configuration and CA (when given) as its only trust. */
    function hostGit(args: string[], ca?: string) {
      const env: NodeJS.ProcessEnv = { ...process.env, GIT_CONFIG_NOSYSTEM: "1", GIT_CONFIG_GLOBAL: "/dev/null", GIT_TERMINAL_PROMPT: "0" };
      // The machine may name its own bundle here; without CA, git falls back to libcurl's default (the system's).
      delete env.GIT_SSL_CAINFO;
      if (ca) env.GIT_SSL_CAINFO = ca;
      return spawnSync("git", args, { encoding: "utf8", env, timeout: 60_000 });
    }

    it("from the host: ls-remote works with the CA, and fails on the certificate without it", async () => {
      const g = gitHttps();
      const url = `${g.url}/${name}`;
      const from = statSync(g.accessLog).size;
      const ok = hostGit(["ls-remote", url, "refs/heads/main"], g.caPath);
      expect(ok.status, ok.stderr).toBe(0);
      expect(ok.stdout).toBe(`${head}\trefs/heads/main\n`);
      const untrusted = hostGit(["ls-remote", url]);
      expect(untrusted.status).not.toBe(0);
      expect(untrusted.stderr).toMatch(GIT_UNTRUSTED);
      // The server logs a request once it has answered it: the client may have read the answer a moment before.
      await sleep(200);
      expect(readFileSync(g.accessLog).subarray(from).toString("utf8")).toContain(`GET /${name}/info/refs?service=git-upload-pack 200`);
    });

    it("from a pod: a clone with the CA works directly and through the forward proxy's CONNECT; without the CA it fails", async () => {
      // /ca/ca.crt is the registries' CA (the ConfigMap made from base's): one CA trusted for both.
      const g = gitHttps();
      const proxy = forwardProxy();
      const url = `${g.url}/${name}`;
      const host = new URL(g.url).host;
      const clone = (dir: string) => `git clone -q ${url} ${dir} && git -C ${dir} rev-parse HEAD`;
      const fromProxy = statSync(proxy.accessLog).size;
      const fromServer = statSync(g.accessLog).size;
      const direct = await inPod("git-https", [
        ["clone", `GIT_SSL_CAINFO=/ca/ca.crt ${clone("/tmp/direct")}`],
        ["no-ca", `git ls-remote ${url}`],
      ]);
      expect(direct.steps.clone!.rc, direct.steps.clone!.out).toBe(0);
      expect(direct.steps.clone!.out.trim()).toBe(head);
      expect(direct.steps["no-ca"]!.rc).not.toBe(0);
      expect(direct.steps["no-ca"]!.out).toMatch(GIT_UNTRUSTED);
      const proxied = await inPod("git-https-proxied", [["clone", `GIT_SSL_CAINFO=/ca/ca.crt ${clone("/tmp/proxied")}`]], { HTTPS_PROXY: proxy.url });
      expect(proxied.steps.clone!.rc, proxied.steps.clone!.out).toBe(0);
      expect(proxied.steps.clone!.out.trim()).toBe(head);

      expect(readFileSync(proxy.accessLog).subarray(fromProxy).toString("utf8")).toContain(`CONNECT ${host} HTTP/1.1`);
      // The server saw the direct clone come from the pod and the proxied one from the proxy (the node's address).
      const served = readFileSync(g.accessLog).subarray(fromServer).toString("utf8");
      const esc = (s: string) => s.replace(/\./g, "\\.");
      const fetched = (client: string) => new RegExp(`${esc(client)}:\\d+ POST /${name}/git-upload-pack 200`);
      expect(served).toMatch(fetched(direct.ip));
      expect(served).toMatch(fetched(host.split(":")[0]!));
      expect(served).not.toMatch(fetched(proxied.ip));
    });
  });

  describe("the kubelet pulls base's busybox with imagePullSecrets", () => {
    const pullSecret = `base-pull-${suffix}`;
    beforeAll(async () => {
      await create("secrets", {
        metadata: { name: pullSecret }, type: "kubernetes.io/dockerconfigjson",
        data: { ".dockerconfigjson": Buffer.from(authJson([privateRegistries().base])).toString("base64") },
      });
    });
    afterAll(() => remove("secrets", pullSecret));

    interface Pod {
      status?: {
        phase?: string;
        containerStatuses?: { state?: { waiting?: { reason?: string; message?: string }; terminated?: { exitCode?: number } } }[];
      };
    }

    /** Creates a pod of base's busybox (pulled every time), polls it until DONE says so (90 s at most), deletes it. */
    async function busyboxPod(name: string, secrets: string[], done: (p: Pod) => boolean): Promise<{ pod: Pod; logs: string }> {
      const c = await cluster();
      const pod = `${name}-${suffix}`;
      await c.call("creating a pod", "POST", `/api/v1/namespaces/${NS}/pods`, {
        body: {
          metadata: { name: pod },
          spec: {
            restartPolicy: "Never",
            imagePullSecrets: secrets.map((s) => ({ name: s })),
            containers: [{ name: "main", image: privateRegistries().base.busybox, imagePullPolicy: "Always", command: ["sh", "-c", "echo ok"] }],
          },
        },
      });
      try {
        const deadline = Date.now() + 90_000;
        for (;;) {
          const p = await c.call<Pod>("reading the pod", "GET", `/api/v1/namespaces/${NS}/pods/${pod}`);
          if (done(p)) {
            const logs = spawnSync(tc().kubectl, ["--kubeconfig", tc().kubeconfig, "-n", NS, "logs", pod], { encoding: "utf8" });
            return { pod: p, logs: logs.stdout };
          }
          if (Date.now() > deadline) throw new Error(`pod ${pod}: not what the test waits for within 90 s: ${JSON.stringify(p.status)}`);
          await sleep(500);
        }
      } finally {
        await remove("pods", pod);
      }
    }

    const waiting = (p: Pod) => p.status?.containerStatuses?.[0]?.state?.waiting;
    /** The pod ran to its end, or its pull failed. */
    const settled = (p: Pod) => p.status?.phase === "Succeeded" || p.status?.phase === "Failed" || /^(ErrImagePull|ImagePullBackOff)$/.test(waiting(p)?.reason ?? "");

    it("without them the pull is refused for want of credentials", async () => {
      const r = await busyboxPod("no-pull-secret", [], settled);
      expect(r.pod.status?.phase).not.toBe("Succeeded");
      expect(waiting(r.pod)?.reason).toMatch(/^(ErrImagePull|ImagePullBackOff)$/);
      expect(waiting(r.pod)?.message).toMatch(/401|unauthorized|authorization/i);
    });

    it("with them the pod runs: containerd trusts the registries' CA and the kubelet hands it the Secret's password", async () => {
      const r = await busyboxPod("pull-secret", [pullSecret], settled);
      expect(r.pod.status?.phase, JSON.stringify(r.pod.status)).toBe("Succeeded");
      expect(r.logs).toBe("ok\n");
    });
  });
});
