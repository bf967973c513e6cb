// How builds fail, on the test cluster: each failure classified, explained, and cleaned up.
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { build, cluster, image, kubeconfigFor, rbacRole, tc } from "./kit.js";

const inline = (body: string) => ({ dockerfile: `FROM ${tc().busybox}\n${body}\n` });

/** What is left of a build after `ms`, checked until nothing is. */
async function leftoversAfter(run: string, ms: number): Promise<string[]> {
  const until = Date.now() + ms;
  let left = await leftovers(run);
  while (left.length && Date.now() < until) {
    await new Promise((r) => setTimeout(r, 200));
    left = await leftovers(run);
  }
  return left;
}

async function leftovers(run: string): Promise<string[]> {
  const c = await cluster();
  const pods = await c.listPods("default", `buildpod.dev/run=${run}`);
  const jobs = await c.listJobs("default", `buildpod.dev/run=${run}`);
  return [...jobs.items.map((j) => `job/${j.metadata!.name}`), ...pods.items.map((p) => `pod/${p.metadata!.name}`)];
}

describe("a build that fails", () => {
  it("a failing RUN step: exit code, reason and the step's last lines", async () => {
    const { result } = await build({ source: inline("RUN echo preparing && echo the-answer-is-42 && exit 3"), output: { image: image("fail:run") } });
    expect(result.status).toBe("Failed");
    expect(result.reason).toBe("BuildFailed");
    expect(result.failedContainer).toBe("build");
    expect(result.exitCode).not.toBe(0);
    expect(result.message).toMatch(/^container build failed with exit code \d+/);
    expect(result.logTail?.join("\n")).toContain("the-answer-is-42");
    expect(result.digest).toBeUndefined();
  });

  it("out of memory: OOMKilled, with the limit", async () => {
    const { result } = await build({
      source: inline("RUN dd if=/dev/zero of=/dev/null bs=300M count=1"),
      resources: { limits: { memory: "96Mi" } },
      output: { image: image("fail:oom") },
    });
    expect(result.status).toBe("Failed");
    expect(result.reason).toBe("OOMKilled");
    expect(result.message).toContain("limit 96Mi");
  });

  it("past its deadline: DeadlineExceeded", async () => {
    const { result } = await build({ source: inline("RUN sleep 60"), timeout: "10s", output: { image: image("fail:deadline") } });
    expect(result.status).toBe("Failed");
    expect(result.reason).toBe("DeadlineExceeded");
    expect(result.message).toMatch(/ran out of time/);
  });

  it("a source that does not exist: SourceFailed, with git's words", async () => {
    const { result } = await build({ source: { git: { url: `${tc().gitUrl}/no-such-repo`, ref: "main" } }, output: { image: image("fail:source") } });
    expect(result.status).toBe("Failed");
    expect(result.reason).toBe("SourceFailed");
    expect(result.message).toContain(`could not fetch main from ${tc().gitUrl}/no-such-repo`);
  });
});

describe("a build that cannot start", () => {
  it("an image that does not exist: StartFailed at once with the pull error and its events, and nothing left behind", async () => {
    const { result, progress } = await build({
      source: inline("RUN true"), images: { source: image("no-such-image:1") }, startTimeout: "10m",
      output: { image: image("fail:pull") },
    });
    expect(result.status).toBe("StartFailed");
    expect(["ErrImagePull", "ImagePullBackOff"]).toContain(result.reason);
    expect(result.message).toMatch(/^the build cannot start: container source cannot pull its image .*not found/);
    expect(progress.join("\n")).toMatch(/\[Warning\]\[default\/.+\]\[(Failed|BackOff)\]/);
    expect(await leftoversAfter(result.run, 5000)).toEqual([]);
  });

  it("a builder image that does not exist, after the source step ran: StartFailed at once", async () => {
    const { result } = await build({
      source: inline("RUN true"), images: { source: tc().builder, buildah: image("no-such-builder:1") }, startTimeout: "10m",
      output: { image: image("fail:builder-pull") },
    });
    expect(result.status).toBe("StartFailed");
    expect(["ErrImagePull", "ImagePullBackOff"]).toContain(result.reason);
    expect(result.message).toMatch(/^the build cannot start: container build cannot pull its image/);
    expect(await leftoversAfter(result.run, 5000)).toEqual([]);
  });

  it("a request no node can hold: Unschedulable with the scheduler's message", async () => {
    const { result } = await build({
      source: inline("RUN true"), startTimeout: "5s",
      resources: { requests: { memory: "4000Gi" }, limits: { memory: "4000Gi" } },
      output: { image: image("fail:unschedulable") },
    });
    expect(result.status).toBe("StartFailed");
    expect(result.reason).toBe("Unschedulable");
    expect(result.message).toMatch(/0\/1 nodes are available: 1 Insufficient memory/);
  });
});

describe("preflight", () => {
  it("a missing push secret is named before anything is created", async () => {
    await expect(build({ source: inline("RUN true"), output: { image: image("fail:secret"), pushSecret: "no-such-secret" } }))
      .rejects.toThrow(/the push secret "no-such-secret" does not exist in namespace default; create it with: kubectl -n default create secret docker-registry no-such-secret/);
  });

  it("a missing permission is named, with what to do (an identity bound to deploy/rbac.yaml's Role without pods/log)", async () => {
    const kubeconfig = await kubeconfigFor(rbacRole().filter((r) => !r.resources.includes("pods/log")));
    await expect(build({ source: inline("RUN true"), output: { image: image("fail:rbac") } }, {}, kubeconfig))
      .rejects.toThrow(/you may not get pods\/log in namespace default; ask for a Role granting it/);
  });

  it("the Role in deploy/rbac.yaml is enough: an upload build by an identity with only its rules", async () => {
    const dir = mkdtempSync(join(tmpdir(), "buildpod-rbac-"));
    writeFileSync(join(dir, "Dockerfile"), `FROM ${tc().busybox}\nCOPY hello.txt /hello.txt\n`);
    writeFileSync(join(dir, "hello.txt"), "hello\n");
    const { result } = await build({ source: { binary: { dir } }, output: { image: image("rbac:role") } }, {}, await kubeconfigFor(rbacRole()));
    expect(result.status, result.message).toBe("Complete");
    // Without "get" on pods/exec (what API servers before 1.35 check for a WebSocket exec), the preflight says so.
    const noGet = await kubeconfigFor(rbacRole().map((r) => (r.resources.includes("pods/exec") ? { ...r, verbs: ["create"] } : r)));
    await expect(build({ source: { binary: { dir } }, output: { image: image("rbac:noget") } }, {}, noGet))
      .rejects.toThrow(/you may not get pods\/exec in namespace default/);
  });

  it("a namespace that does not exist", async () => {
    await expect(build({ namespace: "no-such-namespace", source: inline("RUN true"), output: { image: image("fail:ns") } }))
      .rejects.toThrow(/namespace no-such-namespace does not exist/);
  });
});

describe("cancel", () => {
  it("mid-build: the build reports Cancelled and its Job and pod are gone within 5 s", async () => {
    const abort = new AbortController();
    let running = false;
    const pending = build({ source: inline("RUN echo started && sleep 120"), output: { image: image("cancel:1") } }, {
      signal: abort.signal,
      onLog: () => undefined,
    });
    // Cancel once the build step prints.
    const started = Date.now();
    const c = await cluster();
    while (!running && Date.now() - started < 60_000) {
      const pods = await c.listPods("default", "buildpod.dev/build=cancel");
      running = pods.items.some((p) => p.status?.containerStatuses?.some((s) => s.name === "build" && s.state?.running));
      if (!running) await new Promise((r) => setTimeout(r, 300));
    }
    expect(running).toBe(true);
    await new Promise((r) => setTimeout(r, 1500));
    const t0 = Date.now();
    abort.abort();
    const { result, progress } = await pending;
    expect(result.status).toBe("Cancelled");
    expect(progress.join("\n")).toMatch(new RegExp(`deleted job/${result.run}, pod/${result.run}-`));
    expect(await leftoversAfter(result.run, 5000 - (Date.now() - t0))).toEqual([]);
    expect(Date.now() - t0).toBeLessThan(5000);
  });
});

describe("Pod Security", () => {
  it("a namespace enforcing 'baseline' refuses rootless BuildKit before anything is created, and says which builders fit", async () => {
    const c = await cluster();
    await c.call("creating namespace psa-baseline", "POST", "/api/v1/namespaces", { body: { metadata: { name: "psa-baseline", labels: { "pod-security.kubernetes.io/enforce": "baseline" } } } }).catch(() => undefined);
    await expect(build({ namespace: "psa-baseline", source: inline("RUN true"), strategy: { builder: "buildkit" }, output: { image: image("psa:1") } }))
      .rejects.toThrow(/namespace psa-baseline enforces Pod Security 'baseline', and the buildkit builder needs 'privileged'. Use the buildah \(default\) or kaniko builder/);
    const jobs = await c.listJobs("psa-baseline", "");
    expect(jobs.items).toEqual([]);
  });
});

describe("Pod Security warnings", () => {
  it("a namespace that warns at 'restricted': the build runs, and the API server's warning reaches the progress", async () => {
    const c = await cluster();
    const ns = `psa-warn-${Date.now().toString(36)}`;
    await c.call("creating a namespace", "POST", "/api/v1/namespaces", { body: { metadata: { name: ns, labels: { "pod-security.kubernetes.io/warn": "restricted" } } } });
    try {
      const { result, progress } = await build({ namespace: ns, source: inline("RUN true"), output: { image: image("psa:warned") } });
      expect(result.status, result.message).toBe("Complete");
      const warned = progress.filter((p) => p.startsWith("the cluster warns: "));
      expect(warned).toHaveLength(1);
      expect(warned[0]).toMatch(/^the cluster warns: would violate PodSecurity "restricted:latest": .*runAsNonRoot/);
    } finally {
      await c.call("deleting the namespace", "DELETE", `/api/v1/namespaces/${ns}`).catch(() => undefined);
    }
  });
});

describe("many builds at once", () => {
  it("runs builds concurrently from one process, each followed to its own result", async () => {
    const names = ["one", "two", "three"];
    const results = await Promise.all(names.map((n) => build({ name: `many-${n}`, source: inline(`RUN echo ${n} > /name`), output: { image: image(`many-${n}:1`) } })));
    for (const [i, r] of results.entries()) {
      expect(r.result.status, r.result.message).toBe("Complete");
      expect(r.result.build).toBe(`many-${names[i]}`);
      expect(r.lines.build.join("\n")).toContain(`echo ${names[i]} > /name`);
    }
    expect(new Set(results.map((r) => r.result.digest)).size).toBe(3);
  });
});
