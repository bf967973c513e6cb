// A build for linux/amd64 and linux/arm64 on the test cluster (an amd64 node that runs arm64 binaries under
// QEMU): one Job per platform, owned by the index Job, which pushes an OCI index of their images under the
// build's tags, with provenance for each; the same source gives the same index; one platform failing fails
// the build and cancels the other; a platform the cluster cannot build refuses it before anything is made.
import { beforeAll, describe, expect, it } from "vitest";
import { run } from "../cluster/infra/proc.js";
import { attached, build, cluster, image, indexPlatforms, registryDigest, repo, tc } from "./kit.js";

const NS = "default";
const PLATFORMS = ["linux/amd64", "linux/arm64"];
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

let app: Awaited<ReturnType<typeof repo>>;

beforeAll(async () => {
  if (!tc().busyboxMulti) return;
  app = await repo("e2e-multi", {
    commits: [{ files: { Dockerfile: `FROM ${tc().busyboxMulti}\nRUN echo "built on $(uname -m)" && uname -m > /arch\n` }, message: "first" }],
  });
});

/** The Jobs of the build named NAME. */
async function jobsOf(name: string): Promise<any[]> {
  const c = await cluster();
  const list = await c.call<{ items: any[] }>("listing Jobs", "GET", `/apis/batch/v1/namespaces/${NS}/jobs`, { query: { labelSelector: `buildpod.dev/build=${name}` } });
  return list.items;
}

async function architecture(ref: string): Promise<string> {
  const config = await run("skopeo", ["inspect", "--config", "--tls-verify=false", `docker://${ref}`], { env: tc().podmanEnv });
  return JSON.parse(config.stdout).architecture;
}

describe.skipIf(!tc().busyboxMulti)("a build for linux/amd64 and linux/arm64", () => {
  it("pushes an index of both platforms' images under the build's tags, each with its provenance; the same source gives the same index", async () => {
    const raw = (tag: string) => ({
      name: "multi", source: { git: { url: app.url, ref: "main" } },
      output: { image: image(`multi:${tag}`), tags: [`${tag}-also`, image(`multi-mirror:${tag}`)], platforms: PLATFORMS }, scheduling: { emulate: true },
    });
    const { result, lines, progress } = await build(raw("1"));
    expect(result.status, `${result.message}\n${result.logTail?.join("\n")}`).toBe("Complete");

    // The index: under the image and its tag, listing each platform's image, which is under its own tag.
    expect(result.platforms?.map((p) => [p.platform, p.status])).toEqual([["linux/amd64", "Complete"], ["linux/arm64", "Complete"]]);
    expect(result.imageRef).toBe(`${image("multi")}@${result.digest}`);
    expect(await registryDigest(image("multi:1"))).toBe(result.digest);
    expect(await registryDigest(image("multi:1-also"))).toBe(result.digest);
    // In another repository, with the platforms' images it lists.
    expect(await registryDigest(image("multi-mirror:1"))).toBe(result.digest);
    expect(await indexPlatforms(image("multi-mirror:1"))).toEqual(await indexPlatforms(image("multi:1")));
    const [amd64, arm64] = result.platforms!;
    expect(await indexPlatforms(image("multi:1"))).toEqual({ "linux/amd64": amd64!.digest, "linux/arm64": arm64!.digest });
    expect(await registryDigest(image("multi:1-linux-arm64"))).toBe(arm64!.digest);
    expect(await architecture(arm64!.imageRef!)).toBe("arm64");
    expect(await architecture(amd64!.imageRef!)).toBe("amd64");

    // Logs and progress say which platform they are of; the arm64 RUN step ran arm64 binaries.
    expect(lines["linux/arm64 build"]).toContain("built on aarch64");
    expect(lines["linux/amd64 build"]).toContain("built on x86_64");
    expect(lines.index?.join("\n")).toContain(`pushed ${image("multi:1")}@${result.digest}`);
    expect(progress.some((m) => m.startsWith("linux/arm64: "))).toBe(true);

    // Provenance on the index and on each platform's image, each naming its own subject.
    const onIndex = await attached(image("multi:1"), result.digest!);
    expect(onIndex.map((a) => a.descriptor.digest)).toEqual([result.provenance!.split("@")[1]]);
    expect(onIndex[0]!.manifest.subject.digest).toBe(result.digest);
    expect(onIndex[0]!.statement.subject[0].digest.sha256).toBe(result.digest!.slice(7));
    expect(onIndex[0]!.statement.predicate.buildDefinition.resolvedDependencies[0].digest.gitCommit).toBe(result.source.commit);
    expect((await attached(image("multi-mirror:1"), result.digest!)).map((a) => a.descriptor.digest)).toEqual([result.provenance!.split("@")[1]]);
    for (const p of [amd64!, arm64!]) {
      const found = await attached(image("multi:1"), p.digest!);
      expect(found.map((a) => a.descriptor.digest)).toEqual([p.provenance!.split("@")[1]]);
    }

    // One build: the index Job under the run name owns the platforms' Jobs.
    // (The Job controller counts the pod's success a moment after the pod has ended.)
    let jobs = await jobsOf("multi");
    for (let i = 0; i < 20 && !jobs.find((j) => j.metadata.name === result.run)?.status?.succeeded; i++) {
      await sleep(500);
      jobs = await jobsOf("multi");
    }
    const index = jobs.find((j) => j.metadata.name === result.run);
    expect(index?.status?.succeeded).toBe(1);
    const owned = jobs.filter((j) => j.metadata.ownerReferences?.[0]?.uid === index.metadata.uid).map((j) => j.metadata.name).sort();
    expect(owned).toEqual([amd64!.run, arm64!.run].sort());

    const again = await build(raw("2"));
    expect(again.result.status, again.result.message).toBe("Complete");
    expect(again.result.digest).toBe(result.digest);
  });

  it("the layer cache keeps each platform's steps apart: a rebuild takes both from it, each its own", async () => {
    // The step writes a random value and what the machine is: had it run again, the image would differ. What it
    // prints is not in its own text, which the log shows as the step starts.
    const dockerfile = `FROM ${tc().busyboxMulti}\nRUN echo "step $((1 + 1)) ran on $(uname -m)" && uname -m > /arch && cat /proc/sys/kernel/random/uuid > /stamp\n`;
    const raw = (tag: string) => ({
      name: "multi-cache", source: { dockerfile }, output: { image: image(`multi-cache:${tag}`), platforms: PLATFORMS },
      scheduling: { emulate: true }, cache: { repository: image("multi-layer-cache") },
    });
    const first = await build(raw("1"));
    expect(first.result.status, first.result.message).toBe("Complete");
    expect(first.lines["linux/arm64 build"]).toContain("step 2 ran on aarch64");
    const cacheTags = await run("skopeo", ["list-tags", "--tls-verify=false", `docker://${image("multi-layer-cache")}`], { env: tc().podmanEnv });
    expect(JSON.parse(cacheTags.stdout).Tags).toHaveLength(2);

    const second = await build(raw("2"));
    expect(second.result.status, second.result.message).toBe("Complete");
    for (const p of PLATFORMS) {
      expect(second.lines[`${p} build`]!.join("\n")).not.toContain("step 2 ran on");
      expect(second.lines[`${p} build`]!.join("\n")).toContain("Using cache");
    }
    expect(second.result.platforms!.map((p) => p.digest)).toEqual(first.result.platforms!.map((p) => p.digest));
    expect(second.result.digest).toBe(first.result.digest);
  });

  it("one platform failing fails the build, naming it, and cancels the other: nothing is left", async () => {
    const dockerfile = `FROM ${tc().busyboxMulti}\nRUN if [ "$(uname -m)" = aarch64 ]; then echo "not on arm64"; exit 3; fi; sleep 300\n`;
    const { result } = await build({
      name: "multi-fail", source: { dockerfile }, output: { image: image("multi-fail:1"), platforms: PLATFORMS }, scheduling: { emulate: true },
    });
    expect(result.status).toBe("Failed");
    expect(result.message).toMatch(/^the linux\/arm64 build failed: .*exit code 3.*; the other platforms' builds were cancelled$/);
    expect(result.logTail).toContain("not on arm64");
    expect(result.platforms?.map((p) => [p.platform, p.status])).toEqual([["linux/amd64", "Cancelled"], ["linux/arm64", "Failed"]]);
    // Deleted: the index and the amd64 build at once, the arm64 build with the index (garbage collector).
    let left = await jobsOf("multi-fail");
    for (let i = 0; i < 60 && left.length; i++) {
      await sleep(1000);
      left = await jobsOf("multi-fail");
    }
    expect(left.map((j) => j.metadata.name)).toEqual([]);
  });

  it("without --emulate, a platform the cluster has no node of refuses the build before anything is created", async () => {
    const attempt = build({ name: "multi-refused", source: { git: { url: app.url } }, output: { image: image("multi-refused:1"), platforms: PLATFORMS } });
    await expect(attempt).rejects.toMatchObject({ reason: "PlatformUnavailable" });
    await expect(attempt).rejects.toThrow(/no linux\/arm64 node/);
    expect(await jobsOf("multi-refused")).toEqual([]);
  });
});
