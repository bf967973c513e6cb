// The command image's recipe (adapters/container/Containerfile): exactly the files it copies, laid out as it
// lays them out, are a working `buildpod` that builds on the test cluster. (The recipe's base image comes
// from Docker Hub, which this machine cannot reach: the files are laid out here instead of by podman.)
import { spawnSync } from "node:child_process";
import { cpSync, mkdirSync, mkdtempSync, readFileSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { describe, expect, it } from "vitest";
import { image, registryDigest, tc } from "../e2e/kit.js";

const ROOT = join(import.meta.dirname, "../..");
const RECIPE = readFileSync(join(ROOT, "adapters/container/Containerfile"), "utf8");

/** The image's file system, as far as the recipe's COPY lines and its `ln -s` make it. */
function layOut(): string {
  const fsRoot = mkdtempSync(join(tmpdir(), "buildpod-image-"));
  const copies = [...RECIPE.matchAll(/^COPY (\S+) (\S+)$/gm)];
  expect(copies.length).toBeGreaterThan(0);
  for (const [, src, dest] of copies) {
    const target = join(fsRoot, dest);
    mkdirSync(dest.endsWith("/") ? target : dirname(target), { recursive: true });
    cpSync(join(ROOT, src), target, { recursive: true });
  }
  const link = /ln -s (\S+) (\S+)/.exec(RECIPE);
  expect(link).not.toBeNull();
  mkdirSync(dirname(join(fsRoot, link![2])), { recursive: true });
  symlinkSync(join(fsRoot, link![1]), join(fsRoot, link![2]));
  return join(fsRoot, link![2]);
}

describe("the command image's recipe", () => {
  it("copies what `buildpod` needs: --version, and a real build from a directory", () => {
    const bin = layOut();
    const version = spawnSync(bin, ["--version"], { encoding: "utf8" });
    expect(version.status, version.stderr).toBe(0);
    expect(version.stdout.trim()).toBe(JSON.parse(readFileSync(join(ROOT, "package.json"), "utf8")).version);

    const ctx = mkdtempSync(join(tmpdir(), "buildpod-image-ctx-"));
    writeFileSync(join(ctx, "Dockerfile"), `FROM ${tc().busybox}\nRUN echo built-by-the-image-layout\n`);
    const c = tc();
    const run = spawnSync(bin, ["run", "--from-dir", ctx, "-t", image("container:layout"), "--insecure-registry", "-o", "json"], {
      encoding: "utf8", timeout: 180_000,
      env: { PATH: process.env.PATH, HOME: ctx, KUBECONFIG: c.kubeconfig, BUILDPOD_IMAGE_SOURCE: c.builder, BUILDPOD_IMAGE_BUILDAH: c.builder },
    });
    expect(run.status, run.stderr).toBe(0);
    expect(run.stderr).toContain("built-by-the-image-layout");
    const result = JSON.parse(run.stdout) as { digest: string };
    return registryDigest(image("container:layout")).then((d) => expect(d).toBe(result.digest));
  });
});
