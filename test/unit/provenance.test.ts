// The provenance statement buildpod renders for the build pod, which builds attach it, and how a request
// asks for it. The pod's side (filling it in, attaching it in a registry) is in provenance-registry.test.ts.
import { createHash } from "node:crypto";
import { describe, expect, it } from "vitest";
import { BUILDER_IMAGES, InputError, PATHS, parseRequest, render } from "../../core/index.js";
import { PROVENANCE_SCRIPT } from "../../core/scripts.js";
import { attachesProvenance, provenanceEnv, provenanceStatement } from "../../core/provenance.js";
import { buildOf } from "./pod.js";

const IMAGE = "registry.example.com/team/app:1.0";
const request = (strategy: Record<string, unknown>, extra: Record<string, unknown> = {}, output: Record<string, unknown> = {}) =>
  parseRequest({
    name: "app",
    source: { git: { url: "https://git.example.com/team/app.git", ref: "main", secret: "git-cred" } },
    strategy,
    output: { image: IMAGE, pushSecret: "regcred", ...output },
    ...extra,
  });

/** The statement as the pod makes it: every placeholder put in. */
function filled(text: string, values = { SUBJECT: "ab".repeat(32), COMMIT: "c".repeat(40), STARTED: "2026-12-03T10:00:00Z", FINISHED: "2026-12-03T10:01:00Z" }) {
  let out = text;
  for (const [k, v] of Object.entries(values)) out = out.split(`"@@${k}@@"`).join(JSON.stringify(v));
  return JSON.parse(out);
}

const buildEnv = (job: any) => Object.fromEntries((buildOf(job.spec.template.spec).env ?? []).map((e: any) => [e.name, e.value]));

describe("the provenance statement", () => {
  const req = request(
    { type: "docker", dockerfile: "build/Dockerfile", target: "release", buildArgs: { VERSION: "1.2.3" }, secrets: [{ id: "npmrc", secret: "npm-token" }] },
    {},
    { tags: ["1.0-rc", "mirror.example.com/team/app:1.0"] },
  );
  const s = filled(provenanceStatement(req, "quay.io/buildah/stable@sha256:" + "1".repeat(64), "app-x2k4z"));

  it("is an in-toto statement with a SLSA v1 predicate, one subject per repository pushed to", () => {
    expect(s._type).toBe("https://in-toto.io/Statement/v1");
    expect(s.predicateType).toBe("https://slsa.dev/provenance/v1");
    expect(s.subject).toEqual([
      { name: "registry.example.com/team/app", digest: { sha256: "ab".repeat(32) } },
      { name: "mirror.example.com/team/app", digest: { sha256: "ab".repeat(32) } },
    ]);
  });

  it("says what built the image: the builder, its image's digest, the strategy, the source and the times", () => {
    const p = s.predicate;
    expect(p.buildDefinition.buildType).toBe("https://buildpod.dev/provenance/build/v1");
    expect(p.buildDefinition.externalParameters.strategy).toEqual({
      type: "docker", builder: "buildah", dockerfile: "build/Dockerfile", target: "release", buildArgs: { VERSION: "1.2.3" },
      secrets: [{ id: "npmrc", secret: "npm-token", key: "npmrc" }],
    });
    expect(p.buildDefinition.externalParameters.source.git).toEqual({ url: "https://git.example.com/team/app.git", ref: "main", depth: 1, secret: "git-cred" });
    expect(p.buildDefinition.resolvedDependencies).toEqual([{ uri: "git+https://git.example.com/team/app.git@main", digest: { gitCommit: "c".repeat(40) } }]);
    expect(p.runDetails.builder.id).toBe("https://buildpod.dev/builders/buildah");
    expect(p.runDetails.builder.builderDependencies).toEqual([{ uri: "oci://quay.io/buildah/stable@sha256:" + "1".repeat(64), digest: { sha256: "1".repeat(64) } }]);
    expect(p.runDetails.metadata).toEqual({ invocationId: "default/app-x2k4z", startedOn: "2026-12-03T10:00:00Z", finishedOn: "2026-12-03T10:01:00Z" });
  });

  it("names Secrets by name only; a token given as a Git URL's user stays out", () => {
    const text = JSON.stringify(s);
    for (const name of ["regcred", "git-cred", "npm-token"]) expect(text).toContain(name);
    expect(s.predicate.buildDefinition.externalParameters.output.pushSecret).toBe("regcred");
    const tokened = parseRequest({ source: { git: { url: "https://ghp_s3cret@git.example.com/team/app.git" } }, output: { image: IMAGE } });
    const stated = provenanceStatement(tokened, "b");
    expect(stated).not.toContain("ghp_s3cret");
    expect(filled(stated).predicate.buildDefinition.externalParameters.source.git.url).toBe("https://git.example.com/team/app.git");
    expect(filled(stated).predicate.buildDefinition.resolvedDependencies[0].uri).toBe("git+https://git.example.com/team/app.git");
  });

  it("has placeholders where the pod puts its values, and a request value cannot pass for one", () => {
    const tricky = request({ type: "docker", buildArgs: { A: "@@SUBJECT@@", B: "x@y", C: "\\@@COMMIT@@" } });
    const text = provenanceStatement(tricky, "quay.io/buildah/stable:latest");
    // Its only "@" characters: "@@SUBJECT@@", "@@COMMIT@@", "@@STARTED@@" and "@@FINISHED@@", once each.
    expect(text.match(/@/g)?.length).toBe(16);
    expect(text.split('"@@SUBJECT@@"').length - 1).toBe(1);
    const parsed = filled(text);
    expect(parsed.predicate.buildDefinition.externalParameters.strategy.buildArgs).toEqual({ A: "@@SUBJECT@@", B: "x@y", C: "\\@@COMMIT@@" });
    // A builder image given by tag has no digest to record.
    expect(parsed.predicate.runDetails.builder.builderDependencies).toEqual([{ uri: "oci://quay.io/buildah/stable:latest" }]);
  });

  it("records an inline Dockerfile by its digest, and S2I's parameters", () => {
    const s2i = request({ type: "source", builderImage: "registry.example.com/s2i/python:3.12", env: { MODE: "prod" }, incremental: true });
    const p = filled(provenanceStatement(s2i, "quay.io/buildah/stable:latest")).predicate;
    expect(p.buildDefinition.externalParameters.strategy).toEqual({ type: "source", builderImage: "registry.example.com/s2i/python:3.12", incremental: true, env: { MODE: "prod" } });
    expect(p.runDetails.builder.id).toBe("https://buildpod.dev/builders/buildah");
    const inline = parseRequest({ source: { dockerfile: "FROM scratch\n" }, output: { image: IMAGE } });
    expect(filled(provenanceStatement(inline, "b")).predicate.buildDefinition.externalParameters.source.inlineDockerfile)
      .toEqual({ sha256: createHash("sha256").update("FROM scratch\n").digest("hex") });
  });
});

describe("an upload's provenance", () => {
  it("records the uploaded tree by its dirHash, which the source container computes", () => {
    const up = parseRequest({ source: { binary: { dir: "./app" } }, output: { image: IMAGE } });
    const p = filled(provenanceStatement(up, "b"), { SUBJECT: "ab".repeat(32), COMMIT: "", INPUT: "d".repeat(64), STARTED: "s", FINISHED: "f" } as any).predicate;
    expect(p.buildDefinition.resolvedDependencies).toEqual([{ uri: "buildpod:upload", name: "directory", digest: { dirHash: "d".repeat(64) } }]);
    expect(p.buildDefinition.externalParameters.source.upload).toEqual({ format: "directory" });
    const sourceEnv = (r: any) => Object.fromEntries((r.spec.template.spec.initContainers[0].env ?? []).map((e: any) => [e.name, e.value]));
    expect(sourceEnv(render(up, { id: "x2k4z" }))).toMatchObject({ BUILDPOD_INPUT_DIGEST: "true" });
    const off = parseRequest({ source: { binary: { dir: "./app" } }, output: { image: IMAGE, provenance: false } });
    expect(sourceEnv(render(off, { id: "x2k4z" }))).not.toHaveProperty("BUILDPOD_INPUT_DIGEST");
    expect(sourceEnv(render(request({ type: "docker" }), { id: "x2k4z" }))).not.toHaveProperty("BUILDPOD_INPUT_DIGEST");
  });
});

describe("which builds attach provenance", () => {
  it("every build that pushes, by default; the docker builder's and a custom one only when asked", () => {
    expect(attachesProvenance(request({ type: "docker" }))).toBe(true);
    expect(attachesProvenance(request({ type: "source", builderImage: "registry.example.com/s2i/python:3.12" }))).toBe(true);
    expect(attachesProvenance(request({ type: "docker" }, {}, { push: false }))).toBe(false);
    expect(attachesProvenance(request({ type: "docker" }, {}, { provenance: "false" }))).toBe(false);
    expect(attachesProvenance(request({ type: "docker" }, {}, { provenance: false }))).toBe(false);
    expect(attachesProvenance(request({ type: "docker", builder: "kaniko" }))).toBe(true);
    expect(attachesProvenance(request({ type: "docker", builder: "buildkit" }))).toBe(true);
    expect(attachesProvenance(request({ type: "custom", builderImage: "registry.example.com/tools/b:1" }))).toBe(false);
  });

  it("a custom build only when asked: its builder is told where to leave the digest it pushed", () => {
    const custom = { type: "custom", builderImage: "registry.example.com/tools/b:1" };
    const asked = request(custom, {}, { provenance: "true" });
    expect(attachesProvenance(asked)).toBe(true);
    const spec = (render(asked, { id: "x2k4z" }) as any).spec.template.spec;
    expect(spec.containers.map((c: any) => c.name)).toEqual(["provenance"]);
    expect(buildOf(spec).env).toContainEqual({ name: "BUILDPOD_DIGEST_FILE", value: PATHS.pushedDigest });
    const unasked = (render(request(custom), { id: "x2k4z" }) as any).spec.template.spec;
    expect(unasked.containers.map((c: any) => c.name)).toEqual(["build"]);
    expect(buildOf(unasked).env.map((e: any) => e.name)).not.toContain("BUILDPOD_DIGEST_FILE");
    expect(() => request({ type: "docker" }, {}, { provenance: "maybe" })).toThrow(/output\.provenance.*true or false/);
  });

  it("the build container gets the statement and the repositories to attach it in, with their credential keys", () => {
    const job = render(request({ type: "docker" }, {}, { tags: ["docker.io/team/app:1"] }), { id: "x2k4z" }) as any;
    const env = buildEnv(job);
    expect(JSON.parse(env.BUILDPOD_PROVENANCE.replace(/"@@\w+@@"/g, '""')).predicate.runDetails.metadata.invocationId).toBe("default/app-x2k4z");
    expect(env.BUILDPOD_PROVENANCE_TARGETS.split("\n")).toEqual([
      "registry.example.com team/app registry.example.com https://registry.example.com http://registry.example.com",
      "registry-1.docker.io team/app https://index.docker.io/v1/ docker.io index.docker.io registry-1.docker.io",
    ]);
    for (const off of [request({ type: "docker" }, {}, { provenance: false }), request({ type: "docker" }, {}, { push: false })]) {
      expect(buildEnv(render(off, { id: "x2k4z" }))).not.toHaveProperty("BUILDPOD_PROVENANCE");
      expect(provenanceEnv(off, "img")).toEqual({});
    }
  });
});

describe("the provenance container, after a builder whose image has no curl", () => {
  for (const builder of ["kaniko", "buildkit", "docker"]) {
    it(`${builder}: the build is the last init container, leaving its digest in a file; an unprivileged container with curl attaches`, () => {
      const strategy = { type: "docker", builder, ...(builder === "docker" ? { allowDockerSocket: true } : {}) };
      // (The docker builder takes no CA bundle, and attaches provenance only when asked: the node's daemon
      // has its own registry configuration.)
      const ca = builder !== "docker";
      const req = request(strategy, ca ? { network: { caBundle: "corp-ca" } } : {}, { pushSecret: "regcred", ...(ca ? {} : { provenance: true }) });
      if (!ca) expect(attachesProvenance(request(strategy))).toBe(false);
      const spec = (render(req, { id: "x2k4z" }) as any).spec.template.spec;
      expect(spec.initContainers.map((c: any) => c.name)).toEqual(["source", "build"]);
      expect(spec.containers.map((c: any) => c.name)).toEqual(["provenance"]);
      const build = buildOf(spec);
      const buildEnvs = Object.fromEntries(build.env.map((e: any) => [e.name, e.value]));
      expect(buildEnvs).not.toHaveProperty("BUILDPOD_PROVENANCE");
      if (builder === "kaniko") expect(build.args).toContain(`--digest-file=${PATHS.pushedDigest}`);
      else expect(buildEnvs.BUILDPOD_DIGEST_FILE).toBe(PATHS.pushedDigest);
      const p = spec.containers[0];
      expect(p.command).toEqual(["/bin/sh", "-c", PROVENANCE_SCRIPT, "buildpod-provenance"]);
      expect(p.image).toBe(BUILDER_IMAGES.buildah);
      expect(p.securityContext).toMatchObject({ runAsNonRoot: true, allowPrivilegeEscalation: false, capabilities: { drop: ["ALL"] }, seccompProfile: { type: "RuntimeDefault" } });
      const env = Object.fromEntries(p.env.map((e: any) => [e.name, e.value]));
      // The statement names the builder's own image, which built the image.
      expect(JSON.parse(env.BUILDPOD_PROVENANCE.replace(/"@@\w+@@"/g, '""')).predicate.runDetails.builder).toMatchObject({
        id: `https://buildpod.dev/builders/${builder}`, builderDependencies: [{ uri: `oci://${build.image}` }],
      });
      expect(env).toMatchObject({ BUILDPOD_DIGEST_FILE: PATHS.pushedDigest, DOCKER_CONFIG: PATHS.pushConfig, BUILDPOD_IMAGE: req.output.image });
      expect(env.BUILDPOD_CA_BUNDLE).toBe(ca ? `${PATHS.caBundle}/ca.crt` : undefined);
      expect(p.volumeMounts.map((m: any) => m.name).sort()).toEqual([...(ca ? ["ca-bundle"] : []), "push-secret", "workspace"]);
    });
  }

  it("is left out when there is no provenance to attach: the build is the pod's container", () => {
    for (const output of [{ provenance: false }, { push: false }]) {
      const spec = (render(request({ type: "docker", builder: "kaniko" }, {}, output), { id: "x2k4z" }) as any).spec.template.spec;
      expect(spec.containers.map((c: any) => c.name)).toEqual(["build"]);
      expect(spec.containers[0].args).toContain("--digest-file=/dev/termination-log");
    }
  });
});
