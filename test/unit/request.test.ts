import { describe, expect, it } from "vitest";
import { InputError, mergeInput, parseBuildFile, parseDuration, parseReference, parseRequest } from "../../core/index.js";

const minimal = { source: { git: { url: "https://git.example.com/a.git" } }, output: { image: "registry.example.com/team/app" } };
const withField = (patch: Record<string, unknown>) => mergeInput(minimal, patch);

function problem(input: unknown): InputError {
  try {
    parseRequest(input);
  } catch (err) {
    if (err instanceof InputError) return err;
    throw err;
  }
  throw new Error("expected an InputError");
}

describe("defaults", () => {
  const req = parseRequest(minimal);
  it("fills in what a user leaves out", () => {
    expect(req.name).toBe("app");
    expect(req.namespace).toBe("default");
    expect(req.workload).toBe("job");
    expect(req.strategy).toMatchObject({ type: "docker", builder: "buildah", dockerfile: "Dockerfile", allowDockerSocket: false });
    expect(req.output.image).toBe("registry.example.com/team/app:latest");
    expect([req.timeout, req.startTimeout, req.deleteAfter]).toEqual([3600, 300, 3600]);
    expect(req.source.contextDir).toBe(".");
  });
  it("puts the Dockerfile in the context directory unless told otherwise", () => {
    expect(parseRequest(withField({ source: { contextDir: "./svc/api/" } })).strategy).toMatchObject({ dockerfile: "svc/api/Dockerfile" });
  });
  it("has no layer cache unless asked; a cache reads and writes by default", () => {
    expect(req.cache).toBeUndefined();
    expect(parseRequest(withField({ cache: { repository: "registry.example.com:5000/team/cache" } })).cache)
      .toEqual({ repository: "registry.example.com:5000/team/cache", registry: "registry.example.com:5000", mode: "read-write" });
    expect(parseRequest(withField({ cache: { repository: "team/cache", mode: "read" } })).cache).toMatchObject({ registry: "docker.io", mode: "read" });
  });
  it("turns extra tags into full references on the output repository", () => {
    const req = parseRequest(withField({ output: { image: "registry.example.com:5000/team/app:1.0", tags: ["latest", "1.0", "mirror.example.com/app:1"] } }));
    expect(req.output.tags).toEqual(["registry.example.com:5000/team/app:latest", "mirror.example.com/app:1"]);
  });
});

describe("bad input names the field and says what is wrong", () => {
  const cases: [string, Record<string, unknown>, RegExp][] = [
    ["an invalid image reference", { output: { image: "Registry.example.com/Team/App:1" } }, /^output\.image: .*upper-case/],
    ["a tag with a bad character", { output: { image: "registry.example.com/app:v1/2" } }, /^output\.image: /],
    ["a digest as output", { output: { image: `registry.example.com/app@sha256:${"a".repeat(64)}` } }, /^output\.image: .*digest/],
    ["an unknown strategy", { strategy: { type: "pack" } }, /^strategy\.type: unknown value "pack"; choose one of docker, source, custom/],
    ["an unknown builder", { strategy: { builder: "img" } }, /^strategy\.builder: unknown value "img"/],
    ["a missing image", { output: { image: "" } }, /^output\.image: is required/],
    ["a malformed duration", { timeout: "10 minutes" }, /^timeout: "10 minutes" is not a duration/],
    ["a malformed quantity", { resources: { limits: { memory: "4GB" } } }, /^resources\.limits\.memory: "4GB" is not a Kubernetes quantity/],
    ["a request over its limit", { resources: { requests: { cpu: "2" }, limits: { cpu: "500m" } } }, /^resources\.requests\.cpu: 2 is more than the limit 500m/],
    ["a label that is not a Kubernetes label", { labels: { "team name": "web" } }, /^labels\.team name: .*not a valid Kubernetes label key/],
    ["a label value that is not one", { labels: { team: "web/front" } }, /^labels\.team: .*not a valid Kubernetes label value/],
    ["a reserved label", { labels: { "buildpod.dev/build": "x" } }, /^labels\.buildpod\.dev\/build: .*set by buildpod/],
    ["a misspelt field", { strategy: { buidler: "kaniko" } }, /^strategy\.buidler: unknown field \(did you mean strategy\.builder\?\)/],
    ["a field of another strategy", { strategy: { incremental: true } }, /^strategy\.incremental: does not apply to the docker strategy/],
    ["the docker socket without the allow flag", { strategy: { builder: "docker" } }, /^strategy\.builder: .*allowDockerSocket/],
    ["a Dockerfile outside the source", { strategy: { dockerfile: "../Dockerfile" } }, /^strategy\.dockerfile: .*outside the source/],
    ["an invalid namespace", { namespace: "Team_A" }, /^namespace: .*not a valid name/],
    ["a Git URL with a password", { source: { git: { url: "https://user:secret@git.example.com/a.git" } } }, /^source\.git\.url: must not carry a password/],
    ["a ref that is an option", { source: { git: { ref: "--upload-pack=evil" } } }, /^source\.git\.ref: /],
    ["a bad toleration", { scheduling: { tolerations: ["a=b:Sometimes"] } }, /^scheduling\.tolerations\[0\]: /],
    ["a non-boolean switch", { output: { insecure: "yes" } }, /^output\.insecure: must be true or false/],
    ["a reserved env name", { strategy: { type: "custom", builderImage: "b:1", env: { BUILDPOD_X: "1" } } }, /^strategy\.env\.BUILDPOD_X: .*reserved/],
    ["an S2I build with no builder image", { strategy: { type: "source" } }, /^strategy\.builderImage: is required/],
    ["memory in bytes by mistake", { resources: { limits: { memory: "512" } } }, /^resources\.limits\.memory: .*did you mean 512Mi/],
    ["a cache without a repository", { cache: { mode: "read" } }, /^cache\.repository: is required/],
    ["a cache repository with a tag", { cache: { repository: "registry.example.com/team/cache:latest" } }, /^cache\.repository: .*names a tag; give the repository alone/],
    ["a cache repository that is not one", { cache: { repository: "registry.example.com/Team/cache" } }, /^cache\.repository: .*not a valid repository.*upper-case/],
    ["an unknown cache mode", { cache: { repository: "registry.example.com/c", mode: "write" } }, /^cache\.mode: unknown value "write"; choose one of read-write, read/],
    ["a misspelt cache field", { cache: { repo: "registry.example.com/c" } }, /^cache\.repo: unknown field/],
    ["a cache given as a string", { cache: "registry.example.com/c" }, /^cache: must be a mapping/],
    ["a cache for an S2I build", { strategy: { type: "source", builderImage: "s2i:1" }, cache: { repository: "registry.example.com/c" } }, /^cache: applies to the docker strategy; .*incremental/],
    ["a cache for a custom build", { strategy: { type: "custom", builderImage: "b:1" }, cache: { repository: "registry.example.com/c" } }, /^cache: applies to the docker strategy/],
    ["a cache with the node's Docker daemon", { strategy: { builder: "docker", allowDockerSocket: true }, cache: { repository: "registry.example.com/c" } }, /^cache: the docker builder keeps its cache on the node/],
  ];
  for (const [what, patch, message] of cases) {
    it(what, () => {
      const err = problem(withField(patch));
      expect(err.message).toMatch(message);
      expect(err.message).not.toContain("\n");
    });
  }
  it("no source at all", () => {
    expect(problem({ output: { image: "a/b" } }).message).toMatch(/^source: is required/);
  });
  it("both Git and a directory", () => {
    expect(problem(withField({ source: { binary: { dir: "." } } })).message).toMatch(/^source: give either a Git repository or a binary input/);
  });
});

describe("value parsers", () => {
  it("durations", () => {
    expect(parseDuration("90s")).toBe(90);
    expect(parseDuration("1h30m")).toBe(5400);
    expect(parseDuration("2d")).toBe(172800);
    expect(parseDuration("600")).toBe(600);
    expect(parseDuration("1500ms")).toBe(2);
    expect(parseDuration("5 m")).toBeUndefined();
    expect(parseDuration("h")).toBeUndefined();
  });
  it("image references", () => {
    expect(parseReference("alpine")).toEqual({ registry: "docker.io", repository: "library/alpine", tag: undefined, digest: undefined });
    expect(parseReference("localhost:5000/a/b:1")).toMatchObject({ registry: "localhost:5000", repository: "a/b", tag: "1" });
    expect(parseReference("127.0.0.1:5000/buildpod/busybox:2")).toMatchObject({ registry: "127.0.0.1:5000", repository: "buildpod/busybox" });
    expect(typeof parseReference("a//b")).toBe("string");
    expect(typeof parseReference("a b")).toBe("string");
  });
});

describe("build files", () => {
  it("reads YAML and JSON", () => {
    expect(parseBuildFile("output:\n  image: a/b\n", "buildpod.yaml")).toEqual({ output: { image: "a/b" } });
    expect(parseBuildFile('{"output":{"image":"a/b"}}', "b.json")).toEqual({ output: { image: "a/b" } });
  });
  it("says where a file is broken", () => {
    expect(() => parseBuildFile("output:\n  image: [a\n", "buildpod.yaml")).toThrow(/^buildpod\.yaml at line \d+ is not valid YAML/);
    expect(() => parseBuildFile("- a\n- b\n", "buildpod.yaml")).toThrow(/must hold a mapping/);
  });
  it("flags override the file, maps merge key by key", () => {
    const merged = mergeInput(
      { output: { image: "a/b:1", labels: { x: "1", y: "2" } }, timeout: "10m" },
      { output: { labels: { y: "3" } }, timeout: "20m", namespace: undefined },
    );
    expect(merged).toEqual({ output: { image: "a/b:1", labels: { x: "1", y: "3" } }, timeout: "20m" });
  });
});
