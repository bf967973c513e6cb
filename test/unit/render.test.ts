import { describe, expect, it } from "vitest";
import { BUILDER_IMAGES, parseRequest, PATHS, render, s2iDockerfile, SOURCE_IMAGE } from "../../core/index.js";
import { expectValidObject } from "./schema.js";
import { buildOf } from "./pod.js";

const IMAGE = "registry.example.com/team/app:1.0";
const sources = {
  git: { git: { url: "https://git.example.com/team/app.git", ref: "main" } },
  dir: { binary: { dir: "./app" } },
  archive: { binary: { archive: "app.tar.gz" } },
};
const strategies: Record<string, Record<string, unknown>> = {
  "docker/buildah": { type: "docker" },
  "docker/buildkit": { type: "docker", builder: "buildkit" },
  "docker/kaniko": { type: "docker", builder: "kaniko" },
  "docker/docker-socket": { type: "docker", builder: "docker", allowDockerSocket: true },
  "source": { type: "source", builderImage: "registry.example.com/s2i/python:3.12" },
  "source/incremental": { type: "source", builderImage: "registry.example.com/s2i/python:3.12", incremental: true },
  "custom": { type: "custom", builderImage: "registry.example.com/tools/builder:2", env: { MODE: "release" } },
};

function build(strategy: Record<string, unknown>, source: Record<string, unknown>, extra: Record<string, unknown> = {}) {
  return parseRequest({ name: "app", source, strategy, output: { image: IMAGE, pushSecret: "regcred" }, ...extra });
}

const byName = (list: any[] | undefined, name: string) => list?.find((x) => x.name === name);
const envOf = (c: any) => Object.fromEntries((c.env ?? []).map((e: any) => [e.name, e.value]));

describe("every strategy and source renders a schema-valid Job and Pod", () => {
  for (const [sName, strategy] of Object.entries(strategies)) {
    for (const [srcName, source] of Object.entries(sources)) {
      it(`${sName} from ${srcName}`, () => {
        const job: any = render(build(strategy, source), { id: "abcde" });
        expectValidObject(job);
        expect(job.kind).toBe("Job");
        const pod: any = render(build(strategy, source, { workload: "pod" }), { id: "abcde" });
        expectValidObject(pod);
        expect(pod.kind).toBe("Pod");
        expect(pod.spec.activeDeadlineSeconds).toBe(3600);
      });
    }
  }
});

describe("Job", () => {
  const job: any = render(build(strategies["docker/buildah"], sources.git, { timeout: "45m", deleteAfter: "2h", labels: { team: "web" } }), { id: "x7k2p" });
  const spec = job.spec.template.spec;

  it("never retries, has a deadline and a time to live", () => {
    expect(job.spec.backoffLimit).toBe(0);
    expect(job.spec.activeDeadlineSeconds).toBe(45 * 60);
    expect(job.spec.ttlSecondsAfterFinished).toBe(2 * 3600);
    expect(spec.restartPolicy).toBe("Never");
  });

  it("is named for the build and run, and labelled so builds can be found", () => {
    expect(job.metadata.name).toBe("app-x7k2p");
    expect(job.metadata.labels).toMatchObject({
      "app.kubernetes.io/managed-by": "buildpod", "buildpod.dev/build": "app", "buildpod.dev/run": "app-x7k2p", team: "web",
    });
    expect(job.spec.template.metadata.labels).toEqual(job.metadata.labels);
    expect(job.metadata.annotations["buildpod.dev/image"]).toBe(IMAGE);
  });

  it("keeps the build pod away from the cluster API", () => {
    expect(spec.automountServiceAccountToken).toBe(false);
  });

  it("lets failing containers report their log tail", () => {
    for (const c of [...spec.initContainers, ...spec.containers]) expect(c.terminationMessagePolicy).toBe("FallbackToLogsOnError");
  });
});

describe("docker strategy builders", () => {
  const containerFor = (strategy: Record<string, unknown>, source: Record<string, unknown> = sources.git, extra = {}) => {
    const job: any = render(build(strategy, source, extra), { id: "abcde" });
    return { job, spec: job.spec.template.spec, c: buildOf(job.spec.template.spec) };
  };

  it("buildah: not privileged, root with SETFCAP, vfs storage on emptyDirs, pushes with the digest file", () => {
    const { spec, c } = containerFor(strategies["docker/buildah"]);
    expect(c.image).toBe(BUILDER_IMAGES.buildah);
    expect(c.securityContext).toMatchObject({ privileged: false, allowPrivilegeEscalation: false, runAsUser: 0, capabilities: { add: ["SETFCAP"] } });
    // RUN steps make a user namespace, which containerd's RuntimeDefault seccomp profile refuses: the node's default applies.
    expect(c.securityContext.seccompProfile).toBeUndefined();
    expect(spec.securityContext.seccompProfile).toBeUndefined();
    expect(c.command.slice(0, 2)).toEqual(["/bin/sh", "-c"]);
    expect(c.command[2]).toContain("bud --isolation=chroot --timestamp \"$epoch\"");
    expect(c.command[2]).toContain("--digestfile");
    const mounts = Object.fromEntries(c.volumeMounts.map((m: any) => [m.name, m.mountPath]));
    expect(mounts).toMatchObject({ workspace: "/workspace", "buildah-storage": "/var/lib/containers", "push-secret": PATHS.pushConfig });
    expect(byName(spec.volumes, "buildah-storage").emptyDir).toEqual({});
    expect(envOf(c)).toMatchObject({ BUILDPOD_IMAGE: IMAGE, BUILDPOD_DOCKERFILE: "/workspace/source/Dockerfile", REGISTRY_AUTH_FILE: `${PATHS.pushConfig}/config.json`, DOCKER_CONFIG: PATHS.pushConfig });
  });

  it("mounts the push secret as config.json, never as environment", () => {
    const { spec, c } = containerFor(strategies["docker/buildah"]);
    expect(byName(spec.volumes, "push-secret").secret).toEqual({ secretName: "regcred", items: [{ key: ".dockerconfigjson", path: "config.json" }], defaultMode: 0o440 });
    expect(c.env.some((e: any) => e.valueFrom)).toBe(false);
    expect(c.envFrom).toBeUndefined();
  });

  it("buildkit: rootless, unconfined seccomp and AppArmor, no process sandbox, metadata file", () => {
    const { c } = containerFor(strategies["docker/buildkit"], sources.git, { output: { image: IMAGE, tags: ["latest"], insecure: true } });
    expect(c.image).toBe(BUILDER_IMAGES.buildkit);
    expect(c.securityContext).toMatchObject({ runAsUser: 1000, runAsNonRoot: true, seccompProfile: { type: "Unconfined" }, appArmorProfile: { type: "Unconfined" } });
    const e = envOf(c);
    expect(e.BUILDKITD_FLAGS).toBe("--oci-worker-no-process-sandbox");
    expect(e.BUILDPOD_OUTPUT).toBe('type=image,"name=registry.example.com/team/app:1.0,registry.example.com/team/app:latest",push=true,rewrite-timestamp=true,registry.insecure=true');
    expect(c.command[2]).toContain("--metadata-file");
    expect(c.volumeMounts.map((m: any) => m.mountPath)).toContain("/home/user/.local/share/buildkit");
  });

  it("kaniko: no shell, digest file for the provenance container, reproducible, every destination", () => {
    const { c } = containerFor({ ...strategies["docker/kaniko"], buildArgs: { VERSION: "1.2" }, target: "runtime" }, sources.git, { output: { image: IMAGE, tags: ["latest", "other.example.com/app:1"] } });
    expect(c.command).toEqual(["/kaniko/executor"]);
    expect(c.args).toEqual(expect.arrayContaining([
      "--context=dir:///workspace/source", "--dockerfile=/workspace/source/Dockerfile", `--destination=${IMAGE}`,
      "--destination=registry.example.com/team/app:latest", "--destination=other.example.com/app:1",
      "--digest-file=/workspace/meta/pushed-digest", "--reproducible", "--build-arg=VERSION=1.2", "--target=runtime",
    ]));
    expect(c.securityContext.capabilities.add).toEqual(["CHOWN", "DAC_OVERRIDE", "FOWNER", "SETGID", "SETUID", "SETFCAP", "KILL"]);
    expect(c.securityContext.privileged).toBe(false);
  });

  it("docker socket: mounts the node's socket only when allowed", () => {
    const { spec, c } = containerFor(strategies["docker/docker-socket"]);
    expect(byName(spec.volumes, "docker-socket").hostPath).toEqual({ path: "/var/run/docker.sock", type: "Socket" });
    expect(envOf(c).DOCKER_HOST).toBe("unix:///var/run/docker.sock");
    expect(() => build({ type: "docker", builder: "docker" }, sources.git)).toThrow(/strategy.builder.*allowDockerSocket/);
  });

  it("passes build args, labels and target as arguments, context and Dockerfile from the request", () => {
    const req = parseRequest({
      source: { git: { url: "https://git.example.com/a.git" }, contextDir: "services/api" },
      strategy: { dockerfile: "build/api.Dockerfile", target: "prod", buildArgs: { B: "2", A: "1 2" } },
      output: { image: IMAGE, labels: { "org.opencontainers.image.source": "https://git.example.com/a" } },
    });
    const c: any = buildOf((render(req, { id: "abcde" }) as any).spec.template.spec);
    expect(c.args).toEqual(["--build-arg", "A=1 2", "--build-arg", "B=2", "--label", "org.opencontainers.image.source=https://git.example.com/a", "--target", "prod"]);
    expect(envOf(c)).toMatchObject({ BUILDPOD_CONTEXT: "/workspace/source/services/api", BUILDPOD_DOCKERFILE: "/workspace/source/build/api.Dockerfile" });
  });

  it("no builder runs privileged", () => {
    for (const s of Object.values(strategies)) {
      const spec: any = (render(build(s, sources.git), { id: "abcde" }) as any).spec.template.spec;
      for (const c of [...spec.initContainers, ...spec.containers]) expect(c.securityContext?.privileged ?? false).toBe(false);
    }
  });
});

describe("build secrets", () => {
  const withSecrets = (strategy: Record<string, unknown>, secrets: unknown) =>
    parseRequest({ name: "app", source: sources.git, strategy: { ...strategy, secrets }, output: { image: IMAGE } });

  it("a projected volume of the Secrets' keys, one file per id, mounted read-only into the build container alone", () => {
    for (const name of ["docker/buildah", "docker/buildkit", "docker/docker-socket"]) {
      const req = withSecrets(strategies[name], ["id=npm,secret=tokens,key=npmrc", { id: "pip", secret: "tokens" }, "id=gh,secret=github"]);
      const job: any = render(req, { id: "abcde" });
      expectValidObject(job);
      const spec = job.spec.template.spec;
      expect(byName(spec.volumes, "build-secrets"), name).toEqual({
        name: "build-secrets",
        projected: { defaultMode: 0o440, sources: [
          { secret: { name: "tokens", items: [{ key: "npmrc", path: "npm" }, { key: "pip", path: "pip" }] } },
          { secret: { name: "github", items: [{ key: "gh", path: "gh" }] } },
        ] },
      });
      expect(byName(buildOf(spec).volumeMounts, "build-secrets")).toEqual({ name: "build-secrets", mountPath: "/var/run/buildpod/build-secrets", readOnly: true });
      expect(byName(spec.initContainers[0].volumeMounts, "build-secrets")).toBeUndefined();
      const args: string[] = buildOf(spec).args;
      for (const id of ["npm", "pip", "gh"]) expect(args[args.indexOf(`id=${id},src=/var/run/buildpod/build-secrets/${id}`) - 1]).toBe("--secret");
      expect(envOf(buildOf(spec)).DOCKER_BUILDKIT).toBe(name === "docker/docker-socket" ? "1" : undefined);
    }
  });

  it("checked: ids, names and keys, no id twice; refused where RUN steps cannot mount them", () => {
    const secrets = (value: unknown, strategy = strategies["docker/buildah"]) => () => withSecrets(strategy, value);
    expect(secrets("id=a,secret=s")).toThrow(/^strategy\.secrets: must be a list/);
    expect(secrets(["id=a"])).toThrow(/^strategy\.secrets\[0\]\.secret: is required/);
    expect(secrets(["secret=s"])).toThrow(/^strategy\.secrets\[0\]\.id: is required/);
    expect(secrets(["id=a b,secret=s"])).toThrow(/^strategy\.secrets\[0\]\.id: "a b" may hold only/);
    expect(secrets(["id=a,secret=Not_A_Name"])).toThrow(/^strategy\.secrets\[0\]\.secret:/);
    expect(secrets(["id=a,secret=s,key=a/b"])).toThrow(/^strategy\.secrets\[0\]\.key: "a\/b" is not a valid Secret key/);
    expect(secrets(["id=a,secret=s,src=/etc/passwd"])).toThrow(/^strategy\.secrets\[0\]\.src: unknown field; a build secret has id, secret, key/);
    expect(secrets(["id=a,secret=s", "id=a,secret=t"])).toThrow(/^strategy\.secrets\[1\]\.id: "a" is given twice/);
    expect(secrets(["id=a,secret=s"], strategies["docker/kaniko"])).toThrow(/^strategy\.secrets: the kaniko builder cannot mount build secrets into RUN steps; use buildah, buildkit, docker/);
    expect(secrets(["id=a,secret=s"], strategies.source)).toThrow(/^strategy\.secrets: does not apply to the source strategy/);
    expect(withSecrets(strategies["docker/buildah"], ["id=a,secret=s"]).strategy).toMatchObject({ secrets: [{ id: "a", secret: "s", key: "a" }] });
  });
});

describe("OCI annotations", () => {
  const ANNOTATIONS = { "org.opencontainers.image.title": "app", "com.example.note": 'a "quoted", comma' };
  const annotated = (strategy: Record<string, unknown>) =>
    parseRequest({ name: "app", source: sources.git, strategy, output: { image: IMAGE, annotations: ANNOTATIONS } });
  const container = (strategy: Record<string, unknown>) => buildOf((render(annotated(strategy), { id: "abcde" }) as any).spec.template.spec);

  it("buildah and S2I: --annotation arguments, never in the script", () => {
    for (const s of [strategies["docker/buildah"], strategies.source]) {
      const args: string[] = container(s).args;
      expect(args).toContain("--annotation");
      expect(args).toContain('com.example.note=a "quoted", comma');
      expect(args[args.indexOf("org.opencontainers.image.title=app") - 1]).toBe("--annotation");
    }
  });

  it("BuildKit: the exporter's attributes, each annotation one CSV field with its quotes doubled", () => {
    expect(envOf(container(strategies["docker/buildkit"])).BUILDPOD_OUTPUT)
      .toMatch(/,"annotation\.com\.example\.note=a ""quoted"", comma","annotation\.org\.opencontainers\.image\.title=app"$/);
  });

  it("custom: handed over as KEY=VALUE lines", () => {
    expect(envOf(container(strategies.custom)).BUILDPOD_OUTPUT_ANNOTATIONS).toBe('com.example.note=a "quoted", comma\norg.opencontainers.image.title=app');
  });

  it("kaniko and the node's Docker daemon cannot: refused, naming those that can", () => {
    for (const s of [strategies["docker/kaniko"], strategies["docker/docker-socket"]]) {
      expect(() => annotated(s)).toThrow(/^output\.annotations: the (kaniko|docker) builder cannot put annotations on the image's manifest; use buildah or buildkit/);
    }
    expect(() => annotated({ type: "docker", builder: "kaniko" })).toThrow();
    expect(parseRequest({ source: sources.git, strategy: strategies["docker/kaniko"], output: { image: IMAGE } }).output.annotations).toEqual({});
  });
});

describe("a build that does not push", () => {
  const noPush = (strategy: Record<string, unknown>) =>
    render(parseRequest({ name: "app", source: sources.git, strategy, output: { image: IMAGE, push: false } }), { id: "abcde" }) as any;

  it("tells every builder, and marks the Job and Pod for the result", () => {
    for (const [name, strategy] of Object.entries(strategies)) {
      const job = noPush(strategy);
      const c = buildOf(job.spec.template.spec);
      expect(job.metadata.annotations["buildpod.dev/push"], name).toBe("false");
      expect(job.spec.template.metadata.annotations["buildpod.dev/push"], name).toBe("false");
      if (name === "docker/kaniko") expect(c.args, name).toContain("--no-push");
      else expect(envOf(c).BUILDPOD_PUSH, name).toBe("false");
      if (name === "docker/buildkit") expect(envOf(c).BUILDPOD_OUTPUT).toMatch(/,push=false,/);
    }
  });

  it("pushes by default, and says nothing then", () => {
    const job: any = render(build(strategies["docker/buildkit"], sources.git), { id: "abcde" });
    const c = buildOf(job.spec.template.spec);
    expect(envOf(c).BUILDPOD_PUSH).toBe("true");
    expect(envOf(c).BUILDPOD_OUTPUT).toMatch(/,push=true,/);
    expect(job.metadata.annotations["buildpod.dev/push"]).toBeUndefined();
    const kaniko: any = render(build(strategies["docker/kaniko"], sources.git), { id: "abcde" });
    expect(buildOf(kaniko.spec.template.spec).args).not.toContain("--no-push");
  });
});

describe("registry layer cache", () => {
  const CACHE = "registry.example.com/team/app-cache";
  const cacheBuild = (strategy: Record<string, unknown>, cache: Record<string, unknown>, output: Record<string, unknown> = {}) => {
    const job: any = render(parseRequest({ name: "app", source: sources.git, strategy, output: { image: IMAGE, pushSecret: "regcred", ...output }, cache }), { id: "abcde" });
    expectValidObject(job);
    return buildOf(job.spec.template.spec);
  };

  it("buildah: commits every step, reads and writes the cache repository, after the build options", () => {
    const c = cacheBuild({ buildArgs: { A: "1" } }, { repository: CACHE });
    expect(c.args).toEqual(["--build-arg", "A=1", "--layers", "--cache-from", CACHE, "--cache-to", CACHE]);
    // The cache is reached with the output's registry settings: TLS choice and the push secret.
    expect(c.command[2]).toContain('--tls-verify="$BUILDPOD_TLS_VERIFY"');
    expect(envOf(c)).toMatchObject({ REGISTRY_AUTH_FILE: `${PATHS.pushConfig}/config.json` });
  });

  it("buildah, read mode: reads the cache, pushes nothing to it", () => {
    expect(cacheBuild({}, { repository: CACHE, mode: "read" }).args).toEqual(["--layers", "--cache-from", CACHE]);
  });

  it("buildkit: registry cache import and export with every stage's layers", () => {
    const c = cacheBuild(strategies["docker/buildkit"], { repository: CACHE });
    expect(c.args).toEqual([
      "--import-cache", `type=registry,ref=${CACHE}:buildcache`,
      "--export-cache", `type=registry,ref=${CACHE}:buildcache,mode=max`,
    ]);
    expect(envOf(c).DOCKER_CONFIG).toBe(PATHS.pushConfig);
    expect(cacheBuild(strategies["docker/buildkit"], { repository: CACHE, mode: "read" }).args).toEqual(["--import-cache", `type=registry,ref=${CACHE}:buildcache`]);
  });

  it("buildkit: a cache on another insecure registry is configured as plain HTTP too, once", () => {
    const other = cacheBuild(strategies["docker/buildkit"], { repository: "cache.example.com:5000/app" }, { insecure: true });
    expect(envOf(other)).toMatchObject({ BUILDPOD_REGISTRY: "registry.example.com", BUILDPOD_CACHE_REGISTRY: "cache.example.com:5000" });
    expect(other.command[2]).toContain('for host in "$BUILDPOD_REGISTRY" "${BUILDPOD_CACHE_REGISTRY:-}"');
    expect(envOf(cacheBuild(strategies["docker/buildkit"], { repository: CACHE }, { insecure: true })).BUILDPOD_CACHE_REGISTRY).toBeUndefined();
  });

  it("kaniko: cache on, its repository, read-only with --no-push-cache, insecure by the cache's host", () => {
    const c = cacheBuild(strategies["docker/kaniko"], { repository: "cache.example.com:5000/app" }, { insecure: true });
    expect(c.args).toEqual(expect.arrayContaining([
      "--cache=true", "--cache-repo=cache.example.com:5000/app",
      "--insecure-registry=cache.example.com:5000", "--skip-tls-verify-registry=cache.example.com:5000",
    ]));
    expect(c.args).not.toContain("--no-push-cache");
    expect(cacheBuild(strategies["docker/kaniko"], { repository: CACHE, mode: "read" }).args).toEqual(expect.arrayContaining(["--cache=true", `--cache-repo=${CACHE}`, "--no-push-cache"]));
  });

  it("without a cache no builder gets cache options", () => {
    for (const s of ["docker/buildah", "docker/buildkit", "docker/kaniko"]) {
      const c: any = buildOf((render(build(strategies[s], sources.git), { id: "abcde" }) as any).spec.template.spec);
      expect(c.args.join(" ")).not.toMatch(/cache|--layers/);
    }
  });
});

describe("sources", () => {
  const specFor = (source: Record<string, unknown>, strategy = strategies["docker/buildah"]) =>
    (render(build(strategy, source), { id: "abcde" }) as any).spec.template.spec;

  it("git: the source init container clones the URL at the ref, unprivileged", () => {
    const spec = specFor({ git: { url: "https://git.example.com/a.git", ref: "v1.2.0", secret: "git-creds" } });
    const src = spec.initContainers[0];
    expect(src.name).toBe("source");
    expect(src.image).toBe(SOURCE_IMAGE);
    expect(envOf(src)).toMatchObject({ BUILDPOD_SOURCE_MODE: "git", BUILDPOD_GIT_URL: "https://git.example.com/a.git", BUILDPOD_GIT_REF: "v1.2.0" });
    expect(src.securityContext).toMatchObject({ runAsNonRoot: true, allowPrivilegeEscalation: false, capabilities: { drop: ["ALL"] } });
    expect(src.command[2]).toContain('"commit":"%s"');
    expect(byName(src.volumeMounts, "source-secret")).toEqual({ name: "source-secret", mountPath: PATHS.sourceSecret, readOnly: true });
    expect(byName(spec.volumes, "source-secret").secret.secretName).toBe("git-creds");
  });

  it("git depth: 1 by default, as asked otherwise (0: all of it); a number of commits", () => {
    expect(envOf(specFor({ git: { url: "https://git.example.com/a.git" } }).initContainers[0]).BUILDPOD_GIT_DEPTH).toBe("1");
    expect(envOf(specFor({ git: { url: "https://git.example.com/a.git", depth: 0 } }).initContainers[0]).BUILDPOD_GIT_DEPTH).toBe("0");
    expect(envOf(specFor({ git: { url: "https://git.example.com/a.git", depth: "50" } }).initContainers[0]).BUILDPOD_GIT_DEPTH).toBe("50");
    expect(envOf(specFor(sources.dir).initContainers[0]).BUILDPOD_GIT_DEPTH).toBeUndefined();
    expect(() => specFor({ git: { url: "https://git.example.com/a.git", depth: -1 } })).toThrow(/^source\.git\.depth: must be a number of commits, or 0 for the full history/);
    expect(() => specFor({ git: { url: "https://git.example.com/a.git", depth: "all" } })).toThrow(/^source\.git\.depth: must be/);
  });

  it("binary input: the source container waits for the upload, with a deadline", () => {
    const spec = specFor(sources.dir);
    const e = envOf(spec.initContainers[0]);
    expect(e.BUILDPOD_SOURCE_MODE).toBe("upload");
    expect(e.BUILDPOD_UPLOAD_TIMEOUT).toBe("600");
    expect(spec.initContainers[0].command[2]).toContain("no upload arrived within");
  });

  it("inline Dockerfile: written by the source container and used by the builder", () => {
    const spec = specFor({ dockerfile: "FROM busybox\nRUN echo hi\n" });
    expect(envOf(spec.initContainers[0])).toMatchObject({ BUILDPOD_SOURCE_MODE: "none", BUILDPOD_DOCKERFILE_CONTENT: "FROM busybox\nRUN echo hi\n" });
    expect(envOf(buildOf(spec)).BUILDPOD_DOCKERFILE).toBe(PATHS.inlineDockerfile);
  });

  it("a fixed SOURCE_DATE_EPOCH reaches the source container", () => {
    const spec = specFor({ ...sources.dir, sourceDateEpoch: 1700000000 });
    expect(envOf(spec.initContainers[0]).BUILDPOD_SOURCE_DATE_EPOCH).toBe("1700000000");
  });
});

describe("source strategy (S2I)", () => {
  const s = { type: "source" as const, builderImage: "x", incremental: false, env: { APP_MODE: "prod", DEBUG: "0" } };

  it("generates a Dockerfile that copies the source to /tmp/src, runs assemble and sets run", () => {
    const df = s2iDockerfile(s, false);
    expect(df).toContain("FROM ${BUILDPOD_S2I_BUILDER}");
    expect(df).toContain("COPY --chown=${BUILDPOD_S2I_OWNER} . /tmp/src");
    // One step runs in the cold build, and it runs as the builder's user, never root.
    expect(df.match(/^RUN /gm)).toHaveLength(1);
    expect(df).not.toMatch(/^USER root/m);
    expect(df).toContain('RUN "$BUILDPOD_S2I_SCRIPTS/assemble"');
    expect(df).toContain("USER ${BUILDPOD_S2I_USER}");
    expect(df).toContain('ENV APP_MODE="${APP_MODE}"');
    expect(df).toMatch(/CMD .*\$STI_SCRIPTS_PATH\/run/);
    expect(df).not.toContain("save-artifacts");
  });

  it("incremental: save-artifacts in the previous image, restored to /tmp/artifacts before assemble", () => {
    const df = s2iDockerfile({ ...s, incremental: true }, true);
    const lines = df.split("\n");
    const at = (re: RegExp) => lines.findIndex((l) => re.test(l));
    expect(at(/^FROM \$\{BUILDPOD_S2I_PREVIOUS\} AS previous$/)).toBeGreaterThanOrEqual(0);
    expect(at(/save-artifacts/)).toBeLessThan(at(/^FROM \$\{BUILDPOD_S2I_BUILDER\}$/));
    expect(at(/^COPY --from=previous --chown=\$\{BUILDPOD_S2I_OWNER\} \/tmp\/artifacts \/tmp\/artifacts$/)).toBeLessThan(at(/assemble/));
    expect(at(/tar -xf \/tmp\/artifacts.tar -C \/tmp\/artifacts/)).toBeLessThan(at(/^FROM \$\{BUILDPOD_S2I_BUILDER\}$/));
    expect(df.match(/^RUN /gm)).toHaveLength(2);
  });

  it("renders both Dockerfiles into the source container and env values as build arguments", () => {
    const req = parseRequest({ source: sources.git, strategy: { type: "source", builderImage: "registry.example.com/s2i/node:20", incremental: true, env: { NPM_MIRROR: "https://npm.example.com" } }, output: { image: IMAGE } });
    const spec: any = (render(req, { id: "abcde" }) as any).spec.template.spec;
    const src = envOf(spec.initContainers[0]);
    expect(src.BUILDPOD_DOCKERFILE_CONTENT).toBe(s2iDockerfile(req.strategy as any, false));
    expect(src.BUILDPOD_DOCKERFILE_INCREMENTAL_CONTENT).toBe(s2iDockerfile(req.strategy as any, true));
    const build = buildOf(spec);
    expect(build.args).toEqual(["--build-arg", "NPM_MIRROR=https://npm.example.com"]);
    expect(envOf(build)).toMatchObject({ BUILDPOD_S2I_BUILDER: "registry.example.com/s2i/node:20", BUILDPOD_S2I_INCREMENTAL: "true" });
    expect(build.command[2]).toContain("building from scratch");
  });
});

describe("custom strategy", () => {
  it("hands over the OpenShift custom-builder environment plus the user's", () => {
    const req = parseRequest({
      source: { git: { url: "https://git.example.com/a.git", ref: "main" }, contextDir: "app" },
      strategy: { type: "custom", builderImage: "registry.example.com/tools/builder:2", env: { MODE: "release" }, exposeDockerSocket: true, allowDockerSocket: true },
      output: { image: "registry.example.com:5000/team/app:2.0", pushSecret: "regcred" },
    });
    const spec: any = (render(req, { id: "abcde" }) as any).spec.template.spec;
    const c = buildOf(spec);
    expect(c.image).toBe("registry.example.com/tools/builder:2");
    const e = envOf(c);
    expect(e).toMatchObject({
      OUTPUT_REGISTRY: "registry.example.com:5000", OUTPUT_IMAGE: "team/app:2.0",
      SOURCE_URI: "https://git.example.com/a.git", SOURCE_REPOSITORY: "https://git.example.com/a.git", SOURCE_REF: "main", SOURCE_CONTEXT_DIR: "app",
      PUSH_DOCKERCFG_PATH: PATHS.pushConfig, DOCKER_SOCKET: "/var/run/docker.sock", MODE: "release",
    });
    const described = JSON.parse(e.BUILD);
    expect(described.output.image).toBe("registry.example.com:5000/team/app:2.0");
    expect(described.source.git).toEqual({ url: "https://git.example.com/a.git", ref: "main" });
    expect(byName(spec.volumes, "docker-socket")).toBeDefined();
  });

  it("has no Docker socket unless exposed", () => {
    const req = parseRequest({ source: sources.git, strategy: { type: "custom", builderImage: "b:1" }, output: { image: IMAGE } });
    const spec: any = (render(req, { id: "abcde" }) as any).spec.template.spec;
    expect(byName(spec.volumes, "docker-socket")).toBeUndefined();
    expect(envOf(buildOf(spec)).DOCKER_SOCKET).toBeUndefined();
  });
});

describe("scheduling and resources", () => {
  it("carries resources, node selection and classes onto the pod", () => {
    const req = parseRequest({
      source: sources.git, output: { image: IMAGE },
      resources: { requests: { cpu: "500m", memory: "1Gi" }, limits: { cpu: "2", memory: "4Gi" } },
      scheduling: {
        nodeSelector: { "kubernetes.io/arch": "amd64" }, tolerations: ["dedicated=builds:NoSchedule", { key: "spot", operator: "Exists" }],
        affinity: { nodeAffinity: { requiredDuringSchedulingIgnoredDuringExecution: { nodeSelectorTerms: [{ matchExpressions: [{ key: "pool", operator: "In", values: ["build"] }] }] } } },
        serviceAccountName: "builder", priorityClassName: "ci-low", runtimeClassName: "gvisor",
      },
    });
    const job: any = render(req, { id: "abcde" });
    expectValidObject(job);
    const spec = job.spec.template.spec;
    expect(buildOf(spec).resources).toEqual({ requests: { cpu: "500m", memory: "1Gi" }, limits: { cpu: "2", memory: "4Gi" } });
    expect(spec.initContainers[0].resources).toEqual(buildOf(spec).resources);
    expect(spec.nodeSelector).toEqual({ "kubernetes.io/arch": "amd64" });
    expect(spec.tolerations).toEqual([{ key: "dedicated", operator: "Equal", value: "builds", effect: "NoSchedule" }, { key: "spot", operator: "Exists" }]);
    expect(spec.affinity.nodeAffinity).toBeDefined();
    expect([spec.serviceAccountName, spec.priorityClassName, spec.runtimeClassName]).toEqual(["builder", "ci-low", "gvisor"]);
  });

  it("retries: backoffLimit, and a pod failure policy that counts only the cluster's disruptions", () => {
    const job: any = render(parseRequest({ source: sources.git, output: { image: IMAGE }, retries: 2 }), { id: "abcde" });
    expectValidObject(job);
    expect(job.spec.backoffLimit).toBe(2);
    expect(job.spec.podFailurePolicy.rules).toEqual([
      { action: "Count", onPodConditions: [{ type: "DisruptionTarget", status: "True" }] },
      { action: "FailJob", onExitCodes: { operator: "NotIn", values: [0] } },
    ]);
    const plain: any = render(parseRequest({ source: sources.git, output: { image: IMAGE } }), { id: "abcde" });
    expect([plain.spec.backoffLimit, plain.spec.podFailurePolicy]).toEqual([0, undefined]);
    expect(() => parseRequest({ source: sources.git, output: { image: IMAGE }, retries: 2, workload: "pod" })).toThrow(/^retries: needs a Job/);
    expect(() => parseRequest({ source: sources.git, output: { image: IMAGE }, retries: 11 })).toThrow(/^retries: must be a whole number from 0 to 10/);
  });

  it("ephemeral storage: requested and limited on both containers, and every scratch volume bounded by the limit", () => {
    for (const strategy of Object.values(strategies)) {
      const req = parseRequest({
        source: sources.dir, strategy, output: { image: IMAGE },
        resources: { requests: { "ephemeral-storage": "1Gi" }, limits: { "ephemeral-storage": "4Gi" } },
      });
      const job: any = render(req, { id: "abcde" });
      expectValidObject(job);
      const spec = job.spec.template.spec;
      for (const c of [...spec.initContainers, ...spec.containers]) {
        expect(c.resources).toEqual({ requests: { "ephemeral-storage": "1Gi" }, limits: { "ephemeral-storage": "4Gi" } });
      }
      const disks = spec.volumes.filter((v: any) => v.emptyDir);
      expect(disks.length).toBeGreaterThan(0);
      for (const v of disks) expect(v.emptyDir.sizeLimit, v.name).toBe("4Gi");
    }
    const unbounded: any = render(build(strategies["docker/buildah"], sources.git), { id: "abcde" });
    for (const v of unbounded.spec.template.spec.volumes) expect(v.emptyDir?.sizeLimit).toBeUndefined();
  });

  it("ephemeral storage: a quantity of bytes, no more requested than allowed", () => {
    const parse = (resources: unknown) => () => parseRequest({ source: sources.git, output: { image: IMAGE }, resources });
    expect(parse({ limits: { "ephemeral-storage": "10" } })).toThrow(/^resources\.limits\.ephemeral-storage: "10" is 10 bytes/);
    expect(parse({ limits: { "ephemeral-storage": "lots" } })).toThrow(/is not a Kubernetes quantity; write it like 512Mi or 4Gi/);
    expect(parse({ requests: { "ephemeral-storage": "8Gi" }, limits: { "ephemeral-storage": "4Gi" } })).toThrow(/^resources\.requests\.ephemeral-storage: 8Gi is more than the limit 4Gi/);
  });
});

describe("the schema check itself", () => {
  const good: any = render(build(strategies["docker/buildah"], sources.git), { id: "abcde" });
  it("rejects a field Kubernetes does not know", () => {
    const bad = structuredClone(good);
    buildOf(bad.spec.template.spec).privilegedMode = true;
    expect(() => expectValidObject(bad)).toThrow();
  });
  it("rejects a value outside an enumeration", () => {
    const bad = structuredClone(good);
    bad.spec.template.spec.restartPolicy = "Sometimes";
    expect(() => expectValidObject(bad)).toThrow();
  });
});

describe("tool images", () => {
  it("are pinned by digest by default", () => {
    for (const ref of [...Object.values(BUILDER_IMAGES), SOURCE_IMAGE]) expect(ref).toMatch(/@sha256:[a-f0-9]{64}$/);
  });
  it("can be replaced by mirrors, for every strategy", () => {
    const images = { source: "mirror.example.com/git:1", buildah: "mirror.example.com/buildah:1", kaniko: "mirror.example.com/kaniko:1" };
    const specOf = (strategy: Record<string, unknown>) =>
      (render(parseRequest({ source: sources.git, strategy, output: { image: IMAGE }, images }), { id: "abcde" }) as any).spec.template.spec;
    expect(specOf({}).initContainers[0].image).toBe(images.source);
    expect(buildOf(specOf({})).image).toBe(images.buildah);
    expect(buildOf(specOf({ builder: "kaniko" })).image).toBe(images.kaniko);
    expect(buildOf(specOf({ type: "source", builderImage: "s2i:1" })).image).toBe(images.buildah);
    expect(buildOf(specOf({ builder: "buildkit" })).image).toBe(BUILDER_IMAGES.buildkit);
  });
});
