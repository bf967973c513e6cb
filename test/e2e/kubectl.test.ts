// The cluster itself, driven by kubectl of its own release: it reports the server's version, creates a
// namespace and a docker-registry Secret (protobuf requests), pods from the local registry run to completion
// with their logs, a pod over its memory limit is OOMKilled, an unschedulable pod says why, a namespace that
// enforces Pod Security 'restricted' refuses a privileged pod, `get pods -w` follows a pod to Completed,
// `exec -i ... tar` unpacks a real archive in a running container, and a Job is run to completion.
import { spawn, spawnSync } from "node:child_process";
import { createHash, randomBytes } from "node:crypto";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { tc } from "./kit.js";

function kubectl(args: string[], input?: string | Buffer) {
  const r = spawnSync(tc().kubectl, ["--kubeconfig", tc().kubeconfig, ...args], { encoding: "utf8", input, timeout: 120_000 });
  return { code: r.status, out: r.stdout, err: r.stderr };
}

function pod(name: string, command: string, resources?: Record<string, unknown>, spec: Record<string, unknown> = {}): string {
  return JSON.stringify({
    apiVersion: "v1", kind: "Pod", metadata: { name },
    spec: { restartPolicy: "Never", ...spec, containers: [{ name: "main", image: tc().busybox, command: ["sh", "-c", command], ...(resources ? { resources } : {}) }] },
  });
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

const suffix = Date.now().toString(36);

describe("kubectl against the cluster", () => {
  it("reports the server's version, the release kubectl was built from", () => {
    const v = kubectl(["version", "-o", "json"]);
    expect(v.code, v.err).toBe(0);
    const { clientVersion, serverVersion } = JSON.parse(v.out) as { clientVersion: { gitVersion: string }; serverVersion: { gitVersion: string } };
    expect(serverVersion.gitVersion).toMatch(/^v1\.\d+\.\d+/);
    // The test cluster's kubectl is built from the cluster's own release (a cluster prepared outside brings its own).
    if (tc().identities) expect(serverVersion.gitVersion).toBe(clientVersion.gitVersion);
  });

  it("creates a namespace and a docker-registry Secret in it", () => {
    const ns = `kubectl-ns-${suffix}`;
    const created = kubectl(["create", "namespace", ns]);
    expect(created.code, created.err).toBe(0);
    expect(created.out).toBe(`namespace/${ns} created\n`);
    const secret = kubectl(["-n", ns, "create", "secret", "docker-registry", "regcred", "--docker-server=registry.example", "--docker-username=u", "--docker-password=p"]);
    expect(secret.code, secret.err).toBe(0);
    const type = kubectl(["-n", ns, "get", "secret", "regcred", "-o", "jsonpath={.type}"]);
    expect(type.out).toBe("kubernetes.io/dockerconfigjson");
    const config = kubectl(["-n", ns, "get", "secret", "regcred", "-o", "jsonpath={.data.\\.dockerconfigjson}"]);
    expect(JSON.parse(Buffer.from(config.out, "base64").toString())).toMatchObject({ auths: { "registry.example": { username: "u", password: "p" } } });
    expect(kubectl(["delete", "namespace", ns, "--wait=false"]).code).toBe(0);
  });

  it("a namespace enforcing Pod Security 'restricted' refuses a privileged pod, saying why", () => {
    const ns = `kubectl-psa-${suffix}`;
    expect(kubectl(["create", "namespace", ns]).code).toBe(0);
    expect(kubectl(["label", "namespace", ns, "pod-security.kubernetes.io/enforce=restricted"]).code).toBe(0);
    const refused = kubectl(["-n", ns, "apply", "-f", "-"], pod("privileged", "true", undefined, {}).replace('"command"', '"securityContext":{"privileged":true},"command"'));
    expect(refused.code).not.toBe(0);
    expect(refused.err).toMatch(/forbidden: violates PodSecurity "restricted:latest": privileged/);
    expect(kubectl(["delete", "namespace", ns, "--wait=false"]).code).toBe(0);
  });

  it("runs a busybox pod from the local registry to Succeeded and streams its logs", async () => {
    const name = `kubectl-echo-${suffix}`;
    expect(kubectl(["apply", "-f", "-"], pod(name, "for i in 1 2 3; do echo line $i; sleep 1; done")).code).toBe(0);
    // As with any cluster, logs -f answers "waiting to start" until the container runs.
    let logs = kubectl(["logs", "-f", name]);
    for (let i = 0; i < 60 && logs.code !== 0; i++) {
      expect(logs.err).toMatch(/waiting to start/);
      await new Promise((r) => setTimeout(r, 250));
      logs = kubectl(["logs", "-f", name]);
    }
    expect(logs.out).toBe("line 1\nline 2\nline 3\n");
    const wait = kubectl(["wait", "--for=jsonpath={.status.phase}=Succeeded", `pod/${name}`, "--timeout=60s"]);
    expect(wait.code, wait.err).toBe(0);
    expect(kubectl(["delete", "pod", name, "--wait=true"]).code).toBe(0);
  });

  it("ends a pod over its memory limit as OOMKilled", () => {
    const name = `kubectl-oom-${suffix}`;
    kubectl(["apply", "-f", "-"], pod(name, "dd if=/dev/zero of=/dev/null bs=200M count=1", { limits: { memory: "64Mi" } }));
    const wait = kubectl(["wait", "--for=jsonpath={.status.phase}=Failed", `pod/${name}`, "--timeout=60s"]);
    expect(wait.code, wait.err).toBe(0);
    expect(kubectl(["get", "pod", name, "-o", "jsonpath={.status.containerStatuses[0].state.terminated.reason}"]).out).toBe("OOMKilled");
  });

  it("keeps an unschedulable pod Pending with the condition and a FailedScheduling event", async () => {
    const name = `kubectl-big-${suffix}`;
    kubectl(["apply", "-f", "-"], pod(name, "true", { requests: { memory: "4000Gi" } }));
    const wait = kubectl(["wait", "--for=condition=PodScheduled=False", `pod/${name}`, "--timeout=30s"]);
    expect(wait.code, wait.err).toBe(0);
    expect(kubectl(["get", "pod", name, "-o", "jsonpath={.status.phase} {.status.conditions[0].reason}"]).out).toBe("Pending Unschedulable");
    let events = "";
    for (let i = 0; i < 20 && !events.includes("FailedScheduling"); i++) {
      events = kubectl(["get", "events", "--field-selector", `involvedObject.name=${name}`]).out;
      if (!events.includes("FailedScheduling")) await new Promise((r) => setTimeout(r, 500));
    }
    expect(events).toMatch(/FailedScheduling.*Insufficient memory/);
    kubectl(["delete", "pod", name, "--wait=false"]);
  });

  it("follows a pod to Running and then Completed with `get pods -w`", async () => {
    const name = `kubectl-watch-${suffix}`;
    const watch = spawn(tc().kubectl, ["--kubeconfig", tc().kubeconfig, "get", "pods", "-w", "--field-selector", `metadata.name=${name}`],
      { stdio: ["ignore", "pipe", "pipe"] });
    let out = "";
    let err = "";
    watch.stdout.on("data", (b: Buffer) => (out += b.toString()));
    watch.stderr.on("data", (b: Buffer) => (err += b.toString()));
    const exited = new Promise<NodeJS.Signals | number | null>((r) => watch.on("exit", (code, sig) => r(sig ?? code)));
    const rows = () => out.split("\n").filter((l) => l.startsWith(`${name} `)).map((l) => l.split(/\s+/).slice(1, 3).join(" "));
    const until = async (row: string) => {
      for (let i = 0; i < 600 && !rows().includes(row); i++) await sleep(100);
      expect(rows(), err).toContain(row);
    };
    try {
      // The pod ends only when told to, so the watch (started first) sees it running and then the change to
      // Completed, however slowly anything starts.
      const applied = kubectl(["apply", "-f", "-"], pod(name, "until [ -e /tmp/go ]; do sleep 1; done; echo done", undefined,
        { terminationGracePeriodSeconds: 1 }));
      expect(applied.code, applied.err).toBe(0);
      await until("1/1 Running");
      const before = rows().slice(0, rows().indexOf("1/1 Running"));
      expect(before.every((r) => /^0\/1 (Pending|ContainerCreating|Running)$/.test(r)), before.join("; ")).toBe(true);
      expect(rows()).not.toContain("0/1 Completed");
      const go = kubectl(["exec", name, "--", "touch", "/tmp/go"]);
      expect(go.code, go.err).toBe(0);
      await until("0/1 Completed");
      expect(rows().indexOf("0/1 Completed")).toBeGreaterThan(rows().indexOf("1/1 Running"));
      // Still watching after the pod ended: -w only stops when told to.
      expect(watch.exitCode).toBeNull();
      // The kubelet shows the container Completed first and moves the pod to Succeeded once it has torn it
      // down (its sandbox stopped).
      const phase = kubectl(["wait", "--for=jsonpath={.status.phase}=Succeeded", `pod/${name}`, "--timeout=30s"]);
      expect(phase.code, phase.err).toBe(0);
    } finally {
      watch.kill("SIGTERM");
    }
    // kubectl ends a watch on SIGTERM (with status 1, as it does on Ctrl-C).
    const ended = await Promise.race([exited, sleep(5000).then(() => "still running")]);
    expect(ended === 1 || ended === "SIGTERM", String(ended)).toBe(true);
    expect(kubectl(["delete", "pod", name, "--wait=true"]).code).toBe(0);
  });

  it("unpacks a real tar streamed with `exec -i ... tar -xf -` in a running container and reads it back", () => {
    const name = `kubectl-exec-${suffix}`;
    const src = mkdtempSync(join(tmpdir(), "bp-kubectl-tar-"));
    try {
      const blob = randomBytes(300 * 1024); // several stream frames
      mkdirSync(join(src, "sub dir"));
      writeFileSync(join(src, "hello.txt"), "hello from the tar\n");
      writeFileSync(join(src, "sub dir", "data.bin"), blob);
      const archive = spawnSync("tar", ["-cf", "-", "-C", src, "."], { maxBuffer: 16 << 20 });
      expect(archive.status, archive.stderr?.toString()).toBe(0);
      expect(archive.stdout.length).toBeGreaterThan(blob.length);

      const applied = kubectl(["apply", "-f", "-"], pod(name, "mkdir -p /upload && exec sleep 3600", undefined, { terminationGracePeriodSeconds: 1 }));
      expect(applied.code, applied.err).toBe(0);
      const ready = kubectl(["wait", "--for=condition=Ready", `pod/${name}`, "--timeout=60s"]);
      expect(ready.code, ready.err).toBe(0);

      const put = kubectl(["exec", "-i", name, "--", "tar", "-xf", "-", "-C", "/upload"], archive.stdout);
      expect(put.code, put.err).toBe(0);
      const cat = kubectl(["exec", name, "--", "cat", "/upload/hello.txt"]);
      expect(cat.code, cat.err).toBe(0);
      expect(cat.out).toBe("hello from the tar\n");
      const sum = kubectl(["exec", name, "--", "sha256sum", "/upload/sub dir/data.bin"]);
      expect(sum.code, sum.err).toBe(0);
      expect(sum.out.split(/\s+/)[0]).toBe(createHash("sha256").update(blob).digest("hex"));
      const missing = kubectl(["exec", name, "--", "cat", "/upload/absent.txt"]);
      expect(missing.code).toBe(1);
      expect(missing.err).toMatch(/absent\.txt/);
    } finally {
      rmSync(src, { recursive: true, force: true });
      kubectl(["delete", "pod", name, "--wait=true"]);
    }
  });

  it("runs a batch/v1 Job to completion and shows it in `get job` and its status conditions", () => {
    const name = `kubectl-job-${suffix}`;
    const job = JSON.stringify({
      apiVersion: "batch/v1", kind: "Job", metadata: { name },
      spec: {
        backoffLimit: 0,
        template: { spec: { restartPolicy: "Never", containers: [{ name: "main", image: tc().busybox, command: ["sh", "-c", "echo job done"] }] } },
      },
    });
    const applied = kubectl(["apply", "-f", "-"], job);
    expect(applied.code, applied.err).toBe(0);
    expect(applied.out).toBe(`job.batch/${name} created\n`);
    const wait = kubectl(["wait", "--for=condition=Complete", `job/${name}`, "--timeout=90s"]);
    expect(wait.code, wait.err).toBe(0);

    const table = kubectl(["get", "job", name]);
    expect(table.code, table.err).toBe(0);
    const [header, row, ...rest] = table.out.trimEnd().split("\n");
    expect(header!.split(/\s+/)).toEqual(["NAME", "STATUS", "COMPLETIONS", "DURATION", "AGE"]);
    expect(row).toMatch(new RegExp(`^${name}\\s+Complete\\s+1/1\\s+\\d+s\\s+\\d+s$`));
    expect(rest).toEqual([]);

    const jp = (path: string) => kubectl(["get", "job", name, "-o", `jsonpath=${path}`]).out;
    expect(jp("{.status.succeeded}")).toBe("1");
    expect(jp("{.status.failed}")).toBe("");
    expect(jp('{.status.conditions[?(@.type=="Complete")].status}')).toBe("True");
    expect(jp('{.status.conditions[?(@.type=="Failed")].status}')).toBe("");
    expect(jp("{.status.conditions[*].type}").split(" ").sort()).toEqual(["Complete", "SuccessCriteriaMet"]);
    expect(Date.parse(jp("{.status.completionTime}"))).toBeGreaterThanOrEqual(Date.parse(jp("{.status.startTime}")));

    // The pod the controller made ran on the node.
    expect(kubectl(["get", "pods", "-l", `job-name=${name}`, "-o", "jsonpath={.items[*].status.phase}"]).out).toBe("Succeeded");
    expect(kubectl(["logs", `job/${name}`]).out).toBe("job done\n");
    expect(kubectl(["delete", "job", name, "--wait=true"]).code).toBe(0);
  });
});
