// A build for another platform: how the request names it, where the pod goes, what the builder is told.
import { describe, expect, it } from "vitest";
import { InputError, parseRequest, render } from "../../core/index.js";
import { placement, platformSelector } from "../../core/platform.js";
import { buildOf } from "./pod.js";

const IMAGE = "registry.example.com/team/app:1.0";
const request = (extra: Record<string, unknown> = {}, strategy: Record<string, unknown> = { type: "docker" }, output: Record<string, unknown> = {}) =>
  parseRequest({ source: { git: { url: "https://git.example.com/app.git" } }, strategy, output: { image: IMAGE, ...output }, ...extra });
const podOf = (req: ReturnType<typeof request>) => (render(req, { id: "x2k4z" }) as any).spec.template.spec;

describe("the platform in a request", () => {
  it("is os/arch[/variant], named as kubernetes.io/arch and OCI name it", () => {
    expect(request({}, undefined, { platforms: ["linux/arm64"] }).output.platforms).toEqual(["linux/arm64"]);
    expect(request({}, undefined, { platforms: "linux/arm/v7" }).output.platforms).toEqual(["linux/arm/v7"]);
    expect(request().output.platforms).toEqual([]);
    expect(() => request({}, undefined, { platforms: ["arm64"] })).toThrow(/output\.platforms\[0\].*write os\/arch/);
    expect(() => request({}, undefined, { platforms: ["linux/aarch64"] })).toThrow(/called arm64 here.*linux\/arm64/);
    expect(() => request({}, undefined, { platforms: ["linux/x86_64"] })).toThrow(/called amd64 here/);
  });

  it("is refused by builders that build only for their node, naming those that can", () => {
    for (const strategy of [{ type: "docker", builder: "kaniko" }, { type: "docker", builder: "docker", allowDockerSocket: true }, { type: "source", builderImage: "r.example.com/s2i:1" }, { type: "custom", builderImage: "r.example.com/b:1" }]) {
      expect(() => request({}, strategy, { platforms: ["linux/arm64"] })).toThrow(/output\.platforms.*for the node's own platform.*buildah or buildkit/);
    }
  });

  it("--emulate needs a platform; a node selector may not contradict it", () => {
    expect(() => request({ scheduling: { emulate: true } })).toThrow(/scheduling\.emulate.*name it with output\.platforms/);
    expect(() => request({ scheduling: { nodeSelector: { "kubernetes.io/arch": "amd64" } } }, undefined, { platforms: ["linux/arm64"] }))
      .toThrow(/scheduling\.nodeSelector.*kubernetes\.io\/arch=amd64 contradicts the platform linux\/arm64/);
    expect(request({ scheduling: { nodeSelector: { "kubernetes.io/arch": "arm64", pool: "build" } } }, undefined, { platforms: ["linux/arm64"] }).scheduling.nodeSelector)
      .toEqual({ "kubernetes.io/arch": "arm64", pool: "build" });
  });
});

describe("where the build pod goes and what its builder is told", () => {
  it("natively: a node selector for the platform's os and arch, beside the request's; buildah --platform", () => {
    const spec = podOf(request({ scheduling: { nodeSelector: { pool: "build" } } }, undefined, { platforms: ["linux/arm64"] }));
    expect(spec.nodeSelector).toEqual({ "kubernetes.io/os": "linux", "kubernetes.io/arch": "arm64", pool: "build" });
    const args: string[] = buildOf(spec).args;
    expect(args.slice(args.indexOf("--platform"), args.indexOf("--platform") + 2)).toEqual(["--platform", "linux/arm64"]);
  });

  it("emulated: no platform selector (any node), the builder still builds for the platform", () => {
    const spec = podOf(request({ scheduling: { emulate: true } }, undefined, { platforms: ["linux/arm64"] }));
    expect(spec.nodeSelector).toBeUndefined();
    expect(buildOf(spec).args).toContain("linux/arm64");
  });

  it("BuildKit gets the platform as the frontend's option", () => {
    const spec = podOf(request({}, { type: "docker", builder: "buildkit" }, { platforms: ["linux/arm/v7"] }));
    const args: string[] = buildOf(spec).args;
    expect(args.slice(args.indexOf("platform=linux/arm/v7") - 1, args.indexOf("platform=linux/arm/v7") + 1)).toEqual(["--opt", "platform=linux/arm/v7"]);
    expect(spec.nodeSelector).toEqual(platformSelector("linux/arm/v7"));
  });

  it("no platform: no selector and no --platform", () => {
    const spec = podOf(request());
    expect(spec.nodeSelector).toBeUndefined();
    expect(buildOf(spec).args).not.toContain("--platform");
  });
});

describe("placement, from the nodes' platforms", () => {
  it("a node of the platform: native, --emulate or not; none: emulated with --emulate, else refused with the ways out", () => {
    expect(placement("linux/arm64", ["linux/amd64", "linux/arm64"], false)).toBe("native");
    expect(placement("linux/arm64", ["linux/amd64", "linux/arm64"], true)).toBe("native");
    expect(placement("linux/arm/v7", ["linux/arm"], false)).toBe("native");
    expect(placement("linux/arm64", ["linux/amd64"], true)).toBe("emulated");
    const refused = placement("linux/arm64", ["linux/amd64"], false);
    expect(refused).toEqual({ refused: expect.stringMatching(/no linux\/arm64 node \(its nodes are linux\/amd64\).*--emulate.*binfmt_misc handler for arm64.*F flag/) });
  });

  it("nodes that may not be listed: placed by selector, or emulated as asked", () => {
    expect(placement("linux/arm64", undefined, false)).toBe("native");
    expect(placement("linux/arm64", undefined, true)).toBe("emulated");
  });
});
