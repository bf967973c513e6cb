// The bundled action run with node as the runner runs it (INPUT_*, GITHUB_OUTPUT, GITHUB_STEP_SUMMARY,
// GITHUB_STATE files; SIGINT to cancel), against the test cluster.
import { spawn, type ChildProcess } from "node:child_process";
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { parse as parseYaml } from "yaml";
import { newRunId, startBuild } from "../../core/index.js";
import { cluster, image, indexPlatforms, registryDigest, repo, request_, tc } from "../e2e/kit.js";
import { run as exec } from "../cluster/infra/proc.js";

const MAIN = "dist/action/main/index.js";
const POST = "dist/action/post/index.js";

interface Step {
  child: ChildProcess;
  stdout(): string;
  done: Promise<{ code: number | null; stdout: string; stderr: string; outputs: Record<string, string>; summary: string; state: Record<string, string> }>;
}

/** name<<DELIMITER\nvalue\nDELIMITER lines, as the runner reads GITHUB_OUTPUT and GITHUB_STATE. */
function fileCommands(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  const re = /^(.+?)<<(.+)\n([\s\S]*?)\n\2$/gm;
  for (const m of text.matchAll(re)) out[m[1]] = m[3];
  return out;
}

function step(entry: string, inputs: Record<string, string>, opts: { env?: Record<string, string>; state?: Record<string, string> } = {}): Step & { dir: string } {
  const dir = mkdtempSync(join(tmpdir(), "buildpod-action-run-"));
  for (const d of ["workspace", "temp"]) mkdirSync(join(dir, d));
  for (const f of ["output", "summary", "state"]) writeFileSync(join(dir, f), "");
  const env: Record<string, string> = {
    PATH: process.env.PATH!, HOME: dir,
    GITHUB_OUTPUT: join(dir, "output"), GITHUB_STEP_SUMMARY: join(dir, "summary"), GITHUB_STATE: join(dir, "state"),
    GITHUB_WORKSPACE: join(dir, "workspace"), RUNNER_TEMP: join(dir, "temp"),
    ...opts.env,
  };
  for (const [k, v] of Object.entries(inputs)) env[`INPUT_${k.replace(/ /g, "_").toUpperCase()}`] = v;
  for (const [k, v] of Object.entries(opts.state ?? {})) env[`STATE_${k}`] = v;
  const child = spawn(process.execPath, [join(process.cwd(), entry)], { cwd: join(dir, "workspace"), env });
  let stdout = "";
  let stderr = "";
  child.stdout!.on("data", (d: Buffer) => (stdout += d.toString()));
  child.stderr!.on("data", (d: Buffer) => (stderr += d.toString()));
  const done = new Promise<number | null>((resolve) => child.on("close", resolve)).then((code) => ({
    code, stdout, stderr,
    outputs: fileCommands(readFileSync(join(dir, "output"), "utf8")),
    summary: readFileSync(join(dir, "summary"), "utf8"),
    state: fileCommands(readFileSync(join(dir, "state"), "utf8")),
  }));
  return { child, dir, stdout: () => stdout, done };
}

/** Inputs aimed at the test cluster: its kubeconfig's content, its tool images, its plain-HTTP registry. */
function inputs(extra: Record<string, string>): Record<string, string> {
  const c = tc();
  return {
    kubeconfig: readFileSync(c.kubeconfig, "utf8"), "source-image": c.builder, "buildah-image": c.builder,
    "insecure-registry": "true", "start-timeout": "60s", timeout: "5m", ...extra,
  };
}

/** The token is printed only to register it as a secret, before anything else. */
/** The bearer token in the suite's kubeconfig ("" when its user has none, e.g. a credential plugin). */
function kubeconfigToken(): string {
  const doc = parseYaml(readFileSync(tc().kubeconfig, "utf8")) as { users?: { user?: { token?: string } }[] };
  return doc.users?.[0]?.user?.token ?? "";
}

function expectMasked(stdout: string, stderr: string, token: string) {
  if (!token) return; // a cluster prepared outside, whose kubeconfig holds no token
  expect(stderr).not.toContain(token);
  const lines = stdout.split("\n");
  const withToken = lines.filter((l) => l.includes(token));
  expect(withToken.length).toBeGreaterThan(0);
  for (const l of withToken) expect(l.startsWith("::add-mask::")).toBe(true);
  const firstOther = lines.findIndex((l) => !l.startsWith("::add-mask::"));
  expect(lines.slice(firstOther).some((l) => l.includes(token))).toBe(false);
}

async function leftovers(run: string): Promise<string[]> {
  const c = await cluster();
  const pods = await c.listPods("default", `buildpod.dev/run=${run}`);
  const jobs = await c.listJobs("default", `buildpod.dev/run=${run}`);
  return [...jobs.items.map((j) => `job/${j.metadata!.name}`), ...pods.items.map((p) => `pod/${p.metadata!.name}`)];
}

const dockerfile = (body: string) => `FROM ${tc().busybox}\n${body}\n`;

let app: Awaited<ReturnType<typeof repo>>;

beforeAll(async () => {
  app = await repo("action-app", {
    commits: [
      { files: { Dockerfile: dockerfile("RUN echo one > /version") }, message: "first" },
      { files: { Dockerfile: dockerfile("RUN echo two > /version") }, message: "second" },
    ],
  });
});

describe("the action's main step", () => {
  it("runs on Node 24, the runtime action.yml names (runs.using: node24), with a post step", () => {
    expect(process.versions.node).toMatch(/^24\./);
    const action = parseYaml(readFileSync(join(import.meta.dirname, "../../action.yml"), "utf8")) as { runs: Record<string, string> };
    expect(action.runs).toMatchObject({ using: "node24", main: "dist/action/main/index.js", post: "dist/action/post/index.js" });
  });

  it("builds from Git: outputs, summary, log groups; the kubeconfig's token masked, no kubeconfig left behind", async () => {
    const s = step(MAIN, inputs({ git: app.url, ref: "main", image: image("action:git") }));
    const r = await s.done;
    expect(r.code, r.stdout + r.stderr).toBe(0);
    expect(r.outputs.status).toBe("Complete");
    expect(r.outputs.digest).toMatch(/^sha256:[a-f0-9]{64}$/);
    expect(await registryDigest(image("action:git"))).toBe(r.outputs.digest);
    expect(r.outputs["image-ref"]).toBe(`${image("action")}@${r.outputs.digest}`);
    expect(r.outputs.image).toBe(image("action:git"));
    expect(r.outputs.commit).toBe(app.head);
    expect(r.outputs.build).toMatch(/^action-[a-z0-9]{5}$/);
    expect(r.outputs.pod).toMatch(new RegExp(`^${r.outputs.build}-`));
    expect(r.stdout).toMatch(/::group::source\n[\s\S]*checked out [0-9a-f]{40}[\s\S]*::endgroup::\n[\s\S]*::group::build\n[\s\S]*STEP 1\/[\s\S]*::endgroup::/);
    expect(r.summary).toContain("Build complete");
    expect(r.summary).toContain(r.outputs.digest);
    expect(r.state).toMatchObject({ run: r.outputs.build, namespace: "default", kind: "job", finished: "true" });
    expectMasked(r.stdout, r.stderr, kubeconfigToken());
    // The kubeconfig was written outside the workspace and removed at the end.
    expect(readdirSync(join(s.dir, "workspace"))).toEqual([]);
    expect(readdirSync(join(s.dir, "temp"))).toEqual([]);
  });

  it("without a source input builds this repository at GITHUB_SHA, labelled with its source, revision and commit time, for any event", async () => {
    const old = app.commits[0];
    // A pull request's event names no commit time: the build takes it from the commit it checked out.
    const event = join(mkdtempSync(join(tmpdir(), "buildpod-event-")), "event.json");
    writeFileSync(event, JSON.stringify({ pull_request: { number: 7, head: { sha: old } } }));
    const committed = Number((await exec("git", ["-C", join(tc().gitBase, "action-app"), "log", "-1", "--format=%ct", old])).stdout.trim());
    const r = await step(MAIN, inputs({ image: image("action:default") }), {
      env: { GITHUB_SERVER_URL: tc().gitUrl, GITHUB_REPOSITORY: "action-app", GITHUB_SHA: old, GITHUB_EVENT_PATH: event },
    }).done;
    expect(r.code, r.stdout + r.stderr).toBe(0);
    expect(r.outputs.commit).toBe(old);
    const inspect = await exec("skopeo", ["inspect", "--tls-verify=false", `docker://${image("action:default")}`], { env: tc().podmanEnv });
    const labels = (JSON.parse(inspect.stdout) as { Labels: Record<string, string> }).Labels;
    expect(labels).toMatchObject({
      "org.opencontainers.image.source": `${tc().gitUrl}/action-app`,
      "org.opencontainers.image.revision": old,
      "org.opencontainers.image.created": new Date(committed * 1000).toISOString().replace(".000Z", "Z"),
    });
  });

  it("a failing build fails the step: an error annotation, outputs, and the last lines in the summary's <details>", async () => {
    const r = await step(MAIN, inputs({ "inline-dockerfile": dockerfile("RUN echo boom-from-the-build && exit 3"), image: image("action:fail") })).done;
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(/^::error::build failed \(BuildFailed\): /m);
    expect(r.outputs.status).toBe("Failed");
    expect(r.outputs.digest).toBe("");
    expect(r.summary).toContain("Build failed");
    expect(r.summary).toMatch(/<details>[\s\S]*boom-from-the-build[\s\S]*<\/details>/);
    expect(r.state.finished).toBe("true");
  });

  it("a build the preflight refuses fails the step with outputs and a summary that say why", async () => {
    const r = await step(MAIN, inputs({ "inline-dockerfile": dockerfile("RUN true"), image: image("action:refused"), "push-secret": "no-such-secret" })).done;
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(/^::error::the push secret "no-such-secret" does not exist in namespace default/m);
    expect(r.outputs.status).toBe("Error");
    expect(r.outputs.build).toBe("");
    expect(r.summary).toMatch(/Error \(SecretNotFound\)/);
    expect(r.summary).toContain("not created");
    expect(r.state.finished).toBe("true");
  });

  it("bad inputs fail the step before anything is created, naming the input", async () => {
    const r = await step(MAIN, inputs({ git: app.url, image: image("action:bad"), "memory-limit": "12" })).done;
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(/^::error::input memory-limit \(resources.limits.memory\): "12" is 12 bytes/m);
    expect(r.state.run).toBeUndefined();
  });

  it("SIGINT mid-build: main deletes the build and exits well within the runner's 7.5 s", async () => {
    const s = step(MAIN, inputs({ "inline-dockerfile": dockerfile("RUN echo started-sleeping && sleep 120"), image: image("action:cancel") }));
    const until = Date.now() + 90_000;
    while (!s.stdout().includes("started-sleeping") && Date.now() < until) await new Promise((r) => setTimeout(r, 200));
    expect(s.stdout()).toContain("started-sleeping");
    const t0 = Date.now();
    s.child.kill("SIGINT");
    const r = await s.done;
    const took = Date.now() - t0;
    expect(took).toBeLessThan(7500);
    expect(r.code).toBe(1);
    expect(r.outputs.status).toBe("Cancelled");
    expect(r.stdout).toMatch(/deleted job\/action-[a-z0-9]{5}, pod\//);
    expect(r.state.finished).toBe("true");
    // Deleted, with the pods' short grace period: gone before the runner would kill the step.
    while ((await leftovers(r.state.run)).length && Date.now() - t0 < 7500) await new Promise((res) => setTimeout(res, 200));
    expect(await leftovers(r.state.run)).toEqual([]);
  });
});

describe.skipIf(!tc().busyboxMulti)("the action's main step, for two platforms", () => {
  const multi = (body: string) => `FROM ${tc().busyboxMulti}\n${body}\n`;

  it("digest is the index's, platform-digests each platform's; the summary has a row for each", async () => {
    const r = await step(MAIN, inputs({ "inline-dockerfile": multi("RUN uname -m"), image: image("action-multi:1"), platforms: "linux/amd64,linux/arm64", emulate: "true" })).done;
    expect(r.code, r.stdout + r.stderr).toBe(0);
    expect(r.outputs.digest).toBe(await registryDigest(image("action-multi:1")));
    const index = await indexPlatforms(image("action-multi:1"));
    expect(r.outputs["platform-digests"]).toBe(`linux/amd64=${index["linux/amd64"]},linux/arm64=${index["linux/arm64"]}`);
    expect(r.stdout).toMatch(/^linux\/arm64 build \| aarch64$/m);
    expect(r.summary).toContain(`| linux/arm64 | <code>${index["linux/arm64"]}</code> |`);
    expect(r.state).toMatchObject({ run: r.outputs.build, finished: "true" });
  });

  it("SIGINT mid-build: main deletes the index Job and with it every platform's Job and pod", async () => {
    const s = step(MAIN, inputs({ "inline-dockerfile": multi("RUN echo started-sleeping && sleep 120"), image: image("action-multi:cancel"), platforms: "linux/amd64,linux/arm64", emulate: "true" }));
    const until = Date.now() + 90_000;
    while ((s.stdout().match(/started-sleeping/g) ?? []).length < 2 && Date.now() < until) await new Promise((r) => setTimeout(r, 200));
    const t0 = Date.now();
    s.child.kill("SIGINT");
    const r = await s.done;
    expect(Date.now() - t0).toBeLessThan(7500);
    expect(r.outputs.status).toBe("Cancelled");
    expect(r.stdout).toMatch(new RegExp(`deleted job/${r.state.run}, pod/${r.state.run}-(amd64|arm64)-`));
    const c = await cluster();
    const all = async () => [
      ...(await c.listJobs("default", `buildpod.dev/index=${r.state.run}`)).items, ...(await c.listJobs("default", `buildpod.dev/run=${r.state.run}`)).items,
      ...(await c.listPods("default", `buildpod.dev/index=${r.state.run}`)).items,
    ].map((o) => o.metadata!.name);
    // The pods at once; the platforms' Jobs by the garbage collector, soon after.
    while ((await all()).length && Date.now() - t0 < 30_000) await new Promise((res) => setTimeout(res, 500));
    expect(await all()).toEqual([]);
  });
});

describe("the action's post step", () => {
  it("deletes a build that main recorded but did not finish", async () => {
    const c = await cluster();
    const handle = await startBuild(c, request_({ source: { dockerfile: dockerfile("RUN sleep 120") }, output: { image: image("action:post") } }), { id: newRunId() });
    const r = await step(POST, { kubeconfig: readFileSync(tc().kubeconfig, "utf8") }, { state: { run: handle.name, namespace: handle.namespace, kind: handle.kind } }).done;
    expect(r.code, r.stdout + r.stderr).toBe(0);
    expect(r.stdout).toContain(`deleted job/${handle.name}`);
    expectMasked(r.stdout, r.stderr, kubeconfigToken());
    const until = Date.now() + 5000;
    while ((await leftovers(handle.name)).length && Date.now() < until) await new Promise((res) => setTimeout(res, 200));
    expect(await leftovers(handle.name)).toEqual([]);
  });

  it("does nothing after a main step that finished, or that created nothing", async () => {
    const states: Record<string, string>[] = [{ run: "x-bcdfg", namespace: "default", kind: "job", finished: "true" }, {}];
    for (const state of states) {
      const r = await step(POST, { kubeconfig: "not even a kubeconfig" }, { state }).done;
      expect(r.code).toBe(0);
      expect(r.stdout + r.stderr).toBe("");
    }
  });
});
