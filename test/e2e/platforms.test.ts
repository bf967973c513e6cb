// Other platforms on the test cluster: its amd64 node runs linux/arm64 binaries under QEMU, registered with
// binfmt_misc (test/cluster/kube/emulation.ts); the busybox index gives each platform its own image. And
// builds for a platform: native on a node of it, emulated with --emulate (a RUN step runs arm64 binaries),
// refused without.
import { spawnSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { describe, expect, it } from "vitest";
import { run } from "../cluster/infra/proc.js";
import { build, cluster, image, indexPlatforms, tc } from "./kit.js";

const NS = "default";
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Runs SCRIPT in a pod of IMAGE (with SECURITY) to its end; returns its phase and log. */
async function inPod(image: string, script: string, security: Record<string, unknown> = {}): Promise<{ phase: string; log: string }> {
  const c = await cluster();
  const name = `platform-${randomBytes(3).toString("hex")}`;
  await c.call("creating a pod", "POST", `/api/v1/namespaces/${NS}/pods`, {
    body: {
      metadata: { name },
      spec: { restartPolicy: "Never", containers: [{ name: "main", image, command: ["sh", "-c", script], securityContext: security }] },
    },
  });
  try {
    const deadline = Date.now() + 240_000;
    for (;;) {
      const p = await c.call<{ status?: { phase?: string } }>("reading the pod", "GET", `/api/v1/namespaces/${NS}/pods/${name}`);
      const phase = p.status?.phase ?? "";
      if (phase === "Succeeded" || phase === "Failed") {
        const logs = spawnSync(tc().kubectl, ["--kubeconfig", tc().kubeconfig, "-n", NS, "logs", name], { encoding: "utf8" });
        return { phase, log: `${logs.stdout}${logs.stderr}` };
      }
      if (Date.now() > deadline) throw new Error(`pod ${name} did not finish: ${JSON.stringify(p.status)}`);
      await sleep(500);
    }
  } finally {
    await c.call("deleting the pod", "DELETE", `/api/v1/namespaces/${NS}/pods/${name}`, { query: { gracePeriodSeconds: "0" } }).catch(() => {});
  }
}

describe.skipIf(!tc().busyboxMulti)("linux/arm64 on the amd64 node, under QEMU", () => {
  it("the node emulates linux/arm64, and the busybox index has an image for each platform", async () => {
    expect(tc().emulation.problem).toBeUndefined();
    expect(tc().emulation.platforms).toEqual(["linux/arm64"]);
    expect(Object.keys(await indexPlatforms(tc().busyboxMulti)).sort()).toEqual(["linux/amd64", "linux/arm64"]);
  });

  it("a pod of the arm64 image runs its aarch64 binaries", async () => {
    const arm64 = (await indexPlatforms(tc().busyboxMulti))["linux/arm64"];
    const repo = tc().busyboxMulti.replace(/:[^:/]+$/, "");
    // uname -m under QEMU says the emulated machine; the ELF header's e_machine (bytes 18-19) is 0xb7, aarch64.
    const { phase, log } = await inPod(`${repo}@${arm64}`, "uname -m; od -An -tx1 -j18 -N2 /bin/busybox");
    expect(phase, log).toBe("Succeeded");
    expect(log.split("\n").map((l) => l.trim())).toEqual(["aarch64", "b7 00", ""]);
  });
});

describe.skipIf(!tc().busyboxMulti)("a build for a platform", () => {
  const dockerfile = () => `FROM ${tc().busyboxMulti}\nRUN uname -m > /arch\n`;

  it("linux/arm64 without --emulate is refused before anything is created: the cluster has no arm64 node", async () => {
    const attempt = build({ source: { dockerfile: dockerfile() }, output: { image: image("platform:refused"), platforms: ["linux/arm64"] } });
    await expect(attempt).rejects.toMatchObject({ reason: "PlatformUnavailable" });
    await expect(attempt).rejects.toThrow(/no linux\/arm64 node \(its nodes are linux\/amd64\).*--emulate/);
    const c = await cluster();
    const jobs = await c.call<{ items: unknown[] }>("listing Jobs", "GET", `/apis/batch/v1/namespaces/${NS}/jobs`, { query: { labelSelector: "buildpod.dev/build=platform" } });
    expect(jobs.items).toEqual([]);
  });

  it("linux/arm64 with --emulate: built under QEMU, an arm64 image whose binaries run as aarch64", async () => {
    const { result } = await build({ source: { dockerfile: dockerfile() }, output: { image: image("platform:arm64"), platforms: ["linux/arm64"] }, scheduling: { emulate: true } });
    expect(result.status, `${result.message}\n${result.logTail?.join("\n")}`).toBe("Complete");
    const config = await run("skopeo", ["inspect", "--config", "--tls-verify=false", `docker://${result.imageRef}`], { env: tc().podmanEnv });
    expect(JSON.parse(config.stdout)).toMatchObject({ architecture: "arm64", os: "linux" });
    const { phase, log } = await inPod(result.imageRef!, "cat /arch; uname -m; od -An -tx1 -j18 -N2 /bin/busybox");
    expect(phase, log).toBe("Succeeded");
    expect(log.trim().split("\n").map((l) => l.trim())).toEqual(["aarch64", "aarch64", "b7 00"]);
  });

  it("linux/amd64, which the node is: placed by node selector, built natively", async () => {
    const { result } = await build({ source: { dockerfile: dockerfile() }, output: { image: image("platform:amd64"), platforms: ["linux/amd64"] } });
    expect(result.status, result.message).toBe("Complete");
    const c = await cluster();
    const job = await c.call<any>("reading the Job", "GET", `/apis/batch/v1/namespaces/${NS}/jobs/${result.run}`);
    expect(job.spec.template.spec.nodeSelector).toEqual({ "kubernetes.io/os": "linux", "kubernetes.io/arch": "amd64" });
    const config = await run("skopeo", ["inspect", "--config", "--tls-verify=false", `docker://${result.imageRef}`], { env: tc().podmanEnv });
    expect(JSON.parse(config.stdout)).toMatchObject({ architecture: "amd64" });
  });
});
