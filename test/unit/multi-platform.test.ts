// A build for several platforms: what the request allows, each platform's build, the index Job, and how
// prune and the result see them.
import { describe, expect, it } from "vitest";
import { listBuilds, parseRequest, platformDigests, platformImage, platformRequest, platformRunId, render, renderIndexJob, resultEnv, type BuildResult } from "../../core/index.js";
import type { Cluster } from "../../core/cluster.js";
import { indexAnnotations, INDEX_ANNOTATIONS, INDEX_LABEL } from "../../core/multi-platform.js";
import { INDEX_SCRIPT } from "../../core/scripts.js";
import { buildOf } from "./pod.js";

const IMAGE = "registry.example.com:5000/team/app:1.0";
const request = (extra: Record<string, unknown> = {}, output: Record<string, unknown> = {}) =>
  parseRequest({ name: "app", source: { git: { url: "https://git.example.com/app.git" } }, output: { image: IMAGE, platforms: ["linux/amd64", "linux/arm64"], ...output }, ...extra });

describe("a request for several platforms", () => {
  it("is a build per platform, each with its own tag and Job name", () => {
    const req = request({}, { tags: ["latest", "other.example.com/x/app:1"] });
    expect(req.output.platforms).toEqual(["linux/amd64", "linux/arm64"]);
    expect(platformImage(IMAGE, "linux/arm64")).toBe("registry.example.com:5000/team/app:1.0-linux-arm64");
    expect(platformImage("registry.example.com:5000/app:latest", "linux/arm/v7")).toBe("registry.example.com:5000/app:latest-linux-arm-v7");
    expect(platformRunId("x2k4z", "linux/arm/v7")).toBe("x2k4z-armv7");
    expect(platformRunId("x2k4z", "windows/amd64")).toBe("x2k4z-windows-amd64");
    const arm = platformRequest(req, "linux/arm64", "app-x2k4z");
    expect(arm.output).toMatchObject({ image: "registry.example.com:5000/team/app:1.0-linux-arm64", tags: [], platforms: ["linux/arm64"] });
    expect(arm.output.ref.tag).toBe("1.0-linux-arm64");
    const job = render(arm, { id: platformRunId("x2k4z", "linux/arm64") }) as any;
    expect(job.metadata.name).toBe("app-x2k4z-arm64");
    expect(job.metadata.labels[INDEX_LABEL]).toBe("app-x2k4z");
    expect(job.spec.template.spec.nodeSelector).toEqual({ "kubernetes.io/os": "linux", "kubernetes.io/arch": "arm64" });
    const build = buildOf(job.spec.template.spec);
    expect(build.args).toEqual(expect.arrayContaining(["--platform", "linux/arm64"]));
    expect(build.args).not.toContain("linux/amd64");
    expect(build.env.find((e: any) => e.name === "BUILDPOD_TAGS")).toBeUndefined();
  });

  it("is written as a list or with commas, as docker buildx takes it", () => {
    expect(request({}, { platforms: "linux/amd64,linux/arm64" }).output.platforms).toEqual(["linux/amd64", "linux/arm64"]);
    expect(request({}, { platforms: ["linux/amd64, linux/arm64", "linux/amd64"] }).output.platforms).toEqual(["linux/amd64", "linux/arm64"]);
    expect(() => request({}, { platforms: ["linux/amd64", "linux/arm64,arm"] })).toThrow(/output\.platforms\[1\]: "arm" is not a platform/);
  });

  it("pushes, as Jobs, and fits the names it adds: each refusal names the field and the way out", () => {
    expect(() => request({}, { push: false })).toThrow(/output\.push.*several platforms \(linux\/amd64, linux\/arm64\).*drop --no-push/);
    expect(() => request({ workload: "pod" })).toThrow(/workload.*runs as Jobs.*drop --pod/);
    const long = "a".repeat(50);
    expect(() => request({ name: long }, { platforms: ["linux/amd64", "linux/ppc64le"] })).toThrow(/name.*too long for a build for linux\/ppc64le.*at most 49 characters/);
    expect(request({ name: long }).output.platforms).toHaveLength(2);
    expect(() => request({}, { image: `r.example.com/app:${"t".repeat(120)}` })).toThrow(/output\.image.*tag is too long to add the platform's/);
    expect(() => request({ scheduling: { nodeSelector: { "kubernetes.io/arch": "arm64" } } })).toThrow(/scheduling\.nodeSelector.*contradicts the platform linux\/amd64/);
  });
});

describe("the index Job", () => {
  const req = request({}, { tags: ["latest"] });
  const job = renderIndexJob(req, "x2k4z") as any;
  const spec = job.spec.template.spec;
  const container = spec.containers[0];
  const env = (name: string) => container.env.find((e: any) => e.name === name);

  it("is the build's run name, suspended until the platforms have pushed, and reads them from its annotations", () => {
    expect(job.metadata.name).toBe("app-x2k4z");
    expect(job.spec.suspend).toBe(true);
    expect(job.spec.backoffLimit).toBe(0);
    expect(spec.initContainers).toBeUndefined();
    expect(spec.nodeSelector).toBeUndefined();
    expect(container.name).toBe("index");
    expect(container.command).toEqual(["/bin/sh", "-c", INDEX_SCRIPT, "buildpod-index"]);
    expect(container.image).toMatch(/^quay\.io\/buildah\/stable@sha256:/);
    expect(env("BUILDPOD_MANIFESTS").valueFrom.fieldRef.fieldPath).toBe(`metadata.annotations['${INDEX_ANNOTATIONS.manifests}']`);
    expect(env("BUILDPOD_IMAGE").value).toBe(IMAGE);
    expect(env("BUILDPOD_TAGS").value).toBe("registry.example.com:5000/team/app:latest");
    // Its provenance names the image and its tags' repositories, with the build's parameters.
    const statement = JSON.parse(env("BUILDPOD_PROVENANCE").value);
    expect(statement.subject.map((s: any) => s.name)).toEqual(["registry.example.com:5000/team/app"]);
    expect(statement.predicate.runDetails.metadata.invocationId).toBe("default/app-x2k4z");
  });

  it("is started with the platforms' images in the request's order, and nothing but digests, hex and times", () => {
    const annotations = indexAnnotations([
      { imageRef: "r/app@sha256:" + "a".repeat(64), commit: "c".repeat(40), startedAt: "2026-12-04T10:00:05.123Z" },
      { imageRef: "r/app@sha256:" + "b".repeat(64), commit: "c".repeat(40), startedAt: "2026-12-04T10:00:01.000Z" },
    ]);
    expect(annotations[INDEX_ANNOTATIONS.manifests]).toBe(`r/app@sha256:${"a".repeat(64)}\nr/app@sha256:${"b".repeat(64)}`);
    expect(annotations[INDEX_ANNOTATIONS.commit]).toBe("c".repeat(40));
    expect(annotations[INDEX_ANNOTATIONS.started]).toBe("2026-12-04T10:00:01Z");
    expect(annotations[INDEX_ANNOTATIONS.inputDigest]).toBe("");
  });
});

describe("a multi-platform build in prune and in the result", () => {
  it("is its index Job: the platforms' Jobs it owns are not builds of their own", async () => {
    const job = (name: string, owned: boolean) => ({
      metadata: { name, labels: { "buildpod.dev/build": "app" }, creationTimestamp: "2026-12-04T10:00:00Z", ...(owned ? { ownerReferences: [{ kind: "Job", name: "app-x2k4z", apiVersion: "batch/v1", uid: "u" }] } : {}) },
      status: { conditions: [{ type: "Complete", status: "True", lastTransitionTime: "2026-12-04T10:05:00Z" }] },
    });
    const cluster = {
      listJobs: async () => ({ items: [job("app-x2k4z", false), job("app-x2k4z-amd64", true), job("app-x2k4z-arm64", true)] }),
      listPods: async () => ({ items: [] }),
    } as unknown as Cluster;
    expect((await listBuilds(cluster, "default")).map((b) => b.name)).toEqual(["app-x2k4z"]);
  });

  it("gives each platform's digest in the request's order", () => {
    const r = {
      status: "Complete", reason: "Completed", message: "", image: IMAGE, tags: [], source: {}, build: "app", run: "app-x2k4z", namespace: "default",
      digest: "sha256:" + "0".repeat(64),
      platforms: [
        { platform: "linux/amd64", status: "Complete", reason: "Completed", image: "x", run: "app-x2k4z-amd64", digest: "sha256:" + "a".repeat(64) },
        { platform: "linux/arm64", status: "Complete", reason: "Completed", image: "x", run: "app-x2k4z-arm64", digest: "sha256:" + "b".repeat(64) },
      ],
    } as BuildResult;
    expect(platformDigests(r)).toBe(`linux/amd64=sha256:${"a".repeat(64)},linux/arm64=sha256:${"b".repeat(64)}`);
    expect(resultEnv(r)).toContain(`BUILDPOD_PLATFORM_DIGESTS=linux/amd64=sha256:${"a".repeat(64)},linux/arm64`);
    expect(platformDigests({ ...r, platforms: undefined })).toBeUndefined();
  });
});
