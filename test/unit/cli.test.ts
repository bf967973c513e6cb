// The command as users run it: the committed bundle through bin/buildpod.js.
import { spawnSync } from "node:child_process";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { parse as parseYaml } from "yaml";
import { VERSION } from "../../core/index.js";
import { expectValidObject } from "./schema.js";

const BIN = join(import.meta.dirname, "../../bin/buildpod.js");

function buildpod(...args: string[]) {
  return buildpodEnv({}, ...args);
}

function buildpodEnv(env: Record<string, string>, ...args: string[]) {
  const r = spawnSync(process.execPath, [BIN, ...args], { encoding: "utf8", env: { ...process.env, ...env } });
  return { code: r.status, out: r.stdout, err: r.stderr };
}

const GIT = ["--git", "https://git.example.com/team/app.git", "-t", "registry.example.com/team/app:1.0"];

describe("buildpod render", () => {
  it("prints a schema-valid Job as YAML", () => {
    const r = buildpod("render", ...GIT, "--id", "abcde");
    expect(r.code).toBe(0);
    const job = parseYaml(r.out);
    expectValidObject(job);
    expect(job.metadata.name).toBe("app-abcde");
  });

  it("prints JSON, and a bare Pod on request", () => {
    const r = buildpod("render", ...GIT, "--pod", "-o", "json");
    expect(r.code).toBe(0);
    const pod = JSON.parse(r.out);
    expect(pod.kind).toBe("Pod");
    expect(pod.metadata.name).toMatch(/^app-[a-z0-9]{5}$/);
  });

  it("renders every strategy from flags", () => {
    const variants = [
      ["--builder", "buildkit"], ["--builder", "kaniko"], ["--builder", "docker", "--allow-docker-socket"],
      ["--strategy", "source", "--builder-image", "registry.example.com/s2i/python:3", "--incremental"],
      ["--strategy", "custom", "--builder-image", "registry.example.com/tools/b:1", "-e", "A=1"],
    ];
    for (const v of variants) {
      const r = buildpod("render", "--from-dir", ".", "-t", "registry.example.com/a:1", ...v, "-o", "json");
      expect(r.err).toBe("");
      expectValidObject(JSON.parse(r.out));
    }
  });

  it("reads a build file and lets flags override it", () => {
    const dir = mkdtempSync(join(tmpdir(), "buildpod-"));
    const file = join(dir, "buildpod.yaml");
    writeFileSync(file, [
      "name: web", "namespace: builds",
      "source:", "  git:", "    url: https://git.example.com/team/web.git", "    ref: main",
      "strategy:", "  builder: kaniko", "  buildArgs:", "    A: from-file", "    B: from-file",
      "output:", "  image: registry.example.com/team/web:1", "timeout: 20m",
    ].join("\n"));
    const r = buildpod("render", "-f", file, "--ref", "v2", "--build-arg", "B=from-flag", "-o", "json");
    expect(r.code).toBe(0);
    const job = JSON.parse(r.out);
    expect(job.metadata.namespace).toBe("builds");
    expect(job.spec.activeDeadlineSeconds).toBe(1200);
    const spec = job.spec.template.spec;
    expect(spec.initContainers[0].env).toContainEqual({ name: "BUILDPOD_GIT_REF", value: "v2" });
    expect(spec.containers[0].args).toEqual(expect.arrayContaining(["--build-arg=A=from-file", "--build-arg=B=from-flag"]));
  });

  it("takes tool image mirrors from the environment, under the flags", () => {
    const env = { BUILDPOD_IMAGE_SOURCE: "mirror.example.com/git:1", BUILDPOD_IMAGE_BUILDAH: "mirror.example.com/buildah:1" };
    const spec = JSON.parse(buildpodEnv(env, "render", ...GIT, "-o", "json", "--buildah-image", "other.example.com/buildah:2").out).spec.template.spec;
    expect(spec.initContainers[0].image).toBe("mirror.example.com/git:1");
    expect(spec.containers[0].image).toBe("other.example.com/buildah:2");
  });

  it("refuses the Docker socket without the allow flag", () => {
    const r = buildpod("render", ...GIT, "--builder", "docker");
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/^buildpod: error: --builder \(strategy\.builder\): .*--allow-docker-socket/);
  });
});

describe("bad input: exit 2 with one line that names the field, no stack trace", () => {
  const cases: [string[], RegExp][] = [
    [["render", "--git", "https://git.example.com/a.git", "-t", "registry.example.com/a:b:c"], /--image \(output\.image\): .*not a valid image reference/],
    [["render", ...GIT, "--strategy", "pack"], /--strategy \(strategy\.type\): unknown value "pack"/],
    [["render", ...GIT, "--timeout", "forever"], /--timeout \(timeout\): "forever" is not a duration/],
    [["render", ...GIT, "--memory-limit", "lots"], /--memory-limit \(resources\.limits\.memory\): "lots" is not a Kubernetes quantity/],
    [["render", ...GIT, "--build-label", "a b=c"], /--build-label \(labels\.a b\): .*not a valid Kubernetes label key/],
    [["render", ...GIT, "--build-arg", "NOVALUE"], /--build-arg: "NOVALUE" is not KEY=VALUE/],
    [["render", "--git", "https://git.example.com/a.git"], /output\.image: is required/],
    [["render", "-f", "/nonexistent/buildpod.yaml"], /--file: \/nonexistent\/buildpod\.yaml does not exist/],
  ];
  for (const [args, message] of cases) {
    it(args.slice(1).join(" ").slice(0, 60), () => {
      const r = buildpod(...args);
      expect(r.code).toBe(2);
      expect(r.out).toBe("");
      const lines = r.err.trimEnd().split("\n");
      expect(lines).toHaveLength(1);
      expect(lines[0]).toMatch(/^buildpod: error: /);
      expect(lines[0]).toMatch(message);
      expect(r.err).not.toMatch(/\bat .*\.js:\d+/);
    });
  }

  it("an unknown option", () => {
    const r = buildpod("render", "--imagee", "x");
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/unknown option '--imagee'/);
  });
});

describe("help and version", () => {
  it("documents every option", () => {
    const r = buildpod("render", "--help");
    expect(r.code).toBe(0);
    for (const flag of ["--git", "--from-dir", "--from-archive", "--strategy", "--builder", "--allow-docker-socket", "--incremental", "--image", "--tag", "--push-secret", "--insecure-registry", "--cpu-limit", "--timeout", "--start-timeout", "--delete-after", "--node-selector", "--toleration", "--pod", "-o, --output"]) {
      expect(r.out).toContain(flag);
    }
    const top = buildpod("--help");
    expect(top.out).toContain("render");
    expect(top.out).toContain("Exit codes");
  });
  it("prints the package version", async () => {
    const pkg = JSON.parse(await import("node:fs").then((fs) => fs.readFileSync(join(import.meta.dirname, "../../package.json"), "utf8")));
    expect(VERSION).toBe(pkg.version);
    expect(buildpod("--version").out.trim()).toBe(VERSION);
  });
});
