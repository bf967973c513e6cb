// The buildpod Task's step against the test cluster: its script, with Tekton's variables substituted as a
// TaskRun would, runs the repository's ./buildpod (standing in for the step image's command).
import { copyFileSync, mkdirSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { cluster, image, indexPlatforms, registryDigest, repo, tc } from "../e2e/kit.js";
import { runTaskStep } from "./tekton-kit.js";

let app: Awaited<ReturnType<typeof repo>>;

/** The kubeconfig workspace: a directory holding the test cluster's kubeconfig as the file "kubeconfig". */
function kubeconfigWorkspace(): string {
  const dir = mkdtempSync(join(tmpdir(), "buildpod-tekton-kc-"));
  copyFileSync(tc().kubeconfig, join(dir, "kubeconfig"));
  return dir;
}
const toolImages = () => ({ BUILDPOD_IMAGE_SOURCE: tc().builder, BUILDPOD_IMAGE_BUILDAH: tc().builder });
const common = () => ({ BUILDPOD_IMAGE: "unused-here", INSECURE_REGISTRY: "true", EXTRA_ARGS: ["--start-timeout", "60s"] });

beforeAll(async () => {
  app = await repo("tekton-app", { files: { Dockerfile: `FROM ${tc().busybox}\nARG NOTE\nRUN echo "$NOTE" > /note\n` } });
});

describe("Tekton Task step on the test cluster", () => {
  it("builds from Git and writes IMAGE_URL, IMAGE_DIGEST (no trailing newline) and COMMIT", async () => {
    const run = await runTaskStep({
      workspaces: { kubeconfig: kubeconfigWorkspace() }, env: toolImages(),
      params: { ...common(), IMAGE: image("tekton-app:git"), GIT_URL: app.url, GIT_REVISION: "main", BUILD_ARGS: ["NOTE=a b; $(id)"] },
    });
    expect(run.code, run.output).toBe(0);
    expect(run.results.IMAGE_DIGEST).toMatch(/^sha256:[a-f0-9]{64}$/);
    expect(run.results.IMAGE_URL).toBe(image("tekton-app:git"));
    expect(await registryDigest(run.results.IMAGE_URL!)).toBe(run.results.IMAGE_DIGEST);
    expect(run.results.COMMIT).toBe(app.head);
    expect(run.output).toContain("build complete");
  });

  it("uploads the source workspace", async () => {
    const src = mkdtempSync(join(tmpdir(), "buildpod-tekton-src-"));
    mkdirSync(join(src, "app"));
    writeFileSync(join(src, "app/Dockerfile"), `FROM ${tc().busybox}\nCOPY hello.txt /\n`);
    writeFileSync(join(src, "app/hello.txt"), "hello\n");
    const run = await runTaskStep({
      workspaces: { kubeconfig: kubeconfigWorkspace(), source: src }, env: toolImages(),
      params: { ...common(), IMAGE: image("tekton-dir:1"), CONTEXT: "app" },
    });
    expect(run.code, run.output).toBe(0);
    expect(await registryDigest(image("tekton-dir:1"))).toBe(run.results.IMAGE_DIGEST);
    expect(run.results.COMMIT).toBe("");
  });

  it.skipIf(!tc().busyboxMulti)("builds for two platforms from the workspace: IMAGE_DIGEST is the index's, PLATFORM_DIGESTS each platform's", async () => {
    const src = mkdtempSync(join(tmpdir(), "buildpod-tekton-src-"));
    writeFileSync(join(src, "Dockerfile"), `FROM ${tc().busyboxMulti}\nCOPY hello.txt /\nRUN uname -m\n`);
    writeFileSync(join(src, "hello.txt"), "hello\n");
    const run = await runTaskStep({
      workspaces: { kubeconfig: kubeconfigWorkspace(), source: src }, env: toolImages(),
      params: { ...common(), IMAGE: image("tekton-multi:1"), PLATFORMS: ["linux/amd64", "linux/arm64"], EMULATE: "true" },
    });
    expect(run.code, run.output).toBe(0);
    expect(await registryDigest(image("tekton-multi:1"))).toBe(run.results.IMAGE_DIGEST);
    const index = await indexPlatforms(image("tekton-multi:1"));
    expect(run.results.PLATFORM_DIGESTS).toBe(`linux/amd64=${index["linux/amd64"]},linux/arm64=${index["linux/arm64"]}`);
    expect(run.output).toMatch(/linux\/arm64 build +\| aarch64/);
  });

  it("a cancelled TaskRun (SIGTERM to the step) deletes the build: exit 4, no Job or pod left", async () => {
    const src = mkdtempSync(join(tmpdir(), "buildpod-tekton-src-"));
    writeFileSync(join(src, "Dockerfile"), `FROM ${tc().busybox}\nRUN echo tekton-started && sleep 120\n`);
    let signalled = 0;
    const run = await runTaskStep({
      workspaces: { kubeconfig: kubeconfigWorkspace(), source: src }, env: toolImages(),
      params: { ...common(), IMAGE: image("tekton-dir:cancel") },
      onOutput: (child, text) => {
        if (!signalled && text.includes("tekton-started")) {
          signalled = Date.now();
          child.kill("SIGTERM");
        }
      },
    });
    expect(signalled, run.output).toBeGreaterThan(0);
    expect(run.code, run.output).toBe(4);
    expect(Date.now() - signalled).toBeLessThan(5000);
    const name = /created job (\S+)/.exec(run.output)?.[1];
    expect(name, run.output).toBeDefined();
    expect(run.output).toContain(`deleted job/${name}`);
    const c = await cluster();
    expect((await c.listJobs("default", `buildpod.dev/run=${name}`)).items).toEqual([]);
    expect(run.results.IMAGE_DIGEST).toBeUndefined();
  });

  it("exits non-zero with buildpod's code on a failed build, and writes no results", async () => {
    const src = mkdtempSync(join(tmpdir(), "buildpod-tekton-src-"));
    writeFileSync(join(src, "Dockerfile"), `FROM ${tc().busybox}\nRUN echo failing on purpose && exit 3\n`);
    const run = await runTaskStep({
      workspaces: { kubeconfig: kubeconfigWorkspace(), source: src }, env: toolImages(),
      params: { ...common(), IMAGE: image("tekton-dir:broken") },
    });
    expect(run.code, run.output).toBe(1);
    expect(run.output).toContain("failing on purpose");
    expect(run.output).toMatch(/build failed \(BuildFailed\)/);
    expect(run.results).toEqual({ IMAGE_URL: undefined, IMAGE_DIGEST: undefined, COMMIT: undefined });
  });
});
