// docker strategy with buildah, on the test cluster, pushing to the real loopback registry.
import { execFileSync } from "node:child_process";
import { chmodSync, mkdirSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { run } from "../cluster/infra/proc.js";
import type { UploadReport } from "../../core/index.js";
import { build, image, registryDigest, repo, tc } from "./kit.js";

let app: Awaited<ReturnType<typeof repo>>;

beforeAll(async () => {
  const from = tc().busybox;
  app = await repo("e2e-app", {
    commits: [
      { files: { Dockerfile: `FROM ${from}\nRUN echo one > /version\n` }, message: "first" },
      { files: { Dockerfile: `FROM ${from}\nCOPY . /src\nRUN echo two > /version && test -f /src/Dockerfile\n` }, message: "second" },
    ],
    tag: "v2",
  });
});

describe("Git history", () => {
  it("--depth: the tree alone by default; n commits, or all with every tag, with the source's .git kept", async () => {
    const dockerfile = `FROM ${tc().builder}\nCOPY . /src\nRUN if [ -d /src/.git ]; then echo "commits $(git -C /src rev-list --count HEAD)"; git -C /src describe --tags || echo no-tag; else echo no-git; fi\n`;
    const history = await repo("e2e-history", {
      commits: [
        { files: { Dockerfile: dockerfile, "a.txt": "1\n" } },
        { files: { "a.txt": "2\n" } },
        { files: { "a.txt": "3\n" } },
      ],
      tag: "v3",
    });
    const run = async (depth?: number) => {
      const git = { url: history.url, ref: "main", ...(depth === undefined ? {} : { depth }) };
      const { result, lines } = await build({ source: { git }, output: { image: image(`history:${depth ?? "default"}`) } });
      expect(result.status, result.message).toBe("Complete");
      expect(result.source.commit).toBe(history.head);
      return lines.build.join("\n");
    };
    expect(await run()).toMatch(/^no-git$/m);
    const two = await run(2);
    expect(two).toMatch(/^commits 2$/m);
    expect(two).toMatch(/^no-tag$/m);
    const all = await run(0);
    expect(all).toMatch(/^commits 3$/m);
    expect(all).toMatch(/^v3$/m);
  });
});

describe("docker strategy, buildah, from Git", () => {
  it("builds a branch, reports the commit and the digest the registry serves", async () => {
    const { result, lines } = await build({ source: { git: { url: app.url, ref: "main" } }, output: { image: image("app:branch") } });
    expect(result.status, result.message).toBe("Complete");
    expect(result.source.commit).toBe(app.head);
    expect(result.source.commitTime).toBe(new Date(app.headTime * 1000).toISOString());
    expect(result.digest).toMatch(/^sha256:[a-f0-9]{64}$/);
    expect(await registryDigest(image("app:branch"))).toBe(result.digest);
    expect(result.imageRef).toBe(`${image("app")}@${result.digest}`);
    expect(lines.source.join("\n")).toContain(`checked out ${app.head}`);
    expect(lines.build.join("\n")).toMatch(/STEP 1\/\d+: FROM /);
  });

  it("labels the image with the commit and its time; labels the request gives win; an upload without a date has neither", async () => {
    const labelsOf = async (ref: string) =>
      (JSON.parse((await run("skopeo", ["inspect", "--tls-verify=false", `docker://${ref}`], { env: tc().podmanEnv })).stdout) as { Labels: Record<string, string> }).Labels ?? {};
    const { result } = await build({ source: { git: { url: app.url, ref: "main" } }, output: { image: image("app:labels") } });
    expect(result.status, result.message).toBe("Complete");
    expect(await labelsOf(image("app:labels"))).toMatchObject({
      "org.opencontainers.image.revision": app.head,
      "org.opencontainers.image.created": new Date(app.headTime * 1000).toISOString().replace(".000Z", "Z"),
    });
    const own = await build({ source: { git: { url: app.url, ref: "main" } }, output: { image: image("app:own-labels"), labels: { "org.opencontainers.image.revision": "mine" } } });
    expect((await labelsOf(image("app:own-labels")))["org.opencontainers.image.revision"]).toBe("mine");
    expect(own.result.status).toBe("Complete");
    const dir = mkdtempSync(join(tmpdir(), "buildpod-nolabels-"));
    writeFileSync(join(dir, "Dockerfile"), `FROM ${tc().busybox}\nRUN true\n`);
    await build({ source: { binary: { dir } }, output: { image: image("app:no-labels") } });
    const none = await labelsOf(image("app:no-labels"));
    expect(none["org.opencontainers.image.created"]).toBeUndefined();
    expect(none["org.opencontainers.image.revision"]).toBeUndefined();
  });

  it("builds a tag and an older commit by SHA", async () => {
    const tagged = await build({ source: { git: { url: app.url, ref: "v2" } }, output: { image: image("app:tag") } });
    expect(tagged.result.status, tagged.result.message).toBe("Complete");
    expect(tagged.result.source.commit).toBe(app.head);
    const old = await build({ source: { git: { url: app.url, ref: app.commits[0] } }, output: { image: image("app:sha") } });
    expect(old.result.status, old.result.message).toBe("Complete");
    expect(old.result.source.commit).toBe(app.commits[0]);
    expect(old.lines.build.join("\n")).not.toContain("COPY . /src");
  });

  it("gives the same digest for the same inputs, built twice", async () => {
    const a = await build({ source: { git: { url: app.url, ref: "v2" } }, output: { image: image("app:again-a") } });
    const b = await build({ source: { git: { url: app.url, ref: "v2" } }, output: { image: image("app:again-b") } });
    expect(a.result.status).toBe("Complete");
    expect(b.result.digest).toBe(a.result.digest);
  });

  it("pushes extra tags", async () => {
    const { result } = await build({ source: { git: { url: app.url, ref: "main" } }, output: { image: image("tagged:1.0"), tags: ["latest", "1"] } });
    expect(result.status, result.message).toBe("Complete");
    expect(await registryDigest(image("tagged:latest"))).toBe(result.digest);
    expect(await registryDigest(image("tagged:1"))).toBe(result.digest);
  });

  it("passes build arguments, builds a target stage, with a Dockerfile outside the context", async () => {
    const from = tc().busybox;
    const r = await repo("e2e-args", {
      files: {
        "build/app.Dockerfile": `FROM ${from} AS base\nARG GREETING\nRUN test "$GREETING" = "hello world"\nCOPY . /ctx\nRUN test -f /ctx/main.txt && test ! -e /ctx/app.Dockerfile\nFROM base AS broken\nRUN false\n`,
        "app/main.txt": "main\n",
      },
    });
    const { result } = await build({
      source: { git: { url: r.url }, contextDir: "app" },
      strategy: { dockerfile: "build/app.Dockerfile", target: "base", buildArgs: { GREETING: "hello world" } },
      output: { image: image("args:1") },
    });
    expect(result.status, `${result.message}\n${result.logTail?.join("\n")}`).toBe("Complete");
  });
});

describe("docker strategy, buildah, from binary input", () => {
  const from = () => tc().busybox;

  function workspace(): string {
    const dir = mkdtempSync(join(tmpdir(), "buildpod-ctx-"));
    writeFileSync(join(dir, "Dockerfile"), `FROM ${from()}\nCOPY . /ctx\nRUN test -f /ctx/keep.txt && test ! -e /ctx/.git && test ! -e /ctx/secret.env && test ! -e /ctx/logs && test -f /ctx/.dockerignore\n`);
    writeFileSync(join(dir, "keep.txt"), "keep\n");
    writeFileSync(join(dir, "secret.env"), "TOKEN=x\n");
    writeFileSync(join(dir, ".dockerignore"), "secret.env\nlogs\n");
    mkdirSync(join(dir, "logs"));
    writeFileSync(join(dir, "logs", "big.log"), "x".repeat(100_000));
    execFileSync("git", ["init", "-q", dir]);
    return dir;
  }

  it("uploads a directory, leaving out .git and what .dockerignore names", async () => {
    const dir = workspace();
    const { result, progress } = await build({ source: { binary: { dir } }, output: { image: image("upload:dir") } });
    expect(result.status, `${result.message}\n${result.logTail?.join("\n")}`).toBe("Complete");
    expect(progress.join("\n")).toMatch(/uploaded 3 files/);
    expect(await registryDigest(image("upload:dir"))).toBe(result.digest);
    expect(result.source.commit).toBeUndefined();
  });

  it("uploads a big directory as two archives side by side, then restores a read-only directory's mode", async () => {
    // 4,500 files cost over 64 MB at 16 kB each (core/upload.ts): two parts, then the finishing session.
    const dir = mkdtempSync(join(tmpdir(), "buildpod-big-"));
    for (let d = 0; d < 45; d++) {
      mkdirSync(join(dir, `d${d}`));
      for (let f = 0; f < 100; f++) writeFileSync(join(dir, `d${d}`, `f${f}`), `${d}/${f}\n`);
    }
    mkdirSync(join(dir, "ro"));
    writeFileSync(join(dir, "ro", "kept"), "kept\n");
    chmodSync(join(dir, "ro"), 0o555);
    writeFileSync(join(dir, "Dockerfile"), `FROM ${from()}\nCOPY . /src\nRUN test "$(find /src -type f | wc -l)" = 4502 && test "$(stat -c %a /src/ro)" = 555 && grep -q 44/99 /src/d44/f99\n`);
    let report: UploadReport | undefined;
    const { result } = await build({ source: { binary: { dir } }, output: { image: image("upload:big") } }, { onUpload: (r) => (report = r) });
    chmodSync(join(dir, "ro"), 0o755);
    expect(result.status, `${result.message}\n${result.logTail?.join("\n")}`).toBe("Complete");
    expect(report).toMatchObject({ files: 4502, parts: 2, attempts: 1 });
  });

  it("uploads an archive", async () => {
    const dir = mkdtempSync(join(tmpdir(), "buildpod-arc-"));
    writeFileSync(join(dir, "Dockerfile"), `FROM ${from()}\nCOPY hello.txt /hello.txt\nRUN grep -q archived /hello.txt\n`);
    writeFileSync(join(dir, "hello.txt"), "archived\n");
    const archive = join(mkdtempSync(join(tmpdir(), "buildpod-arc-out-")), "ctx.tar.gz");
    execFileSync("tar", ["-czf", archive, "-C", dir, "."]);
    const { result } = await build({ source: { binary: { archive } }, output: { image: image("upload:archive") } });
    expect(result.status, `${result.message}\n${result.logTail?.join("\n")}`).toBe("Complete");
    expect(await registryDigest(image("upload:archive"))).toBe(result.digest);
  });

  it("builds an inline Dockerfile with no source", async () => {
    const { result } = await build({ source: { dockerfile: `FROM ${from()}\nRUN echo inline > /inline\n` }, output: { image: image("inline:1") } });
    expect(result.status, result.message).toBe("Complete");
    expect(await registryDigest(image("inline:1"))).toBe(result.digest);
  });
});

describe("docker strategy, buildah, registry layer cache", () => {
  // The slow step writes a random value: had it run again, the image (and its digest) would differ. What
  // it prints ("slow step ran: 42") is not in its own text, which the log shows as the step starts.
  const RAN = "slow step ran: 42";
  const dockerfile = () => `FROM ${tc().busybox}\nRUN echo "slow step ran: $((40 + 2))" && sleep 3 && cat /proc/sys/kernel/random/uuid > /stamp\nRUN echo after > /after\n`;
  const cache = () => ({ repository: image("layer-cache") });
  const cacheTags = async () => {
    const r = await run("skopeo", ["list-tags", "--tls-verify=false", `docker://${cache().repository}`], { env: tc().podmanEnv, check: false });
    return r.code === 0 ? (JSON.parse(r.stdout) as { Tags: string[] }).Tags.sort() : [];
  };
  let first: Awaited<ReturnType<typeof build>>;

  it("a fresh build pod takes the slow step's layer from the cache repository: step not run, same digest", async () => {
    first = await build({ source: { dockerfile: dockerfile() }, output: { image: image("cached:1") }, cache: cache() });
    expect(first.result.status, `${first.result.message}\n${first.result.logTail?.join("\n")}`).toBe("Complete");
    expect(first.lines.build.join("\n")).toContain(RAN);
    // One cache entry per step that ran, pushed to the registry.
    expect(await cacheTags()).toHaveLength(2);

    const second = await build({ source: { dockerfile: dockerfile() }, output: { image: image("cached:2") }, cache: cache() });
    expect(second.result.status, second.result.message).toBe("Complete");
    const log = second.lines.build.join("\n");
    expect(log).not.toContain(RAN);
    expect(log).toMatch(/Cache pulled from remote .*layer-cache/);
    expect(log).toContain("Using cache");
    expect(second.result.digest).toBe(first.result.digest);
    expect(await registryDigest(image("cached:2"))).toBe(first.result.digest);
  });

  it("read mode reuses the cache and adds nothing to it", async () => {
    const before = await cacheTags();
    const changed = `${dockerfile()}RUN echo new step > /new\n`;
    const { result, lines } = await build({ source: { dockerfile: changed }, output: { image: image("cached:read") }, cache: { ...cache(), mode: "read" } });
    expect(result.status, result.message).toBe("Complete");
    const log = lines.build.join("\n");
    expect(log).not.toContain(RAN);
    expect(log).toContain("Using cache");
    expect(log).not.toContain("Pushing cache");
    expect(await cacheTags()).toEqual(before);
  });
});
