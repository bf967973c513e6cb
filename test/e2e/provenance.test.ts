// The build's provenance on the test cluster: the build pod attaches a SLSA provenance statement to the image
// it pushed, in the same registry (distribution 2.8: no referrers API, so under the referrers tag schema),
// and a verifier reads it back with plain registry requests: the index under sha256-<hex>, the artifact
// whose subject is the image, and the statement it holds.
import { createHash } from "node:crypto";
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { attached, build, image, registryDigest, repo, tc } from "./kit.js";

let app: Awaited<ReturnType<typeof repo>>;

beforeAll(async () => {
  app = await repo("e2e-provenance", {
    commits: [{ files: { Dockerfile: `FROM ${tc().busybox}\nARG VERSION\nRUN echo "$VERSION" > /version\n` }, message: "first" }],
  });
});

describe("provenance", () => {
  it("is attached to the pushed image, in each repository it went to, saying what built it from what", async () => {
    const target = image("prov:1");
    const mirror = image("prov-mirror:1");
    const { result, lines } = await build({
      source: { git: { url: app.url, ref: "main" } },
      strategy: { buildArgs: { VERSION: "1.0" } },
      output: { image: target, tags: [mirror] },
    });
    expect(result.status, result.message).toBe("Complete");
    expect(result.provenance).toMatch(new RegExp(`^${image("prov")}@sha256:[a-f0-9]{64}$`));
    expect(lines.build.join("\n")).toContain(`attached the provenance ${result.provenance!.split("@")[1]}`);

    for (const ref of [target, mirror]) {
      const found = await attached(ref, result.digest!);
      expect(found).toHaveLength(1);
      const [{ descriptor, manifest, statement }] = found;
      expect(descriptor.digest).toBe(result.provenance!.split("@")[1]);
      expect(descriptor.artifactType).toBe("application/vnd.in-toto+json");
      expect(manifest.subject.digest).toBe(result.digest);
      expect(manifest.subject.size).toBeGreaterThan(0);
      expect(statement.predicateType).toBe("https://slsa.dev/provenance/v1");
      expect(statement.subject.map((s: any) => s.name)).toEqual([target, mirror].map((r) => r.replace(/:1$/, "")));
      for (const s of statement.subject) expect(s.digest.sha256).toBe(result.digest!.slice(7));
      const p = statement.predicate;
      expect(p.buildDefinition.resolvedDependencies).toEqual([{ uri: `git+${app.url}@main`, digest: { gitCommit: app.head } }]);
      expect(p.buildDefinition.externalParameters.strategy).toMatchObject({ type: "docker", builder: "buildah", buildArgs: { VERSION: "1.0" } });
      expect(p.runDetails.builder.builderDependencies).toEqual([{ uri: `oci://${tc().builder}` }]);
      expect(p.runDetails.metadata.invocationId).toBe(`default/${result.run}`);
      const [started, finished] = [Date.parse(p.runDetails.metadata.startedOn), Date.parse(p.runDetails.metadata.finishedOn)];
      expect(started).toBeLessThanOrEqual(finished);
      expect(started).toBeGreaterThanOrEqual(Date.parse(result.startedAt!) - 1000);
      expect(finished).toBeLessThanOrEqual(Date.parse(result.finishedAt!) + 1000);
    }
  });

  it("an upload is recorded by the dirHash of its files, as a verifier computes it from the same directory", async () => {
    const dir = mkdtempSync(join(tmpdir(), "buildpod-prov-"));
    mkdirSync(join(dir, "sub dir"));
    writeFileSync(join(dir, "Dockerfile"), `FROM ${tc().busybox}\nCOPY . /src\n`);
    writeFileSync(join(dir, "sub dir", "a file.txt"), "contents\n");
    writeFileSync(join(dir, "b.txt"), "b\n");
    const { result } = await build({ source: { binary: { dir } }, output: { image: image("prov-upload:1") } });
    expect(result.status, result.message).toBe("Complete");
    // in-toto's dirHash: the sha256 of the sorted `sha256sum` lines of every file, by path from the root.
    const files = ["Dockerfile", "b.txt", "sub dir/a file.txt"].sort();
    const lines = files.map((f) => `${createHash("sha256").update(readFileSync(join(dir, f))).digest("hex")}  ${f}\n`).join("");
    const [{ statement }] = await attached(image("prov-upload:1"), result.digest!);
    expect(statement.predicate.buildDefinition.resolvedDependencies).toEqual([
      { uri: "buildpod:upload", name: "directory", digest: { dirHash: createHash("sha256").update(lines).digest("hex") } },
    ]);
  });

  it("--provenance false attaches none, and the image's digest is the same either way", async () => {
    const git = { url: app.url, ref: "main" };
    const on = await build({ source: { git }, strategy: { buildArgs: { VERSION: "2.0" } }, output: { image: image("prov-same:on") } });
    const off = await build({ source: { git }, strategy: { buildArgs: { VERSION: "2.0" } }, output: { image: image("prov-same:off"), provenance: "false" } });
    expect(on.result.status, on.result.message).toBe("Complete");
    expect(off.result.status, off.result.message).toBe("Complete");
    expect(on.result.provenance).toBeDefined();
    expect(off.result.provenance).toBeUndefined();
    expect(off.lines.build.join("\n")).not.toContain("attached the provenance");
    expect(off.result.digest).toBe(on.result.digest);
    expect(await registryDigest(image("prov-same:off"))).toBe(on.result.digest);
    const res = await fetch(`http://${image("prov-same").split("/")[0]}/v2/${image("prov-same").split("/").slice(1).join("/")}/manifests/sha256-${on.result.digest!.slice(7)}`, {
      headers: { accept: "application/vnd.oci.image.index.v1+json" },
    });
    // Both pushed the same image to one repository: the only referrer is the first build's.
    expect(res.status).toBe(200);
    expect(((await res.json()) as any).manifests.map((m: any) => m.digest)).toEqual([on.result.provenance!.split("@")[1]]);
  });
});
