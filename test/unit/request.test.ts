import { describe, expect, it } from "vitest";
import { InputError, mergeInput, parseBuildFile, parseDuration, parseReference, parseRequest, render } from "../../core/index.js";
import { CUSTOM_CONTRACT_ENV } from "../../core/request/index.js";
import { expectValidObject } from "./schema.js";
import { buildOf } from "./pod.js";

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

describe("durations and numbers stay within the integer fields they land in", () => {
  const cases: [string, Record<string, unknown>, RegExp][] = [
    ["a Job TTL beyond int32", { deleteAfter: "100000d" }, /^deleteAfter: "100000d" is too long: .*ttlSecondsAfterFinished.*2147483647; give 24855d or less$/],
    ["a Job TTL one past int32", { deleteAfter: 2147483648 }, /^deleteAfter: .*too long/],
    ["a deadline of 8.64e+24 seconds", { timeout: "100000000000000000000d" }, /^timeout: .*too long: .*activeDeadlineSeconds.*give 24855d or less$/],
    ["an infinite deadline", { timeout: `1${"0".repeat(400)}d` }, /^timeout: .*too long/],
    ["a start timeout beyond int32", { startTimeout: "30000d" }, /^startTimeout: "30000d" is too long/],
    ["an upload timeout beyond the client's timer", { source: { git: null, binary: { dir: "." } }, uploadTimeout: "25d" }, /^uploadTimeout: "25d" is too long: the upload timer holds at most 2147483s; give 24d or less$/],
    ["a SOURCE_DATE_EPOCH with an exponent", { source: { sourceDateEpoch: "1e30" } }, /^source\.sourceDateEpoch: must be a whole number of seconds since 1970, at most 253402300799/],
    ["a SOURCE_DATE_EPOCH past year 9999", { source: { sourceDateEpoch: 1e30 } }, /^source\.sourceDateEpoch: must be a whole number/],
    ["tolerationSeconds beyond int32", { scheduling: { tolerations: [{ key: "a", operator: "Exists", effect: "NoExecute", tolerationSeconds: 1e12 }] } }, /^scheduling\.tolerations\[0\]\.tolerationSeconds: must be a whole number of seconds from 0 to 2147483647/],
  ];
  for (const [what, patch, message] of cases) {
    it(what, () => expect(problem(withField(patch)).message).toMatch(message));
  }
  it("accepts the largest values", () => {
    const req = parseRequest(withField({ timeout: "24855d", startTimeout: 2147483647, deleteAfter: "2147483647", uploadTimeout: "2147483s", source: { sourceDateEpoch: 253402300799 } }));
    expect([req.timeout, req.startTimeout, req.deleteAfter, req.uploadTimeout, req.source.sourceDateEpoch]).toEqual([2147472000, 2147483647, 2147483647, 2147483, 253402300799]);
    expectValidObject(render(req, { id: "abcde" }));
  });
});

describe("affinity is checked against the Kubernetes types", () => {
  const A = "scheduling\\.affinity";
  const nodeTerm = (term: unknown) => ({ scheduling: { affinity: { nodeAffinity: { requiredDuringSchedulingIgnoredDuringExecution: { nodeSelectorTerms: [term] } } } } });
  const expr = (e: Record<string, unknown>) => nodeTerm({ matchExpressions: [e] });
  const podTerm = (term: unknown, kind = "podAffinity") => ({ scheduling: { affinity: { [kind]: { requiredDuringSchedulingIgnoredDuringExecution: [term] } } } });
  const preferredPod = (weighted: unknown) => ({ scheduling: { affinity: { podAntiAffinity: { preferredDuringSchedulingIgnoredDuringExecution: [weighted] } } } });
  const TERM0 = `${A}\\.nodeAffinity\\.requiredDuringSchedulingIgnoredDuringExecution\\.nodeSelectorTerms\\[0\\]`;
  const EXPR0 = `${TERM0}\\.matchExpressions\\[0\\]`;
  const POD0 = `${A}\\.podAffinity\\.requiredDuringSchedulingIgnoredDuringExecution\\[0\\]`;
  const cases: [string, Record<string, unknown>, string][] = [
    ["an Affinity that is a string", { scheduling: { affinity: "near the cache" } }, `^${A}: must be an Affinity, a mapping with any of nodeAffinity, podAffinity, podAntiAffinity`],
    ["an unknown kind of affinity", { scheduling: { affinity: { nodeAfinity: {} } } }, `^${A}\\.nodeAfinity: unknown field \\(did you mean nodeAffinity\\?\\)`],
    ["a nodeAffinity that is garbage", { scheduling: { affinity: { nodeAffinity: "garbage" } } }, `^${A}\\.nodeAffinity: must be a NodeAffinity, a mapping with any of requiredDuringSchedulingIgnoredDuringExecution, preferredDuringSchedulingIgnoredDuringExecution \\(not "garbage"\\)$`],
    ["a podAntiAffinity that is a list", { scheduling: { affinity: { podAntiAffinity: [] } } }, `^${A}\\.podAntiAffinity: must be a PodAntiAffinity`],
    ["an unknown NodeAffinity field", { scheduling: { affinity: { nodeAffinity: { requiredDuringScheduling: {} } } } }, `^${A}\\.nodeAffinity\\.requiredDuringScheduling: unknown field; a NodeAffinity has requiredDuringSchedulingIgnoredDuringExecution, preferredDuringSchedulingIgnoredDuringExecution$`],
    ["a NodeSelector without terms", { scheduling: { affinity: { nodeAffinity: { requiredDuringSchedulingIgnoredDuringExecution: {} } } } }, `^${A}\\.nodeAffinity\\.requiredDuringSchedulingIgnoredDuringExecution\\.nodeSelectorTerms: is required`],
    ["an empty list of terms", { scheduling: { affinity: { nodeAffinity: { requiredDuringSchedulingIgnoredDuringExecution: { nodeSelectorTerms: [] } } } } }, `nodeSelectorTerms: is empty: give at least one term`],
    ["terms that are not a list", { scheduling: { affinity: { nodeAffinity: { requiredDuringSchedulingIgnoredDuringExecution: { nodeSelectorTerms: { key: "a" } } } } } }, `nodeSelectorTerms: must be a list`],
    ["an empty term, which matches no node", nodeTerm({}), `^${TERM0}: matches no node: give matchExpressions or matchFields$`],
    ["an unknown operator", expr({ key: "pool", operator: "Maybe", values: ["a"] }), `^${EXPR0}\\.operator: unknown value "Maybe"; choose one of In, NotIn, Exists, DoesNotExist, Gt, Lt$`],
    ["a requirement without an operator", expr({ key: "pool", values: ["a"] }), `^${EXPR0}\\.operator: is required`],
    ["a requirement without a key", expr({ operator: "Exists" }), `^${EXPR0}\\.key: is required`],
    ["a key that is not a label key", expr({ key: "a pool", operator: "Exists" }), `^${EXPR0}\\.key: "a pool" is not a valid Kubernetes label key`],
    ["In without values", expr({ key: "pool", operator: "In" }), `^${EXPR0}\\.values: must list at least one value for operator In$`],
    ["Exists with values", expr({ key: "pool", operator: "Exists", values: ["a"] }), `^${EXPR0}\\.values: must be empty for operator Exists`],
    ["Gt with two values", expr({ key: "cpus", operator: "Gt", values: ["4", "8"] }), `^${EXPR0}\\.values: must be exactly one whole number for operator Gt`],
    ["Lt with a word", expr({ key: "cpus", operator: "Lt", values: ["many"] }), `^${EXPR0}\\.values: must be exactly one whole number for operator Lt`],
    ["values that are not a list", expr({ key: "pool", operator: "In", values: "a,b" }), `^${EXPR0}\\.values: must be a list`],
    ["matchFields on a label", nodeTerm({ matchFields: [{ key: "pool", operator: "In", values: ["a"] }] }), `^${TERM0}\\.matchFields\\[0\\]\\.key: "pool" is not supported: matchFields selects by metadata.name only$`],
    ["matchFields with two names", nodeTerm({ matchFields: [{ key: "metadata.name", operator: "In", values: ["a", "b"] }] }), `^${TERM0}\\.matchFields\\[0\\]\\.values: must be exactly one node name$`],
    ["matchFields with Exists", nodeTerm({ matchFields: [{ key: "metadata.name", operator: "Exists" }] }), `^${TERM0}\\.matchFields\\[0\\]\\.operator: unknown value "Exists"; choose one of In, NotIn$`],
    ["a preferred term without a weight", { scheduling: { affinity: { nodeAffinity: { preferredDuringSchedulingIgnoredDuringExecution: [{ preference: { matchExpressions: [{ key: "a", operator: "Exists" }] } }] } } } }, `^${A}\\.nodeAffinity\\.preferredDuringSchedulingIgnoredDuringExecution\\[0\\]\\.weight: is required: 1 to 100$`],
    ["a weight of 0", { scheduling: { affinity: { nodeAffinity: { preferredDuringSchedulingIgnoredDuringExecution: [{ weight: 0, preference: { matchExpressions: [{ key: "a", operator: "Exists" }] } }] } } } }, `\\[0\\]\\.weight: must be a whole number from 1 to 100, not 0$`],
    ["a weight of 500", preferredPod({ weight: 500, podAffinityTerm: { topologyKey: "kubernetes.io/hostname" } }), `^${A}\\.podAntiAffinity\\.preferredDuringSchedulingIgnoredDuringExecution\\[0\\]\\.weight: must be a whole number from 1 to 100, not 500$`],
    ["a fractional weight", preferredPod({ weight: 2.5, podAffinityTerm: { topologyKey: "kubernetes.io/hostname" } }), `\\.weight: must be a whole number from 1 to 100, not 2\\.5$`],
    ["a weighted term without its term", preferredPod({ weight: 5 }), `\\[0\\]\\.podAffinityTerm: is required`],
    ["a pod affinity term without a topologyKey", podTerm({ labelSelector: { matchLabels: { app: "web" } } }), `^${POD0}\\.topologyKey: is required: the node label that groups nodes, e\\.g\\. kubernetes\\.io/hostname`],
    ["an anti-affinity term with an empty topologyKey", podTerm({ topologyKey: "" }, "podAntiAffinity"), `^${A}\\.podAntiAffinity\\.requiredDuringSchedulingIgnoredDuringExecution\\[0\\]\\.topologyKey: is required`],
    ["a labelSelector that is a string", podTerm({ topologyKey: "zone", labelSelector: "app=web" }), `^${POD0}\\.labelSelector: must be a LabelSelector, a mapping with any of matchLabels, matchExpressions`],
    ["matchLabels with a bad value", podTerm({ topologyKey: "zone", labelSelector: { matchLabels: { app: "web front" } } }), `^${POD0}\\.labelSelector\\.matchLabels\\.app: "web front" is not a valid Kubernetes label value`],
    ["a label selector with Gt", podTerm({ topologyKey: "zone", labelSelector: { matchExpressions: [{ key: "a", operator: "Gt", values: ["1"] }] } }), `labelSelector\\.matchExpressions\\[0\\]\\.operator: unknown value "Gt"; choose one of In, NotIn, Exists, DoesNotExist$`],
    ["a namespace that is not one", podTerm({ topologyKey: "zone", namespaces: ["Team_A"] }), `^${POD0}\\.namespaces\\[0\\]: "Team_A" is not a valid name`],
    ["matchLabelKeys without a labelSelector", podTerm({ topologyKey: "zone", matchLabelKeys: ["app"] }), `^${POD0}\\.matchLabelKeys: needs a labelSelector`],
    ["an unknown pod affinity term field", podTerm({ topologyKey: "zone", selector: {} }), `^${POD0}\\.selector: unknown field`],
  ];
  for (const [what, patch, message] of cases) {
    it(what, () => {
      const err = problem(withField(patch));
      expect(err.message).toMatch(new RegExp(message));
      expect(err.message).not.toContain("\n");
    });
  }

  it("accepts every part of an Affinity, renders it schema-valid, and writes numbers as the strings Kubernetes wants", () => {
    const affinity = {
      nodeAffinity: {
        requiredDuringSchedulingIgnoredDuringExecution: {
          nodeSelectorTerms: [
            { matchExpressions: [{ key: "kubernetes.io/arch", operator: "In", values: ["amd64", "arm64"] }, { key: "spot", operator: "DoesNotExist" }] },
            { matchExpressions: [{ key: "cpus", operator: "Gt", values: [4] }], matchFields: [{ key: "metadata.name", operator: "NotIn", values: ["node-1"] }] },
          ],
        },
        preferredDuringSchedulingIgnoredDuringExecution: [{ weight: 100, preference: { matchExpressions: [{ key: "pool", operator: "In", values: ["build"] }] } }],
      },
      podAffinity: {
        requiredDuringSchedulingIgnoredDuringExecution: [{
          labelSelector: { matchLabels: { app: "registry-cache" }, matchExpressions: [{ key: "tier", operator: "NotIn", values: ["test"] }] },
          namespaces: ["infra"], namespaceSelector: { matchLabels: { team: "platform" } }, topologyKey: "topology.kubernetes.io/zone",
        }],
      },
      podAntiAffinity: {
        preferredDuringSchedulingIgnoredDuringExecution: [{
          weight: "50",
          podAffinityTerm: { labelSelector: { matchLabels: { "buildpod.dev/build": "app" } }, matchLabelKeys: ["pod-template-hash"], topologyKey: "kubernetes.io/hostname" },
        }],
      },
    };
    const req = parseRequest(withField({ scheduling: { affinity } }));
    const job: any = render(req, { id: "abcde" });
    expectValidObject(job);
    const out = job.spec.template.spec.affinity;
    expect(out.nodeAffinity.requiredDuringSchedulingIgnoredDuringExecution.nodeSelectorTerms[1].matchExpressions[0].values).toEqual(["4"]);
    expect(out.podAntiAffinity.preferredDuringSchedulingIgnoredDuringExecution[0].weight).toBe(50);
    expect(out.podAffinity).toEqual(affinity.podAffinity);
  });

  it("an empty Affinity renders none", () => {
    expect(parseRequest(withField({ scheduling: { affinity: {} } })).scheduling.affinity).toBeUndefined();
  });
});

describe("tolerations follow the API server's rules", () => {
  const tol = (t: unknown) => ({ scheduling: { tolerations: [t] } });
  const cases: [string, unknown, RegExp][] = [
    ["Exists with a value", { key: "spot", operator: "Exists", value: "true" }, /^scheduling\.tolerations\[0\]\.value: must be empty with operator Exists, .*operator: Equal/],
    ["no key without Exists", { operator: "Equal", value: "x" }, /^scheduling\.tolerations\[0\]\.operator: must be Exists when key is empty/],
    ["no key and no operator (Equal by default)", { effect: "NoSchedule" }, /^scheduling\.tolerations\[0\]\.operator: must be Exists when key is empty/],
    ["tolerationSeconds without NoExecute", { key: "a", operator: "Exists", effect: "NoSchedule", tolerationSeconds: 60 }, /^scheduling\.tolerations\[0\]\.tolerationSeconds: applies only to effect NoExecute/],
    ["tolerationSeconds without an effect", { key: "a", operator: "Exists", tolerationSeconds: 60 }, /tolerationSeconds: applies only to effect NoExecute/],
    ["tolerationSeconds that is not a number", { key: "a", operator: "Exists", effect: "NoExecute", tolerationSeconds: "soon" }, /tolerationSeconds: must be a whole number of seconds/],
    ["an unknown effect", { key: "a", operator: "Exists", effect: "NoRun" }, /^scheduling\.tolerations\[0\]\.effect: unknown value "NoRun"; choose one of NoSchedule, PreferNoSchedule, NoExecute/],
    ["an unknown operator", { key: "a", operator: "In" }, /^scheduling\.tolerations\[0\]\.operator: unknown value "In"/],
    ["a value that is not a label value", { key: "a", value: "b c" }, /^scheduling\.tolerations\[0\]\.value: "b c" is not a valid Kubernetes label value/],
    ["the text form with a bad value", "a=b c:NoSchedule", /^scheduling\.tolerations\[0\]: "b c" is not a valid Kubernetes label value/],
    ["a list for a toleration", ["a"], /^scheduling\.tolerations\[0\]: must be a mapping/],
  ];
  for (const [what, t, message] of cases) {
    it(what, () => expect(problem(withField(tol(t))).message).toMatch(message));
  }
  it("accepts what Kubernetes accepts", () => {
    const req = parseRequest(withField({ scheduling: { tolerations: [
      { operator: "Exists" }, { key: "a", operator: "Exists", effect: "NoExecute", tolerationSeconds: "30" }, { key: "b", value: "" }, "c=:NoSchedule",
    ] } }));
    expect(req.scheduling.tolerations).toEqual([
      { operator: "Exists" }, { key: "a", operator: "Exists", effect: "NoExecute", tolerationSeconds: 30 }, { key: "b", value: "" },
      { key: "c", operator: "Equal", value: "", effect: "NoSchedule" },
    ]);
    expectValidObject(render(req, { id: "abcde" }));
  });
});

describe("settings that would be silently ignored are refused", () => {
  const custom = (env: Record<string, string>) => ({ strategy: { type: "custom", builderImage: "registry.example.com/b:1", env } });
  it("an inline Dockerfile for an S2I build", () => {
    const err = problem(withField({ source: { dockerfile: "FROM busybox\n" }, strategy: { type: "source", builderImage: "s2i:1" } }));
    expect(err.message).toMatch(/^source\.dockerfile: does not apply to the source strategy: S2I builds generate their own Dockerfile/);
  });
  it("an insecure registry with the node's Docker daemon", () => {
    const err = problem(withField({ strategy: { builder: "docker", allowDockerSocket: true }, output: { insecure: true } }));
    expect(err.message).toMatch(/^output\.insecure: does not apply to the docker builder: the node's Docker daemon .*own configuration/);
    expect(parseRequest(withField({ strategy: { builder: "docker", allowDockerSocket: true }, output: { insecure: false } })).output.insecure).toBe(false);
  });
  for (const name of [...CUSTOM_CONTRACT_ENV, "BUILDPOD_SOURCE_DIR"]) {
    it(`a custom build's env ${name}, which buildpod sets`, () => {
      expect(problem(withField(custom({ [name]: "mine" }))).message).toMatch(new RegExp(`^strategy\\.env\\.${name}: .*(set by buildpod|reserved)`));
    });
  }
  it("the list is every variable the custom strategy sets", () => {
    // Everything that could be set: a ref, a push secret, extra tags, the Docker socket.
    const req = parseRequest({
      source: { git: { url: "https://git.example.com/a.git", ref: "main" }, contextDir: "svc" },
      strategy: { type: "custom", builderImage: "registry.example.com/b:1", exposeDockerSocket: true, allowDockerSocket: true, env: { MINE: "1" } },
      output: { image: "registry.example.com/a:1", tags: ["2"], pushSecret: "regcred" },
    });
    const build = buildOf((render(req, { id: "abcde" }) as any).spec.template.spec);
    const set = build.env.map((e: { name: string }) => e.name).filter((n: string) => n !== "MINE" && !n.startsWith("BUILDPOD_"));
    expect([...set].sort()).toEqual([...CUSTOM_CONTRACT_ENV].sort());
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
