// Every way a build can fail on a real cluster, started by `buildpod run` as a CI step starts it: each ends
// with the right status, exit code and a message that says what happened and what to do, at once or within
// the start timeout, never by waiting out the whole timeout for a cause the cluster already reported.
// (Start timeouts here are long on purpose: a build that waited one out would fail its test's time limit.)
import { spawn, spawnSync } from "node:child_process";
import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { createServer, type Server } from "node:net";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { cluster, image, kubeconfigFor, rbacRole, registryDigest, tc } from "./kit.js";

const BIN = join(import.meta.dirname, "../../buildpod");
const SLOW_START = "10m";

interface Ran {
  code: number | null;
  out: string;
  err: string;
  result: { status: string; reason: string; message: string; run: string; pod?: string };
}

function context(dockerfile: string): string {
  const dir = mkdtempSync(join(tmpdir(), "buildpod-sweep-"));
  writeFileSync(join(dir, "Dockerfile"), dockerfile);
  return dir;
}

/** `buildpod run ARGS` to its end, as KUBECONFIG (default: the admin's). */
function buildpod(args: string[], opts: { kubeconfig?: string; env?: Record<string, string>; onStart?: (io: { err: string; out: string }, child: ReturnType<typeof spawn>) => void } = {}): Promise<Ran> {
  const c = tc();
  const out = join(mkdtempSync(join(tmpdir(), "buildpod-sweep-out-")), "result.json");
  const child = spawn(BIN, ["run", "--insecure-registry", "--result-file", out, ...args], {
    env: { ...process.env, KUBECONFIG: opts.kubeconfig ?? c.kubeconfig, BUILDPOD_IMAGE_SOURCE: c.builder, BUILDPOD_IMAGE_BUILDAH: c.builder, ...opts.env },
  });
  const io = { out: "", err: "" };
  child.stdout.on("data", (d: Buffer) => (io.out += d.toString()));
  child.stderr.on("data", (d: Buffer) => (io.err += d.toString()));
  opts.onStart?.(io, child);
  return new Promise((resolve) => child.on("close", (code) => {
    let result: Ran["result"];
    try {
      result = JSON.parse(readFileSync(out, "utf8"));
    } catch {
      result = { status: "", reason: "", message: `no result file; stderr: ${io.err}`, run: "" };
    }
    resolve({ code, out: io.out, err: io.err, result });
  }));
}

const kubectl = (args: string[], input?: string) => {
  const r = spawnSync(tc().kubectl, args, { encoding: "utf8", input, env: { ...process.env, KUBECONFIG: tc().kubeconfig } });
  if (r.status !== 0) throw new Error(`kubectl ${args.join(" ")}: ${r.stderr}`);
  return r.stdout;
};

/** Evicts the build's pod through the Eviction API, as a node drain does, once its log says "sleeping". */
function evictWhenSleeping(io: { err: string; out: string }): void {
  void until("the build running", async () => /\| sleeping$/m.test(io.out), 120_000).then(() => {
    const run = /created job (\S+) in namespace/.exec(io.err)![1];
    const name = kubectl(["get", "pods", "-l", `buildpod.dev/run=${run}`, "-o", "jsonpath={.items[0].metadata.name}"]);
    kubectl(["create", "--raw", `/api/v1/namespaces/default/pods/${name}/eviction`, "-f", "-"], JSON.stringify({ apiVersion: "policy/v1", kind: "Eviction", metadata: { name, namespace: "default" } }));
  });
}

let namespaces = 0;
const made: string[] = [];
/**
 * A namespace of its own with OBJECTS (YAML) applied in it. A ResourceQuota counts only once the quota
 * controller has written its status (until then admission lets everything through), as in any namespace
 * whose quota is older than a few seconds: wait for that.
 */
async function namespace(labels: Record<string, string> = {}, objects = ""): Promise<string> {
  const name = `sweep-${process.pid}-${++namespaces}`;
  kubectl(["apply", "-f", "-"], JSON.stringify({ apiVersion: "v1", kind: "Namespace", metadata: { name, labels } }));
  made.push(name);
  if (objects) kubectl(["-n", name, "apply", "-f", "-"], objects);
  if (/kind: ResourceQuota/.test(objects)) {
    await until("the quota's status", async () => kubectl(["-n", name, "get", "resourcequota", "-o", "jsonpath={.items[*].status.hard}"]).trim() !== "", 30_000);
  }
  return name;
}

afterAll(() => {
  for (const ns of made) spawnSync(tc().kubectl, ["delete", "namespace", ns, "--wait=false"], { env: { ...process.env, KUBECONFIG: tc().kubeconfig } });
});

async function leftovers(run: string, ns = "default"): Promise<string[]> {
  const c = await cluster();
  const pods = await c.listPods(ns, `buildpod.dev/run=${run}`);
  const jobs = await c.listJobs(ns, `buildpod.dev/run=${run}`);
  return [...jobs.items.map((j) => `job/${j.metadata!.name}`), ...pods.items.map((p) => `pod/${p.metadata!.name}`)];
}

async function until(what: string, ok: () => Promise<boolean>, ms: number): Promise<void> {
  const end = Date.now() + ms;
  while (!(await ok())) {
    if (Date.now() > end) throw new Error(`${what}: not within ${ms / 1000} s`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

const trivial = () => context(`FROM ${tc().busybox}\nRUN true\n`);

interface Refused {
  what: string;
  /** The namespace (made on first use), the identity, and the arguments of the build. */
  setup: () => Promise<{ ns: string; kubeconfig?: string; args: string[] }>;
  reason: string;
  message: RegExp;
}

const refused: Refused[] = [
  {
    what: "the namespace's Pod Security level (the least-privilege identity, which may not read the namespace)",
    setup: async () => {
      const ns = await namespace({ "pod-security.kubernetes.io/enforce": "restricted" });
      return { ns, kubeconfig: await kubeconfigFor(rbacRole(), ns), args: [] };
    },
    reason: "PodSecurity",
    message: /the namespace's Pod Security level restricted:latest refuses the build pod \(.+\); use a builder that fits/,
  },
  {
    what: "a ResourceQuota smaller than the build",
    setup: async () => ({ ns: await namespace({}, "apiVersion: v1\nkind: ResourceQuota\nmetadata: {name: small}\nspec: {hard: {limits.memory: 64Mi}}\n"), args: ["--memory-limit", "256Mi"] }),
    reason: "QuotaExceeded",
    message: /asks for limits\.memory=256Mi, more than the namespace's ResourceQuota small allows in all \(limited: limits\.memory=64Mi\); lower the build's resources or raise the quota/,
  },
  {
    what: "a ResourceQuota that requires limits the request did not set",
    setup: async () => ({ ns: await namespace({}, "apiVersion: v1\nkind: ResourceQuota\nmetadata: {name: counted}\nspec: {hard: {limits.cpu: '4', limits.memory: 8Gi}}\n"), args: [] }),
    reason: "QuotaRequiresResources",
    message: /ResourceQuota counted counts resources the build does not set \(must specify limits\.cpu for: build,source; limits\.memory for: build,source\); set the build's resources/,
  },
  {
    what: "a LimitRange the build's limit exceeds",
    setup: async () => ({ ns: await namespace({}, "apiVersion: v1\nkind: LimitRange\nmetadata: {name: capped}\nspec: {limits: [{type: Container, max: {memory: 128Mi}}]}\n"), args: ["--memory-limit", "256Mi"] }),
    reason: "LimitRange",
    message: /the namespace's LimitRange refuses the build pod: maximum memory usage per Container is 128Mi, but limit is 256Mi; set the build's resources within its bounds/,
  },
  {
    what: "a missing service account",
    setup: async () => ({ ns: "default", args: ["--service-account", "no-such-account"] }),
    reason: "ServiceAccountMissing",
    message: /the service account default\/no-such-account does not exist; create it, or set scheduling\.serviceAccountName/,
  },
];

describe("a build the cluster would refuse a pod: the dry run of the pod says so before anything is created", () => {
  it.each(refused)("$what", async ({ setup, reason, message }) => {
    const { ns, kubeconfig, args } = await setup();
    const r = await buildpod(["-n", ns, "--from-dir", trivial(), "-t", image("sweep:refused"), "--start-timeout", SLOW_START, ...args], { kubeconfig });
    expect(r.code, r.err).toBe(5);
    expect(r.result).toMatchObject({ status: "Error", reason, run: "" });
    expect(r.result.message).toMatch(/^the cluster would refuse the build pod: /);
    expect(r.result.message).toMatch(message);
  });
});

describe("the same without the preflight: the Job is made, its pod never is, and its FailedCreate event ends the build", () => {
  it.each(refused)("$what", async ({ setup, reason, message }) => {
    const { ns, kubeconfig, args } = await setup();
    const r = await buildpod(["--no-preflight", "-n", ns, "--from-dir", trivial(), "-t", image("sweep:refused"), "--start-timeout", SLOW_START, ...args], { kubeconfig });
    expect(r.code, r.err).toBe(3);
    expect(r.result).toMatchObject({ status: "StartFailed", reason });
    expect(r.result.message).toMatch(/^the build pod could not be created: /);
    expect(r.result.message).toMatch(message);
    expect(await leftovers(r.result.run, ns)).toEqual([]);
  });
});

describe("an identity without a permission buildpod needs", () => {
  it("RBAC denied: the preflight names the permission and the Role that grants it", async () => {
    const kubeconfig = tc().identities?.limited ?? await kubeconfigFor(rbacRole().filter((r) => !r.resources.includes("pods/log")));
    const r = await buildpod(["--from-dir", trivial(), "-t", image("sweep:rbac")], { kubeconfig });
    expect(r.code, r.err).toBe(5);
    expect(r.result).toMatchObject({ status: "Error", reason: "Forbidden", run: "" });
    expect(r.result.message).toMatch(/^you may not get pods\/log in namespace default; ask for a Role granting it \(deploy\/rbac\.yaml lists what buildpod needs\)/);
  });
});

describe("a build whose pod is made but cannot start", () => {
  it("an image that does not exist: at once, with the registry's answer", async () => {
    const r = await buildpod(["--from-dir", trivial(), "-t", image("sweep:pull"), "--start-timeout", SLOW_START], { env: { BUILDPOD_IMAGE_SOURCE: image("no-such-builder:1") } });
    expect(r.code, r.err).toBe(3);
    expect(r.result).toMatchObject({ status: "StartFailed", reason: "ErrImagePull" });
    expect(r.result.message).toMatch(/container source cannot pull its image .*no-such-builder:1.*not found/);
  });

  it("a missing source Secret (an identity that may not read Secrets, so the preflight could not tell)", async () => {
    const r = await buildpod(["--git", `${tc().gitUrl}/anything`, "--source-secret", "no-such-git-secret", "-t", image("sweep:secret"), "--start-timeout", SLOW_START], { kubeconfig: tc().identities?.builder ?? await kubeconfigFor(rbacRole()) });
    expect(r.code, r.err).toBe(3);
    expect(r.result).toMatchObject({ status: "StartFailed", reason: "SecretNotFound" });
    expect(r.result.message).toMatch(/secret "no-such-git-secret" not found/);
  });
});

describe("a build that runs and fails", () => {
  it("a LimitRange that gives the build a low memory limit: OOMKilled, with that limit", async () => {
    const ns = await namespace({}, "apiVersion: v1\nkind: LimitRange\nmetadata: {name: low}\nspec: {limits: [{type: Container, default: {memory: 96Mi}}]}\n");
    const r = await buildpod(["-n", ns, "--from-dir", context(`FROM ${tc().busybox}\nRUN dd if=/dev/zero of=/dev/null bs=300M count=1\n`), "-t", image("sweep:limitrange")]);
    expect(r.code, r.err).toBe(1);
    expect(r.result).toMatchObject({ status: "Failed", reason: "OOMKilled" });
    expect(r.result.message).toMatch(/ran out of memory \(limit 96Mi\) and was killed .*; raise the memory limit/);
  });

  it("over its disk limit: the node stops it, and the result says which limit and what to do", async () => {
    // 96 MiB into the image's file system, which buildah keeps in its scratch volume: past the 48Mi limit.
    const r = await buildpod(["--from-dir", context(`FROM ${tc().busybox}\nRUN dd if=/dev/zero of=/fill bs=1M count=96 && echo filled && sleep 120\n`),
      "-t", image("sweep:disk"), "--ephemeral-storage-limit", "48Mi"]);
    expect(r.code, r.err).toBe(1);
    expect(r.out).toMatch(/\| filled$/m);
    expect(r.result).toMatchObject({ status: "Failed", reason: "EphemeralStorageExceeded" });
    expect(r.result.message).toMatch(/more to local disk than its ephemeral-storage limit \(48Mi\) allows, and the node stopped it \(.*(EmptyDir|ephemeral).*\); raise the limit/);
  });

  it("past its deadline: DeadlineExceeded, exit 1", async () => {
    const r = await buildpod(["--from-dir", context(`FROM ${tc().busybox}\nRUN sleep 120\n`), "-t", image("sweep:deadline"), "--timeout", "15s"]);
    expect(r.code, r.err).toBe(1);
    expect(r.result).toMatchObject({ status: "Failed", reason: "DeadlineExceeded" });
    expect(r.result.message).toMatch(/ran out of time \(15s\) and was stopped; raise the timeout/);
  });

  it("evicted (the Eviction API, as a node drain does it): Failed, says so and what to do", async () => {
    const r = await buildpod(["--from-dir", context(`FROM ${tc().busybox}\nRUN echo sleeping && sleep 120\n`), "-t", image("sweep:evicted")], {
      onStart: evictWhenSleeping,
    });
    expect(r.code, r.err).toBe(1);
    expect(r.result.status).toBe("Failed");
    expect(r.result.reason).toMatch(/Evict/);
    expect(r.result.message).toMatch(/evict.*; retry/i);
  });
});

describe("retries", () => {
  it("evicted with --retries 1: the Job starts the build again, it is followed to its end, and the result says which attempt", async () => {
    // Long enough that the eviction's 30 s grace period ends the first attempt before its step does.
    const r = await buildpod(["--from-dir", context(`FROM ${tc().busybox}\nRUN echo sleeping && sleep 40 && echo slept\n`), "-t", image("sweep:retried"), "--retries", "1"], {
      onStart: evictWhenSleeping,
    });
    expect(r.code, r.err).toBe(0);
    expect(r.err).toMatch(/attempt 1 of 2 ended: the build pod was disrupted: .*; the Job starts attempt 2/);
    expect(r.err).toMatch(/build complete: .* on attempt 2/);
    expect(r.out.match(/\| sleeping$/gm)).toHaveLength(2);
    expect(r.out.match(/\| slept$/gm)).toHaveLength(1);
    expect(r.result).toMatchObject({ status: "Complete", attempt: 2 });
    // The Job's own count: one pod failed (counted against backoffLimit), one succeeded.
    const job = () => JSON.parse(kubectl(["get", "job", r.result.run, "-o", "json"]));
    await until("the Job complete", async () => job().status.succeeded === 1, 30_000);
    expect([job().status.failed, job().status.succeeded]).toEqual([1, 1]);
  });

  it.skipIf(!tc().flaky)("a registry that drops the push's first connections: the builder tries again, without a new pod, and pushes", async () => {
    const flaky = tc().flaky!;
    const from = readFileSync(flaky.log).length;
    const ref = `${flaky.host}/${image("sweep:flaky").split("/").slice(1).join("/")}`;
    writeFileSync(flaky.control, "2");
    const r = await buildpod(["--from-dir", context(`FROM ${tc().busybox}\nRUN echo pushed-through-trouble > /marker\n`), "-t", ref]);
    expect(r.code, `${r.out}\n${r.err}`).toBe(0);
    // The one pod did it: the result names no other attempt.
    expect(r.result.status).toBe("Complete");
    expect((r.result as { attempt?: number }).attempt ?? 1).toBe(1);
    const log = readFileSync(flaky.log).subarray(from).toString("utf8");
    expect(log.match(/ dropped$/gm)).toHaveLength(2);
    expect(log).toMatch(/ forwarded$/m);
    expect(readFileSync(flaky.control, "utf8")).toBe("0");
    expect(await registryDigest(image("sweep:flaky"))).toBe((r.result as { digest?: string }).digest);
  });

  it("a failing step with --retries 2 is not retried: the build's own failure fails the Job at once", async () => {
    const r = await buildpod(["--from-dir", context(`FROM ${tc().busybox}\nRUN echo failing-step && exit 3\n`), "-t", image("sweep:not-retried"), "--retries", "2"]);
    expect(r.code, r.err).toBe(1);
    expect(r.result).toMatchObject({ status: "Failed", reason: "BuildFailed" });
    expect(r.out.match(/\| failing-step$/gm)).toHaveLength(1);
    expect(r.err).not.toMatch(/attempt 2/);
    // The Job controller writes Failed once the pod is gone.
    const failed = () => JSON.parse(kubectl(["get", "job", r.result.run, "-o", "json"])).status.conditions?.find((c: { type: string }) => c.type === "Failed");
    await until("the Job failed", async () => failed() !== undefined, 30_000);
    expect(failed()).toMatchObject({ status: "True", reason: "PodFailurePolicy" });
  });
});

/**
 * The test cluster's kubelet: the process whose arguments name its configuration beside the pod log
 * directory. Stopped (SIGSTOP), it stops answering the API server as a lost node does, while its containers
 * run on; continued, it comes back.
 */
function kubeletPid(): number {
  const config = `--config=${join(dirname(tc().podLogs), "kubelet.json")}`;
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    let args: string[];
    try {
      args = readFileSync(`/proc/${entry}/cmdline`, "utf8").split("\0");
    } catch {
      continue;
    }
    if (args.includes("kubelet") && args.includes(config)) return Number(entry);
  }
  throw new Error(`no kubelet runs with ${config}`);
}

describe("a build whose node is lost", () => {
  let frozen: number | undefined;
  afterAll(() => {
    if (frozen) process.kill(frozen, "SIGCONT");
  });

  // One node: once it is unreachable, the node lifecycle controller sees every node down and stops evicting
  // ("master disruption mode"), as it would on any cluster that lost all its nodes at once. What remains is
  // what an operator does for a node that is gone (non-graceful node shutdown): the out-of-service taint,
  // on which the taint manager evicts the node's pods and the pod garbage collector force-deletes them.
  it.skipIf(!tc().podLogs)("with --retries 1: its pod is evicted from the unreachable node (out-of-service taint), and the Job's next attempt runs when the node is back", async () => {
    const kubelet = kubeletPid();
    const node = kubectl(["get", "nodes", "-o", "jsonpath={.items[0].metadata.name}"]).trim();
    const taint = "node.kubernetes.io/out-of-service=nodeshutdown:NoExecute";
    let run = "";
    // The step outlasts the node's grace period (50 s) and the eviction after it.
    const r = await buildpod(["--from-dir", context(`FROM ${tc().busybox}\nRUN echo sleeping && sleep 100 && echo slept\n`), "-t", image("sweep:node-lost"), "--retries", "1"], {
      onStart: (io) => void until("the build running", async () => /\| sleeping$/m.test(io.out), 120_000).then(async () => {
        run = /created job (\S+) in namespace/.exec(io.err)![1]!;
        process.kill(kubelet, "SIGSTOP");
        frozen = kubelet;
        try {
          const ready = () => kubectl(["get", "node", node, "-o", "jsonpath={.status.conditions[?(@.type==\"Ready\")].status}"]).trim();
          await until("the node to be unreachable", async () => ready() === "Unknown", 120_000);
          kubectl(["taint", "node", node, taint]);
          const disrupted = () => kubectl(["get", "pods", "-l", `buildpod.dev/run=${run}`, "-o", "jsonpath={.items[*].status.conditions[?(@.type==\"DisruptionTarget\")].reason}"]).trim();
          await until("the pod to be evicted", async () => disrupted() !== "", 60_000);
        } finally {
          spawnSync(tc().kubectl, ["taint", "node", node, `${taint.split("=")[0]}-`], { env: { ...process.env, KUBECONFIG: tc().kubeconfig } });
          process.kill(kubelet, "SIGCONT");
          frozen = undefined;
        }
      }),
    });
    expect(r.code, r.err).toBe(0);
    expect(r.err).toMatch(/attempt 1 of 2 ended: the build pod was disrupted: .*; the Job starts attempt 2/);
    expect(r.out.match(/\| slept$/gm)).toHaveLength(1);
    expect(r.result).toMatchObject({ status: "Complete", attempt: 2 });
  }, 420_000);
});

describe("a build that loses its node to a more important pod", () => {
  /**
   * The build asks for most of the node's CPU; a pod of a higher priority that asks as much (and then runs
   * for a second) can only run once the scheduler has preempted the build.
   */
  async function preempted(step: string, args: string[], tag: string): Promise<Ran> {
    const cores = Number(kubectl(["get", "node", "-o", "jsonpath={.items[0].status.allocatable.cpu}"]).replace(/m$/, "")) || 2;
    const most = `${Math.floor(cores * 1000 * 0.7)}m`;
    const high = `sweep-high-${process.pid}-${tag}`;
    kubectl(["apply", "-f", "-"], JSON.stringify({ apiVersion: "scheduling.k8s.io/v1", kind: "PriorityClass", metadata: { name: high }, value: 1_000_000 }));
    const pod = `sweep-preemptor-${process.pid}-${tag}`;
    try {
      return await buildpod(["--from-dir", context(`FROM ${tc().busybox}\nRUN echo sleeping && ${step}\n`), "-t", image(`sweep:${tag}`), "--cpu-request", most, ...args], {
        onStart: (io) => void until("the build running", async () => /\| sleeping$/m.test(io.out), 120_000).then(() => {
          kubectl(["apply", "-f", "-"], JSON.stringify({
            apiVersion: "v1", kind: "Pod", metadata: { name: pod, namespace: "default" },
            spec: { priorityClassName: high, restartPolicy: "Never", containers: [{ name: "c", image: tc().busybox, command: ["sleep", "1"], resources: { requests: { cpu: most } } }] },
          }));
        }),
      });
    } finally {
      spawnSync(tc().kubectl, ["delete", "pod", pod, "--wait=false"], { env: { ...process.env, KUBECONFIG: tc().kubeconfig } });
      spawnSync(tc().kubectl, ["delete", "priorityclass", high], { env: { ...process.env, KUBECONFIG: tc().kubeconfig } });
    }
  }

  it("preempted by the scheduler: Failed, says so and what to do", async () => {
    const r = await preempted("sleep 120", [], "preempted");
    expect(r.code, r.err).toBe(1);
    expect(r.result).toMatchObject({ status: "Failed", reason: "PreemptionByScheduler" });
    expect(r.result.message).toMatch(/^the build pod was disrupted: .*; retry the build/);
  });

  it("preempted with --retries 1: the next attempt runs once the more important pod is done, and completes", async () => {
    // The step outlasts the 30 s grace period the preempted pod gets, so the first attempt cannot finish.
    const r = await preempted("sleep 45 && echo slept", ["--retries", "1"], "preempted-retried");
    expect(r.code, r.err).toBe(0);
    expect(r.err).toMatch(/attempt 1 of 2 ended: the build pod was disrupted: .*; the Job starts attempt 2/);
    expect(r.out.match(/\| slept$/gm)).toHaveLength(1);
    expect(r.result).toMatchObject({ status: "Complete", attempt: 2 });
  });
});

describe("a build stopped from outside", () => {
  let stall: Server | undefined;
  afterAll(() => stall?.close());

  // The stalling registry listens on the test cluster's own host address.
  it.skipIf(!tc().identities)("cancelled while its image is still being pulled: exit 4, nothing left", async () => {
    // A registry on the test cluster's own host address that takes connections and never answers.
    const host = tc().registry.replace(/\.2:\d+$/, ".1");
    stall = createServer(() => {});
    await new Promise<void>((r) => stall!.listen(0, host, r));
    const port = (stall.address() as { port: number }).port;
    const r = await buildpod(["--from-dir", trivial(), "-t", image("sweep:pulling"), "--start-timeout", SLOW_START], {
      env: { BUILDPOD_IMAGE_SOURCE: `${host}:${port}/stalls/forever:1` },
      onStart: (io, child) => void until("the pull under way", async () => /pulling image/i.test(io.err), 60_000).then(() => child.kill("SIGTERM")),
    });
    expect(r.code, r.err).toBe(4);
    expect(r.result.status).toBe("Cancelled");
    expect(r.err).toMatch(/deleted job\//);
    await until("nothing left", async () => (await leftovers(r.result.run)).length === 0, 30_000);
  });

  it("the client killed with -9: the cluster still stops the build at its deadline and removes it after --delete-after", async () => {
    let run = "";
    const r = await buildpod(["--from-dir", context(`FROM ${tc().busybox}\nRUN echo sleeping && sleep 300\n`), "-t", image("sweep:kill9"), "--timeout", "10s", "--delete-after", "5s"], {
      onStart: (io, child) => void until("the build running", async () => /\| sleeping$/m.test(io.out), 120_000).then(() => {
        run = /created job (\S+) in namespace/.exec(io.err)![1]!;
        child.kill("SIGKILL");
      }),
    });
    expect(r.code).toBeNull();
    expect(run).not.toBe("");
    await until("the Job removed by its TTL", async () => (await leftovers(run)).length === 0, 90_000);
  });
});
