// The command as users run it: the committed bundle through bin/buildpod.js; and, for what the bundle may
// not hold yet until it is rebuilt, the same main() from source, in process.
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { parse as parseYaml } from "yaml";
import { main } from "../../adapters/cli/main.js";
import { VERSION } from "../../core/index.js";
import { expectValidObject } from "./schema.js";
import { buildOf } from "./pod.js";

const BIN = join(import.meta.dirname, "../../bin/buildpod.js");

function buildpod(...args: string[]) {
  return buildpodEnv({}, ...args);
}

function buildpodEnv(env: Record<string, string>, ...args: string[]) {
  const r = spawnSync(process.execPath, [BIN, ...args], { encoding: "utf8", env: { ...process.env, ...env } });
  return { code: r.status, out: r.stdout, err: r.stderr };
}

async function fromSource(...args: string[]) {
  let out = "";
  let err = "";
  const code = await main(args, { out: (s) => void (out += s), err: (s) => void (err += s) });
  return { code, out, err };
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

  it("renders a build for several platforms as its Jobs: the suspended index and one per platform", () => {
    const r = buildpod("render", "--git", "https://git.example.com/a.git", "-t", "registry.example.com/a:1", "--platform", "linux/amd64,linux/arm64", "--id", "x2k4z", "-o", "json");
    expect(r.err).toBe("");
    const list = JSON.parse(r.out);
    expect(list.kind).toBe("List");
    expect(list.items.map((o: any) => o.metadata.name)).toEqual(["a-x2k4z", "a-x2k4z-amd64", "a-x2k4z-arm64"]);
    expect(list.items[0].spec.suspend).toBe(true);
    for (const o of list.items) expectValidObject(o);
    const yaml = buildpod("render", "--git", "https://git.example.com/a.git", "-t", "registry.example.com/a:1", "--platform", "linux/amd64", "--platform", "linux/arm64");
    expect(yaml.out.split("\n---\n")).toHaveLength(3);
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
    expect(buildOf(spec).args).toEqual(expect.arrayContaining(["--build-arg=A=from-file", "--build-arg=B=from-flag"]));
  });

  it("takes tool image mirrors from the environment, under the flags", () => {
    const env = { BUILDPOD_IMAGE_SOURCE: "mirror.example.com/git:1", BUILDPOD_IMAGE_BUILDAH: "mirror.example.com/buildah:1" };
    const spec = JSON.parse(buildpodEnv(env, "render", ...GIT, "-o", "json", "--buildah-image", "other.example.com/buildah:2").out).spec.template.spec;
    expect(spec.initContainers[0].image).toBe("mirror.example.com/git:1");
    expect(buildOf(spec).image).toBe("other.example.com/buildah:2");
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
    expect(r.err).toMatch(/unknown option '--imagee'|--imagee: unknown option/);
  });
});

describe("from source: bad input gives exit 2 and one line that names the field", () => {
  const cases: [string[], RegExp][] = [
    [["--delete-after", "100000d"], /^--delete-after \(deleteAfter\): "100000d" is too long: .*ttlSecondsAfterFinished.*; give 24855d or less$/],
    [["--timeout", "100000000000000000000d"], /^--timeout \(timeout\): .* is too long: .*activeDeadlineSeconds/],
    [["--start-timeout", "30000d"], /^--start-timeout \(startTimeout\): "30000d" is too long/],
    [["--source-date-epoch", "1e30"], /^--source-date-epoch \(source\.sourceDateEpoch\): must be a whole number of seconds since 1970/],
    [["--affinity", "{nodeAffinity: garbage}"], /^--affinity \(scheduling\.affinity\.nodeAffinity\): must be a NodeAffinity/],
    [["--affinity", "{nodeAffinity: "], /^--affinity: is not valid JSON or YAML/],
    [["--toleration", "spot=yes please"], /^--toleration \(scheduling\.tolerations\[0\]\): "yes please" is not a valid Kubernetes label value/],
    [["--strategy", "source", "--builder-image", "registry.example.com/s2i/python:3", "--inline-dockerfile", "FROM busybox"], /^--inline-dockerfile \(source\.dockerfile\): does not apply to the source strategy/],
    [["--builder", "docker", "--allow-docker-socket", "--insecure-registry"], /^--insecure-registry \(output\.insecure\): does not apply to the docker builder: .*Docker daemon/],
    [["--strategy", "custom", "--builder-image", "registry.example.com/b:1", "-e", "SOURCE_REF=main"], /^--env \(strategy\.env\.SOURCE_REF\): "SOURCE_REF" is set by buildpod for the custom builder/],
  ];
  for (const [args, message] of cases) {
    it(args.join(" ").slice(0, 60), async () => {
      const r = await fromSource("render", ...GIT, ...args);
      expect(r.code).toBe(2);
      expect(r.out).toBe("");
      const lines = r.err.trimEnd().split("\n");
      expect(lines).toHaveLength(1);
      expect(lines[0]).toMatch(/^buildpod: error: /);
      expect(lines[0].slice("buildpod: error: ".length)).toMatch(message);
    });
  }

  it("a build file with a broken affinity", async () => {
    const file = join(mkdtempSync(join(tmpdir(), "buildpod-")), "buildpod.yaml");
    writeFileSync(file, "scheduling:\n  affinity:\n    nodeAffinity: garbage\n");
    const r = await fromSource("render", "-f", file, ...GIT);
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/^buildpod: error: scheduling\.affinity\.nodeAffinity: must be a NodeAffinity, a mapping with any of requiredDuringSchedulingIgnoredDuringExecution, preferredDuringSchedulingIgnoredDuringExecution \(not "garbage"\)\n$/);
  });
});

describe("from source: the command line's own errors are one buildpod line and one hint", () => {
  const cases: [string[], string, string][] = [
    [["render", ...GIT, "--imagee", "x"], "--imagee: unknown option (did you mean --image?)", "(see buildpod render --help)"],
    [["render", ...GIT, "--timeout"], "--timeout: needs a value, as in --timeout <duration>", "(see buildpod render --help)"],
    [["render", ...GIT, "-o", "xml"], '--output: unknown value "xml"; choose one of yaml, json', "(see buildpod render --help)"],
    [["bogus"], "bogus: unknown command; the commands are render, run, logs, cancel, prune", "(see buildpod --help)"],
    [["--bogus"], "--bogus: unknown option", "(see buildpod --help)"],
    [["logs"], "logs: the argument <build> is missing; usage: buildpod logs [options] <build>", "(see buildpod logs --help)"],
    [["render", "app", ...GIT], "render: too many arguments (app); usage: buildpod render [options]", "(see buildpod render --help)"],
    [["prune", "--keep-failed"], "--keep-failed: needs a value, as in --keep-failed <n>", "(see buildpod prune --help)"],
  ];
  for (const [args, error, hint] of cases) {
    it(args.filter((a) => !GIT.includes(a)).join(" "), async () => {
      const r = await fromSource(...args);
      expect(r.code).toBe(2);
      expect(r.out).toBe("");
      expect(r.err).toBe(`buildpod: error: ${error}\n${hint}\n`);
    });
  }

  it("help and version still succeed", async () => {
    const help = await fromSource("render", "--help");
    expect(help.code).toBe(0);
    expect(help.err).toBe("");
    expect((await fromSource("--version")).out.trim()).toBe(VERSION);
  });
});

describe("from source: --affinity", () => {
  const ANTI = '{"podAntiAffinity": {"preferredDuringSchedulingIgnoredDuringExecution": [{"weight": 10, "podAffinityTerm": {"topologyKey": "kubernetes.io/hostname", "labelSelector": {"matchLabels": {"buildpod.dev/build": "app"}}}}]}}';

  it("is documented in render --help", async () => {
    const r = await fromSource("render", "--help");
    expect(r.out).toMatch(/\n  --affinity <json> +node and pod affinity/);
  });

  it("renders onto the pod, schema-valid, replacing the build file's affinity whole", async () => {
    const file = join(mkdtempSync(join(tmpdir(), "buildpod-")), "buildpod.yaml");
    writeFileSync(file, [
      "scheduling:", "  nodeSelector: {pool: build}", "  affinity:", "    nodeAffinity:",
      "      requiredDuringSchedulingIgnoredDuringExecution:", "        nodeSelectorTerms: [{matchExpressions: [{key: a, operator: Exists}]}]",
    ].join("\n"));
    const fromFile = await fromSource("render", "-f", file, ...GIT, "-o", "json");
    expect(JSON.parse(fromFile.out).spec.template.spec.affinity.nodeAffinity).toBeDefined();
    const r = await fromSource("render", "-f", file, ...GIT, "--affinity", ANTI, "-o", "json");
    expect(r.err).toBe("");
    const job = JSON.parse(r.out);
    expectValidObject(job);
    expect(job.spec.template.spec.affinity).toEqual(JSON.parse(ANTI));
    expect(job.spec.template.spec.nodeSelector).toEqual({ pool: "build" });
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

/** The files of this project a `buildpod` command loads (paths from the root), recorded by a module hook. */
function loadedFiles(...args: string[]): string[] {
  const root = join(import.meta.dirname, "../..");
  const hook = `import { registerHooks } from "node:module";
registerHooks({ load(url, context, next) { if (url.startsWith("file:")) process.stderr.write("loaded " + url + "\\n"); return next(url, context); } });`;
  const r = spawnSync(process.execPath, ["--import", `data:text/javascript,${encodeURIComponent(hook)}`, BIN, ...args], { encoding: "utf8" });
  expect(r.status, r.stderr).toBe(0);
  return [...r.stderr.matchAll(/^loaded file:\/\/(.+)$/gm)].map((m) => m[1].slice(root.length + 1)).sort();
}

describe("start-up: a command loads only what it runs", () => {
  it("--version and help load the entry bundle alone", () => {
    expect(loadedFiles("--version")).toEqual(["bin/buildpod.js", "dist/cli/index.js"]);
    expect(loadedFiles("run", "--help")).toEqual(["bin/buildpod.js", "dist/cli/index.js"]);
    // Nor is the cluster client bundled into it (its transport speaks HTTP/2): a value imported from the
    // cluster's module rather than a type once pulled it all in (89 -> 41 ms of CPU for --version).
    const entry = readFileSync(join(import.meta.dirname, "../../dist/cli/index.js"), "utf8");
    expect(entry.includes("node:http2"), "dist/cli/index.js holds the cluster client").toBe(false);
  });
  it("render loads the renderer, not the cluster commands", () => {
    const files = loadedFiles("render", ...GIT);
    expect(files.length).toBeGreaterThan(2);
    expect(files.filter((f) => !f.startsWith("dist/cli/"))).toEqual(["bin/buildpod.js"]);
  });
});
