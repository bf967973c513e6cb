// The buildpod command as CI scripts call it, against the test cluster.
import { spawn, spawnSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { chmodSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { gunzipSync } from "node:zlib";
import { createServer } from "node:http";
import { connect, type AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { parse, stringify } from "yaml";
import { startBuild } from "../../core/index.js";
import { run } from "../cluster/infra/proc.js";
import { cluster, image, registryDigest, registryHas, request_, tc } from "./kit.js";

const BIN = join(import.meta.dirname, "../../buildpod");

function env(): NodeJS.ProcessEnv {
  const c = tc();
  return { ...process.env, KUBECONFIG: c.kubeconfig, BUILDPOD_IMAGE_SOURCE: c.builder, BUILDPOD_IMAGE_BUILDAH: c.builder };
}

function buildpod(...args: string[]) {
  const r = spawnSync(BIN, args, { encoding: "utf8", env: env(), timeout: 180_000 });
  return { code: r.status, out: r.stdout, err: r.stderr };
}

/** The command running in the background, until its output shows `line` (a log line's text). */
async function started(args: string[], line: string) {
  const child = spawn(BIN, args, { env: env() });
  const io = { out: "", err: "" };
  child.stdout.on("data", (d: Buffer) => (io.out += d.toString()));
  child.stderr.on("data", (d: Buffer) => (io.err += d.toString()));
  const exited = new Promise<number | null>((r) => child.on("exit", (code) => r(code)));
  const seen = new RegExp(`\\| ${line}$`, "m");
  const deadline = Date.now() + 90_000;
  while (!seen.test(io.out) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 200));
  expect(io.out).toMatch(seen);
  return { child, io, exited };
}

function context(dockerfile: string): string {
  const dir = mkdtempSync(join(tmpdir(), "buildpod-cli-"));
  writeFileSync(join(dir, "Dockerfile"), dockerfile);
  return dir;
}

async function leftovers(run: string): Promise<number> {
  const c = await cluster();
  const pods = await c.listPods("default", `buildpod.dev/run=${run}`);
  const jobs = await c.listJobs("default", `buildpod.dev/run=${run}`);
  return pods.items.length + jobs.items.length;
}

describe("buildpod run", () => {
  it("exit 0, logs on stdout, the result in JSON and KEY=VALUE files", () => {
    const out = mkdtempSync(join(tmpdir(), "buildpod-out-"));
    const r = buildpod("run", "--from-dir", context(`FROM ${tc().busybox}\nRUN echo from-the-cli\n`), "-t", image("cli:ok"), "--insecure-registry",
      "--result-file", join(out, "result.json"), "--result-env-file", join(out, "result.env"));
    expect(r.code, r.err).toBe(0);
    expect(r.out).toMatch(/^build +\| .*from-the-cli$/m);
    expect(r.err).toMatch(/buildpod: build complete: .*@sha256:[a-f0-9]{64}/);
    const result = JSON.parse(readFileSync(join(out, "result.json"), "utf8"));
    expect(result.status).toBe("Complete");
    const envFile = Object.fromEntries(readFileSync(join(out, "result.env"), "utf8").trim().split("\n").map((l) => [l.slice(0, l.indexOf("=")), l.slice(l.indexOf("=") + 1)]));
    expect(envFile.BUILDPOD_DIGEST).toBe(result.digest);
    expect(envFile.BUILDPOD_IMAGE_REF).toBe(result.imageRef);
    return registryDigest(image("cli:ok")).then((d) => expect(d).toBe(result.digest));
  });

  it("--from-dir: the context's directories arrive as docker's context has them, empty and read-only ones too", () => {
    const dir = context(`FROM ${tc().busybox}\nCOPY . /ctx\nRUN stat -c 'mode %a %n' /ctx/empty /ctx/private /ctx/ro && cat /ctx/ro/f\n`);
    mkdirSync(join(dir, "empty"), { mode: 0o750 });
    mkdirSync(join(dir, "private"), { mode: 0o700 });
    mkdirSync(join(dir, "ro"));
    writeFileSync(join(dir, "ro/f"), "inside-the-read-only-directory\n");
    chmodSync(join(dir, "empty"), 0o750);
    chmodSync(join(dir, "ro"), 0o555);
    const r = buildpod("run", "--from-dir", dir, "-t", image("cli:dirs"), "--insecure-registry");
    expect(r.code, r.err).toBe(0);
    expect(r.out).toMatch(/\| mode 750 \/ctx\/empty$/m);
    expect(r.out).toMatch(/\| mode 700 \/ctx\/private$/m);
    expect(r.out).toMatch(/\| mode 555 \/ctx\/ro$/m);
    expect(r.out).toMatch(/\| inside-the-read-only-directory$/m);
  });

  it("--no-push: builds to the end, pushes nothing, and the result says so with the image ID", async () => {
    const out = join(mkdtempSync(join(tmpdir(), "buildpod-out-")), "result.json");
    const r = buildpod("run", "--from-dir", context(`FROM ${tc().busybox}\nRUN echo built-not-pushed\n`), "-t", image("cli-nopush:1"), "--tag", "2",
      "--insecure-registry", "--no-push", "--result-file", out);
    expect(r.code, r.err).toBe(0);
    expect(r.out).toMatch(/\| built-not-pushed$/m);
    expect(r.err).toMatch(/build complete: \S*cli-nopush:1 \(not pushed\)/);
    const result = JSON.parse(readFileSync(out, "utf8"));
    expect(result).toMatchObject({ status: "Complete", pushed: false, imageId: expect.stringMatching(/^sha256:[a-f0-9]{64}$/) });
    expect(result.digest).toBeUndefined();
    expect(result.message).toContain(`image ID ${result.imageId}`);
    expect(await registryHas(image("cli-nopush:1"))).toBe(false);
    expect(await registryHas(image("cli-nopush:2"))).toBe(false);
    // The same check does see what a build pushed.
    expect(await registryHas(image("cli:ok"))).toBe(true);
  });

  it("--annotation: the pushed manifest carries the annotations, the config only the labels", async () => {
    const ref = image("cli-annotated:1");
    const r = buildpod("run", "--from-dir", context(`FROM ${tc().busybox}\nRUN true\n`), "-t", ref, "--insecure-registry",
      "--annotation", "org.opencontainers.image.title=annotated", "--annotation", 'com.example.note=a "quoted", comma', "--label", "team=core");
    expect(r.code, r.err).toBe(0);
    const manifest = JSON.parse((await run("skopeo", ["inspect", "--raw", "--tls-verify=false", `docker://${ref}`], { env: tc().podmanEnv })).stdout);
    expect(manifest.annotations).toMatchObject({ "org.opencontainers.image.title": "annotated", "com.example.note": 'a "quoted", comma' });
    const config = JSON.parse((await run("skopeo", ["inspect", "--config", "--tls-verify=false", `docker://${ref}`], { env: tc().podmanEnv })).stdout);
    expect(config.config.Labels).toMatchObject({ team: "core" });
    expect(config.config.Labels["org.opencontainers.image.title"]).toBeUndefined();
  });

  it("--secret: a RUN step reads the Secret's key; the image, the logs and the result hold no trace of it", async () => {
    const value = `bp-secret-${randomBytes(12).toString("hex")}`;
    const dir = mkdtempSync(join(tmpdir(), "buildpod-secret-"));
    writeFileSync(join(dir, "value"), value);
    const name = `build-token-${randomBytes(3).toString("hex")}`;
    const kubectl = (...args: string[]) => spawnSync(tc().kubectl, args, { encoding: "utf8", env: env() });
    expect(kubectl("create", "secret", "generic", name, `--from-file=npmrc=${join(dir, "value")}`).status).toBe(0);
    try {
      const ref = image("cli-secret:1");
      const out = join(dir, "result.json");
      const r = buildpod("run", "--from-dir", context([
        `FROM ${tc().busybox}`,
        "RUN --mount=type=secret,id=token n=$(wc -c < /run/secrets/token) && echo \"secret-bytes-$n\"",
        "RUN --mount=type=secret,id=token cp /run/secrets/token /dev/null && echo done > /marker",
      ].join("\n") + "\n"), "-t", ref, "--insecure-registry", "--secret", `id=token,secret=${name},key=npmrc`, "--result-file", out);
      expect(r.code, r.err).toBe(0);
      expect(r.out).toMatch(new RegExp(`\\| secret-bytes-${value.length}$`, "m"));
      for (const [what, text] of [["stdout", r.out], ["stderr", r.err], ["result", readFileSync(out, "utf8")]]) expect(text, what).not.toContain(value);
      // Every blob of the pushed image, layers unpacked: the manifest, the config (history and labels) and each layer.
      const copy = join(dir, "image");
      await run("skopeo", ["copy", "--src-tls-verify=false", `docker://${ref}`, `dir:${copy}`], { env: tc().podmanEnv });
      const blobs = readdirSync(copy);
      expect(blobs.length).toBeGreaterThanOrEqual(3);
      for (const blob of blobs) {
        const bytes = readFileSync(join(copy, blob));
        const text = (bytes[0] === 0x1f && bytes[1] === 0x8b ? gunzipSync(bytes) : bytes).toString("latin1");
        expect(text.includes(value), blob).toBe(false);
        if (blob !== "manifest.json" && blob !== "version") expect(text.length).toBeGreaterThan(0);
      }
      // The marker layer is in there: the search did read the layers.
      expect(blobs.some((b) => { const x = readFileSync(join(copy, b)); return x[0] === 0x1f && gunzipSync(x).toString("latin1").includes("marker"); })).toBe(true);
    } finally {
      kubectl("delete", "secret", name);
    }
  });

  it("--secret naming a key the Secret does not have: refused before anything is made, naming the keys it has", () => {
    const name = `build-token-${randomBytes(3).toString("hex")}`;
    const kubectl = (...args: string[]) => spawnSync(tc().kubectl, args, { encoding: "utf8", env: env() });
    expect(kubectl("create", "secret", "generic", name, "--from-literal=present=x").status).toBe(0);
    try {
      const r = buildpod("run", "--from-dir", context(`FROM ${tc().busybox}\n`), "-t", image("cli-secret:2"), "--insecure-registry", "--secret", `id=token,secret=${name}`);
      expect(r.code).toBe(5);
      expect(r.err).toContain(`the build secret "${name}" has no key "token" (it has present)`);
    } finally {
      kubectl("delete", "secret", name);
    }
  });

  it("-o json: the result alone on stdout", () => {
    const r = buildpod("run", "--from-dir", context(`FROM ${tc().busybox}\nRUN true\n`), "-t", image("cli:json"), "--insecure-registry", "-o", "json");
    expect(r.code, r.err).toBe(0);
    expect(JSON.parse(r.out)).toMatchObject({ status: "Complete", reason: "Completed" });
  });

  it("exit 1 for a failed build, with the result file written and the last lines shown", () => {
    const out = join(mkdtempSync(join(tmpdir(), "buildpod-out-")), "result.json");
    const r = buildpod("run", "--from-dir", context(`FROM ${tc().busybox}\nRUN echo cli-failure-marker && exit 7\n`), "-t", image("cli:fail"), "--insecure-registry", "--result-file", out);
    expect(r.code).toBe(1);
    expect(r.err).toMatch(/build failed \(BuildFailed\)/);
    expect(r.err).toMatch(/last lines of build:\n(.*\n)*.*cli-failure-marker/);
    expect(JSON.parse(readFileSync(out, "utf8"))).toMatchObject({ status: "Failed", reason: "BuildFailed", failedContainer: "build" });
  });

  it("exit 3 for a build that cannot start", () => {
    const r = buildpod("run", "--from-dir", context(`FROM ${tc().busybox}\n`), "-t", image("cli:big"), "--insecure-registry",
      "--memory-request", "4000Gi", "--memory-limit", "4000Gi", "--start-timeout", "4s");
    expect(r.code).toBe(3);
    expect(r.err).toMatch(/failed to start \(Unschedulable\)/);
  });

  it("through the kubeconfig's proxy-url (client-node's KubeConfig, from its own bundle): calls, the upload and the logs all take the proxy", async () => {
    // An HTTP CONNECT proxy in this process: the command must not be run with spawnSync, which would block it.
    const tunnels: string[] = [];
    const proxy = createServer().on("connect", (req, client, head) => {
      tunnels.push(req.url ?? "");
      const [host, port] = (req.url ?? "").split(":");
      const upstream = connect(Number(port), host, () => {
        client.write("HTTP/1.1 200 Connection Established\r\n\r\n");
        upstream.write(head);
        upstream.pipe(client);
        client.pipe(upstream);
      });
      upstream.on("error", () => client.destroy());
      client.on("error", () => upstream.destroy());
    });
    await new Promise<void>((r) => proxy.listen(0, "127.0.0.1", r));
    try {
      const doc = parse(readFileSync(tc().kubeconfig, "utf8"));
      doc.clusters[0].cluster["proxy-url"] = `http://127.0.0.1:${(proxy.address() as AddressInfo).port}`;
      const kubeconfig = join(mkdtempSync(join(tmpdir(), "buildpod-kc-")), "config");
      writeFileSync(kubeconfig, stringify(doc));
      const child = spawn(BIN, ["run", "--kubeconfig", kubeconfig, "--from-dir", context(`FROM ${tc().busybox}\nRUN echo through-the-proxy\n`), "-t", image("cli:proxied"), "--insecure-registry"], { env: env() });
      let out = "";
      let err = "";
      child.stdout.on("data", (d: Buffer) => (out += d.toString()));
      child.stderr.on("data", (d: Buffer) => (err += d.toString()));
      const code = await new Promise<number | null>((r) => child.on("exit", r));
      expect(code, err).toBe(0);
      expect(out).toMatch(/^build +\| .*through-the-proxy$/m);
      const server = new URL(parse(readFileSync(tc().kubeconfig, "utf8")).clusters[0].cluster.server as string);
      // API calls, the watch, the exec session of the upload and a log stream per container: each its tunnel.
      expect(tunnels.filter((t) => t === `${server.hostname}:${server.port}`).length).toBeGreaterThanOrEqual(4);
    } finally {
      proxy.closeAllConnections();
      proxy.close();
    }
  });

  it("exit 5 and one clear line when the cluster cannot be reached", () => {
    const kubeconfig = join(mkdtempSync(join(tmpdir(), "buildpod-kc-")), "config");
    writeFileSync(kubeconfig, readFileSync(tc().kubeconfig, "utf8").replace(/server: https:\/\/\S+/, "server: https://127.0.0.1:1"));
    const r = buildpod("run", "--kubeconfig", kubeconfig, "--from-dir", ".", "-t", image("cli:nowhere"));
    expect(r.code).toBe(5);
    expect(r.err.trim().split("\n")).toHaveLength(1);
    expect(r.err).toMatch(/^buildpod: error: .*cannot reach the cluster API/);
  });

  it("exit 5 for a build the preflight refuses, with the reason in the result files", () => {
    const out = mkdtempSync(join(tmpdir(), "buildpod-refused-"));
    const r = buildpod("run", "--from-dir", context(`FROM ${tc().busybox}\n`), "-t", image("cli:refused"), "--push-secret", "no-such-secret",
      "--result-file", join(out, "result.json"), "--result-env-file", join(out, "result.env"));
    expect(r.code).toBe(5);
    expect(r.err).toMatch(/^buildpod: error: the push secret "no-such-secret" does not exist/m);
    const result = JSON.parse(readFileSync(join(out, "result.json"), "utf8"));
    expect(result).toMatchObject({ status: "Error", reason: "SecretNotFound", image: image("cli:refused"), run: "" });
    expect(result.message).toMatch(/the push secret "no-such-secret" does not exist/);
    expect(readFileSync(join(out, "result.env"), "utf8")).toMatch(/^BUILDPOD_STATUS=Error$/m);
  });

  it.each(["SIGINT", "SIGTERM"] as const)("%s mid-build: exit 4, says what it deleted, nothing left within 5 s", async (signal) => {
    const { child, io, exited } = await started(["run", "--from-dir", context(`FROM ${tc().busybox}\nRUN echo sleeping && sleep 120\n`), "-t", image(`cli:cancel-${signal.toLowerCase()}`), "--insecure-registry"], "sleeping");
    const t0 = Date.now();
    child.kill(signal);
    const code = await exited;
    expect(code).toBe(4);
    expect(Date.now() - t0).toBeLessThan(5000);
    const run = /created job (\S+) in namespace/.exec(io.err)![1];
    expect(io.err).toContain(`deleted job/${run}, pod/${run}-`);
    let left = await leftovers(run);
    while (left && Date.now() - t0 < 5000) {
      await new Promise((r) => setTimeout(r, 200));
      left = await leftovers(run);
    }
    expect(left).toBe(0);
  });
});

describe("buildpod logs and cancel", () => {
  it("logs prints a finished build's containers, cancel stops a running one", async () => {
    const r = buildpod("run", "--from-dir", context(`FROM ${tc().busybox}\nRUN echo logged-line\n`), "-t", image("cli:logs"), "--insecure-registry", "--no-logs");
    expect(r.code, r.err).toBe(0);
    expect(r.out).not.toContain("logged-line");
    const run = /created job (\S+) in namespace/.exec(r.err)![1];
    const logs = buildpod("logs", run);
    expect(logs.code).toBe(0);
    expect(logs.out).toMatch(/^source +\| buildpod: upload received$/m);
    expect(logs.out).toMatch(/^build +\| logged-line$/m);

    const handle = await startBuild(await cluster(), request_({ source: { dockerfile: `FROM ${tc().busybox}\nRUN sleep 120\n` }, output: { image: image("cli:cancel2") } }));
    const cancelled = buildpod("cancel", handle.name);
    expect(cancelled.code).toBe(0);
    expect(cancelled.err).toContain(`deleted job/${handle.name}`);
    expect(buildpod("cancel", handle.name).err).toMatch(/no build .* \(it may have finished and been deleted\)|already gone/);
  });

  it("logs -f follows a running build to its end; Ctrl-C stops following and leaves the build running", async () => {
    const c = await cluster();
    const slow = await startBuild(c, request_({ source: { dockerfile: `FROM ${tc().busybox}\nRUN echo first-line && sleep 3 && echo last-line\n` }, output: { image: image("cli:follow") } }));
    const followed = buildpod("logs", "-f", slow.name);
    expect(followed.code, followed.err).toBe(0);
    expect(followed.out).toMatch(/^build +\| first-line$[\s\S]*^build +\| last-line$/m);
    expect(followed.err).toMatch(/build complete/);

    const long = await startBuild(c, request_({ source: { dockerfile: `FROM ${tc().busybox}\nRUN echo waiting-here && sleep 120\n` }, output: { image: image("cli:follow-stop") } }));
    const { child, io, exited } = await started(["logs", "-f", long.name], "waiting-here");
    child.kill("SIGINT");
    expect(await exited).toBe(0);
    expect(io.err).toMatch(/SIGINT: no longer following; the build goes on/);
    expect(await leftovers(long.name)).toBeGreaterThan(0);
    expect(buildpod("cancel", long.name).code).toBe(0);
  });
});
