// The Jenkins shared-library step against the test cluster: the step runs on real Groovy (Jenkins's steps
// stood in by test/adapters/jenkins-harness.groovy) and its shell runs the repository's ./buildpod.
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { image, registryDigest, repo, tc } from "../e2e/kit.js";
import { ROOT, runStep } from "./jenkins-kit.js";

let app: Awaited<ReturnType<typeof repo>>;

/** What a Jenkinsfile passes for the test cluster, and what the agent's environment holds. */
const common = () => ({ insecureRegistry: true, startTimeout: "60s", kubeconfigCredentialsId: "test-cluster", command: join(ROOT, "buildpod") });
const credentials = () => ({ "test-cluster": tc().kubeconfig });
const agentEnv = () => ({ BUILDPOD_IMAGE_SOURCE: tc().builder, BUILDPOD_IMAGE_BUILDAH: tc().builder });

function readEnvFile(path: string): Record<string, string> {
  return Object.fromEntries(readFileSync(path, "utf8").trim().split("\n").map((l) => [l.slice(0, l.indexOf("=")), l.slice(l.indexOf("=") + 1)]));
}

beforeAll(async () => {
  app = await repo("jenkins-app", { files: { Dockerfile: `FROM ${tc().busybox}\nARG GREETING\nRUN echo "$GREETING" > /greeting\n` } });
});

describe("Jenkins step on the test cluster", () => {
  it("builds from Git, returns the result and leaves result.json and result.env in the workspace", async () => {
    const ws = mkdtempSync(join(tmpdir(), "buildpod-jenkins-ws-"));
    const run = await runStep(ws, {
      ...common(), image: image("jenkins-app:git"), git: app.url, ref: "main", buildArgs: { GREETING: "hello; $(id)" }, tags: ["latest"],
    }, credentials(), agentEnv());
    expect(run.error, run.log).toBeUndefined();
    const r = run.returned!;
    expect(r.status, r.message).toBe("Complete");
    expect(r.digest).toMatch(/^sha256:[a-f0-9]{64}$/);
    expect(await registryDigest(image("jenkins-app:git"))).toBe(r.digest);
    expect(await registryDigest(image("jenkins-app:latest"))).toBe(r.digest);
    expect(r.source.commit).toBe(app.head);
    expect(JSON.parse(readFileSync(join(ws, ".buildpod/result.json"), "utf8"))).toEqual(r);
    const env = readEnvFile(join(ws, ".buildpod/result.env"));
    expect(env).toMatchObject({ BUILDPOD_STATUS: "Complete", BUILDPOD_DIGEST: r.digest, BUILDPOD_IMAGE_REF: r.imageRef, BUILDPOD_COMMIT: app.head });
    expect(run.log).toContain("build complete");
  });

  it("uploads a workspace directory, and fails the stage on a failed build with its reason", async () => {
    const ws = mkdtempSync(join(tmpdir(), "buildpod-jenkins-ws-"));
    mkdirSync(join(ws, "app"));
    writeFileSync(join(ws, "app/Dockerfile"), `FROM ${tc().busybox}\nCOPY hello.txt /\n`);
    writeFileSync(join(ws, "app/hello.txt"), "hello\n");
    const ok = await runStep(ws, { ...common(), image: image("jenkins-dir:1"), fromDir: "app" }, credentials(), agentEnv());
    expect(ok.error, ok.log).toBeUndefined();
    expect(await registryDigest(image("jenkins-dir:1"))).toBe(ok.returned!.digest);

    writeFileSync(join(ws, "app/Dockerfile"), `FROM ${tc().busybox}\nRUN echo about to fail && exit 7\n`);
    const failed = await runStep(ws, { ...common(), image: image("jenkins-dir:2"), fromDir: "app", resultDir: "out" }, credentials(), agentEnv());
    expect(failed.error).toMatch(/^buildpod: the build failed \(BuildFailed\): /);
    expect(failed.sh[0].status).toBe(1);
    const result = JSON.parse(readFileSync(join(ws, "out/result.json"), "utf8"));
    expect(result).toMatchObject({ status: "Failed", reason: "BuildFailed" });
    expect(failed.error).toContain(result.message);
    expect(readEnvFile(join(ws, "out/result.env")).BUILDPOD_STATUS).toBe("Failed");
  });

  // The source container's image is missing: the pod's first container cannot start.
  it("names a pod that never starts", async () => {
    const ws = mkdtempSync(join(tmpdir(), "buildpod-jenkins-ws-"));
    const run = await runStep(ws, { ...common(), startTimeout: "10s", image: image("jenkins-app:nostart"), git: app.url },
      credentials(), { ...agentEnv(), BUILDPOD_IMAGE_SOURCE: `${tc().registry}/does-not/exist:1` });
    expect(run.sh[0].status, run.log).toBe(3);
    expect(run.error).toMatch(/^buildpod: the build did not start \((ErrImagePull|ImagePullBackOff|StartTimeout)\): /);
  });
});
