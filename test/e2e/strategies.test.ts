// The source (S2I) and custom strategies on the test cluster, with builder images that buildpod itself
// builds first (docker strategy, from Git).
import { beforeAll, describe, expect, it } from "vitest";
import { attached, build, image, registryDigest, repo, tc } from "./kit.js";
import { s2iBuilderFiles } from "./s2i-builder.js";

/** The shared small S2I builder: assemble copies the source and counts builds through saved artifacts. */
function s2iBuilderRepo() {
  return repo("e2e-s2i-builder", { files: s2iBuilderFiles(tc().busybox) });
}

/** A custom builder: builds the source's Dockerfile with buildah and reports the pushed digest. */
function customBuilderRepo() {
  const script = [
    "#!/bin/sh", "set -eu",
    "echo \"custom builder for $OUTPUT_REGISTRY/$OUTPUT_IMAGE from ${SOURCE_URI:-upload} at ${SOURCE_REF:-default}\"",
    "echo \"$BUILD\" | grep -q '\"strategy\":{\"type\":\"custom\"'",
    "cd \"$BUILDPOD_SOURCE_DIR\"",
    "buildah --storage-driver=vfs bud --isolation=chroot --tls-verify=false --timestamp 0 -t \"$OUTPUT_REGISTRY/$OUTPUT_IMAGE\" .",
    "buildah --storage-driver=vfs push --tls-verify=false --digestfile /tmp/digest \"$OUTPUT_REGISTRY/$OUTPUT_IMAGE\"",
    "printf '{\"digest\":\"%s\"}' \"$(cat /tmp/digest)\" > /dev/termination-log",
    // Asked for provenance: the digest where the provenance container after this one reads it.
    "if [ -n \"${BUILDPOD_DIGEST_FILE:-}\" ]; then cp /tmp/digest \"$BUILDPOD_DIGEST_FILE\"; fi",
    "echo \"custom build mode: $MODE\"",
  ].join("\n") + "\n";
  return repo("e2e-custom-builder", {
    files: {
      Dockerfile: `FROM ${tc().builder}\nCOPY build.sh /usr/local/bin/custom-build\nRUN chmod 755 /usr/local/bin/custom-build\nCMD ["/usr/local/bin/custom-build"]\n`,
      "build.sh": script,
    },
  });
}

describe("source strategy (S2I)", () => {
  let builder: string;
  let app: Awaited<ReturnType<typeof repo>>;

  beforeAll(async () => {
    const r = await s2iBuilderRepo();
    builder = image("s2i-builder:1");
    const made = await build({ source: { git: { url: r.url } }, output: { image: builder } });
    expect(made.result.status, made.result.message).toBe("Complete");
    app = await repo("e2e-s2i-app", { files: { "hello.txt": "hello from s2i\n" } });
  });

  it("builds with the builder's assemble script, as the builder's user, with env", async () => {
    const { result, lines } = await build({
      source: { git: { url: app.url } },
      strategy: { type: "source", builderImage: builder, env: { GREETING: "hi there" } },
      output: { image: image("s2i-app:fresh") },
    });
    expect(result.status, `${result.message}\n${result.logTail?.join("\n")}`).toBe("Complete");
    const log = lines.build.join("\n");
    expect(log).toContain("no artifacts: first build");
    expect(log).toContain("assembled with GREETING=hi there as uid 1001");
    expect(await registryDigest(image("s2i-app:fresh"))).toBe(result.digest);
    expect(result.provenance).toMatch(new RegExp(`^${image("s2i-app")}@sha256:[a-f0-9]{64}$`));
  });

  it("incremental: the first build says it starts fresh, the rebuild restores saved artifacts", async () => {
    const first = await build({
      source: { git: { url: app.url } },
      strategy: { type: "source", builderImage: builder, incremental: true },
      output: { image: image("s2i-app:incremental") },
    });
    expect(first.result.status, `${first.result.message}\n${first.result.logTail?.join("\n")}`).toBe("Complete");
    expect(first.lines.build.join("\n")).toMatch(/no previous image .* building from scratch/);
    const second = await build({
      source: { git: { url: app.url } },
      strategy: { type: "source", builderImage: builder, incremental: true },
      output: { image: image("s2i-app:incremental") },
    });
    expect(second.result.status, `${second.result.message}\n${second.result.logTail?.join("\n")}`).toBe("Complete");
    const log = second.lines.build.join("\n");
    expect(log).toContain("incremental build: restoring the artifacts saved by");
    expect(log).toContain("restoring artifacts: 1 earlier build(s)");
    expect(log).toContain("dependencies: restored from artifacts");
    expect(second.result.digest).not.toBe(first.result.digest);
  });
});

describe("custom strategy", () => {
  it("runs the user's builder with the build handed over, and reports the digest it pushed, with provenance when asked", async () => {
    const r = await customBuilderRepo();
    const builder = image("custom-builder:1");
    const made = await build({ source: { git: { url: r.url } }, output: { image: builder } });
    expect(made.result.status, made.result.message).toBe("Complete");
    const app = await repo("e2e-custom-app", { files: { Dockerfile: `FROM ${tc().busybox}\nRUN echo custom > /made-by\n` } });
    const { result, lines } = await build({
      source: { git: { url: app.url, ref: "main" } },
      strategy: { type: "custom", builderImage: builder, env: { MODE: "release" } },
      output: { image: image("custom-app:1"), provenance: true },
    });
    expect(result.status, `${result.message}\n${result.logTail?.join("\n")}`).toBe("Complete");
    const log = lines.build.join("\n");
    expect(log).toContain(`custom builder for ${image("custom-app:1")} from ${app.url} at main`);
    expect(log).toContain("custom build mode: release");
    expect(result.digest).toMatch(/^sha256:/);
    expect(await registryDigest(image("custom-app:1"))).toBe(result.digest);
    // Attached by the provenance container after the builder, naming the builder's image.
    expect(lines.provenance?.join("\n")).toContain(`attached the provenance ${result.provenance!.split("@")[1]}`);
    const [found] = await attached(image("custom-app:1"), result.digest!);
    expect(found!.manifest.subject.digest).toBe(result.digest);
    expect(found!.statement.predicate.runDetails.builder).toMatchObject({ id: "https://buildpod.dev/builders/custom", builderDependencies: [{ uri: `oci://${builder}` }] });
    expect(found!.statement.predicate.buildDefinition.resolvedDependencies[0].digest.gitCommit).toBe(app.head);
  });
});
