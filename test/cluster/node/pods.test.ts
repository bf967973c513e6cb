import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { PassThrough } from "node:stream";
import type { V1Pod } from "@kubernetes/client-node";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startInfra, type Infra } from "../infra/cluster.js";
import { logLines, podName, staticSources, terminal, watchPod } from "./harness.js";
import { PodmanNode } from "./podman-node.js";

let infra: Infra;
let node: PodmanNode;

beforeAll(async () => {
  infra = await startInfra({ git: false });
  node = new PodmanNode({ stateDir: infra.stateDir, podman: infra.podman, backoff: { initialMs: 1000, maxMs: 4000 } });
}, 20 * 60_000);

afterAll(async () => {
  await node?.shutdown();
  await infra?.stop();
}, 120_000);

function pod(name: string, spec: V1Pod["spec"]): V1Pod {
  return { apiVersion: "v1", kind: "Pod", metadata: { name: podName(name), namespace: "default", uid: crypto.randomUUID(), labels: { app: name } }, spec };
}

describe("PodmanNode", () => {
  it("runs an init container that hands a file to the main container through an emptyDir, logs kept", async () => {
    const bb = infra.images.busybox;
    const w = watchPod(node, pod("init", {
      restartPolicy: "Never",
      volumes: [{ name: "work", emptyDir: {} }],
      initContainers: [{ name: "prepare", image: bb, command: ["sh", "-c", "echo from-init > /work/data; echo init said hello"],
        volumeMounts: [{ name: "work", mountPath: "/work" }] }],
      containers: [{ name: "main", image: bb, command: ["sh", "-c"], args: ["cat /work/data; echo $(GREETING) $GREETING"],
        env: [{ name: "GREETING", value: "hi" }], volumeMounts: [{ name: "work", mountPath: "/work" }] }],
    }));
    const done = await w.until(terminal, 60_000, "pod to finish");
    expect(done.phase).toBe("Succeeded");
    const init = w.container("prepare", done)!;
    const main = w.container("main", done)!;
    expect(init.state?.terminated?.reason).toBe("Completed");
    expect(main.state?.terminated?.exitCode).toBe(0);
    expect(main.imageID).toMatch(/sha256:[0-9a-f]{64}/);
    expect(main.containerID).toMatch(/^podman:\/\/[0-9a-f]{64}$/);
    // The main container only started after the init container ended.
    expect(main.state!.terminated!.startedAt!.getTime()).toBeGreaterThanOrEqual(init.state!.terminated!.finishedAt!.getTime());
    // The phases went Pending -> Running -> Succeeded, and the conditions ended as kubelet leaves them.
    const phases = [...new Set(w.statuses.map((s) => s.phase))];
    expect(phases[0]).toBe("Pending");
    expect(phases).toContain("Succeeded");
    const cond = Object.fromEntries(done.conditions!.map((c) => [c.type, c.status]));
    expect(cond).toMatchObject({ PodScheduled: "True", Initialized: "True", Ready: "False", ContainersReady: "False" });
    expect(w.statuses.some((s) => s.initContainerStatuses?.[0]?.state?.running)).toBe(true);
    // Each report is a change; every terminated state ends no earlier than it started.
    for (let i = 1; i < w.statuses.length; i++) expect(JSON.stringify(w.statuses[i])).not.toBe(JSON.stringify(w.statuses[i - 1]));
    for (const c of [init, main]) expect(c.state!.terminated!.finishedAt!.getTime()).toBeGreaterThanOrEqual(c.state!.terminated!.startedAt!.getTime());
    // Logs in the CRI format, still there after the containers ended.
    const initLog = readFileSync(w.running.logPath("prepare")!, "utf8");
    expect(initLog).toMatch(/^\S+ stdout F init said hello$/m);
    const mainLog = readFileSync(w.running.logPath("main")!, "utf8");
    expect(mainLog).toMatch(/ stdout F from-init\n/);
    expect(mainLog).toMatch(/ stdout F hi hi\n/);
    // Events name the container they are about.
    const reasons = w.events.filter((e) => e.fieldPath === "spec.initContainers{prepare}").map((e) => e.reason);
    expect(reasons).toEqual(expect.arrayContaining(["Pulled", "Created", "Started"]));
    await w.running.kill(0);
  });

  it("ends a container over its memory limit as OOMKilled with exit code 137", async () => {
    const w = watchPod(node, pod("oom", {
      restartPolicy: "Never",
      containers: [{ name: "hog", image: infra.images.busybox, resources: { limits: { memory: "32Mi" } },
        command: ["sh", "-c", "exec dd if=/dev/zero of=/dev/null bs=96M count=1"] }],
    }));
    const done = await w.until(terminal, 60_000, "pod to finish");
    expect(done.phase).toBe("Failed");
    const t = w.container("hog", done)!.state!.terminated!;
    expect(t.reason).toBe("OOMKilled");
    expect(t.exitCode).toBe(137);
    await w.running.kill(0);
  });

  it("reports OOMKilled when a child process is killed for memory, keeping the container's own exit code", async () => {
    const w = watchPod(node, pod("oomchild", {
      restartPolicy: "Never",
      containers: [
        { name: "parent", image: infra.images.busybox, resources: { limits: { memory: "32Mi" } },
          command: ["sh", "-c", "dd if=/dev/zero of=/dev/null bs=96M count=1; echo survived; exit 3"] },
        // The same limit, not reached: an ordinary failure stays Error.
        { name: "plain", image: infra.images.busybox, resources: { limits: { memory: "32Mi" } },
          command: ["sh", "-c", "exit 137"] },
      ],
    }));
    const done = await w.until(terminal, 60_000, "pod to finish");
    expect(w.container("parent", done)!.state!.terminated).toMatchObject({ reason: "OOMKilled", exitCode: 3 });
    expect(w.container("plain", done)!.state!.terminated).toMatchObject({ reason: "Error", exitCode: 137 });
    expect(logLines(w.running.logPath("parent"))).toContain("survived");
    await w.running.kill(0);
  });

  it("reports a failing container's exit code and termination message (file, then log fallback)", async () => {
    const bb = infra.images.busybox;
    const w = watchPod(node, pod("fail", {
      restartPolicy: "Never",
      containers: [
        { name: "file", image: bb, command: ["sh", "-c", "printf 'digest: sha256:abc' > /dev/termination-log; exit 3"] },
        { name: "custom", image: bb, terminationMessagePath: "/tmp/result",
          command: ["sh", "-c", "echo done > /tmp/result"] },
        { name: "fallback", image: bb, terminationMessagePolicy: "FallbackToLogsOnError",
          command: ["sh", "-c", "for i in $(seq 1 100); do echo line $i; done; echo boom >&2; exit 7"] },
      ],
    }));
    const done = await w.until(terminal, 60_000, "pod to finish");
    expect(done.phase).toBe("Failed");
    const file = w.container("file", done)!.state!.terminated!;
    expect(file).toMatchObject({ exitCode: 3, reason: "Error", message: "digest: sha256:abc" });
    expect(w.container("custom", done)!.state!.terminated).toMatchObject({ exitCode: 0, reason: "Completed", message: "done\n" });
    const fb = w.container("fallback", done)!.state!.terminated!;
    expect(fb.exitCode).toBe(7);
    expect(fb.message).toMatch(/line 100\nboom\n$/);
    expect(fb.message).not.toMatch(/line 20\n/);
    expect(fb.message!.split("\n").length - 1).toBe(80);
    await w.running.kill(0);
  });

  it("reports ErrImagePull then ImagePullBackOff for an image the registry lacks, and stays Pending", async () => {
    const image = infra.registry.ref("buildpod/does-not-exist:1");
    const w = watchPod(node, pod("pull", { restartPolicy: "Never", containers: [{ name: "c", image }] }));
    await w.until((s) => s.containerStatuses?.[0]?.state?.waiting?.reason === "ErrImagePull", 30_000, "ErrImagePull");
    const back = await w.until((s) => s.containerStatuses?.[0]?.state?.waiting?.reason === "ImagePullBackOff", 30_000, "ImagePullBackOff");
    expect(back.phase).toBe("Pending");
    expect(back.containerStatuses![0]!.state!.waiting!.message).toContain(image);
    // It retries: a second Pulling event after the back-off.
    await w.until(() => w.events.filter((e) => e.reason === "Pulling").length >= 2, 30_000, "a retry");
    expect(w.events.some((e) => e.type === "Warning" && e.reason === "Failed" && e.message === "Error: ErrImagePull")).toBe(true);
    expect(w.events.some((e) => e.reason === "BackOff" && e.fieldPath === "spec.containers{c}")).toBe(true);
    await w.running.kill(0);
    expect(w.statuses.every((s) => s.phase === "Pending" || s === w.last())).toBe(true);
  });

  it("reports InvalidImageName for an unparsable image", async () => {
    const w = watchPod(node, pod("badname", { restartPolicy: "Never", containers: [{ name: "c", image: "Not A Valid:Name" }] }));
    const s = await w.until((s) => s.containerStatuses?.[0]?.state?.waiting?.reason === "InvalidImageName", 20_000, "InvalidImageName");
    expect(s.phase).toBe("Pending");
    await w.running.kill(0);
  });

  it("reports CreateContainerConfigError for a missing secret, then runs once it exists", async () => {
    const secrets: Record<string, Record<string, string>> = {};
    const w = watchPod(node, pod("secret", {
      restartPolicy: "Never",
      volumes: [{ name: "cfg", configMap: { name: "settings", items: [{ key: "a", path: "sub/a.txt", mode: 0o600 }] } }],
      containers: [{ name: "c", image: infra.images.busybox,
        command: ["sh", "-c", "echo token=$TOKEN; echo $(cat /cfg/sub/a.txt); stat -c %a /cfg/sub/a.txt; echo $CFG_b; echo from-secret=$S_token"],
        env: [{ name: "TOKEN", valueFrom: { secretKeyRef: { name: "creds", key: "token" } } }],
        envFrom: [{ configMapRef: { name: "settings" }, prefix: "CFG_" }, { secretRef: { name: "creds" }, prefix: "S_" }],
        volumeMounts: [{ name: "cfg", mountPath: "/cfg" }] }],
    }), staticSources(secrets, { settings: { a: "alpha", b: "beta" } }));
    const s = await w.until((s) => s.containerStatuses?.[0]?.state?.waiting?.reason === "CreateContainerConfigError", 30_000, "config error");
    expect(s.containerStatuses![0]!.state!.waiting!.message).toBe('secret "creds" not found');
    expect(s.phase).toBe("Pending");
    secrets.creds = { token: "s3cret" };
    const done = await w.until(terminal, 30_000, "pod to finish after the secret appeared");
    expect(done.phase).toBe("Succeeded");
    const log = readFileSync(w.running.logPath("c")!, "utf8");
    expect(log).toMatch(/stdout F token=s3cret\n/);
    expect(log).toMatch(/stdout F alpha\n/);
    expect(log).toMatch(/stdout F 600\n/);
    expect(log).toMatch(/stdout F beta\n/);
    expect(log).toMatch(/stdout F from-secret=s3cret\n/);
    await w.running.kill(0);
  });

  it("pipes a gzipped tar through exec stdin into a waiting container", async () => {
    const w = watchPod(node, pod("exec", {
      restartPolicy: "Never",
      volumes: [{ name: "src", emptyDir: {} }],
      containers: [{ name: "recv", image: infra.images.busybox, volumeMounts: [{ name: "src", mountPath: "/workspace" }],
        command: ["sh", "-c", "while [ ! -f /workspace/.done ]; do sleep 0.2; done; cat /workspace/source/hello.txt"] }],
    }));
    await w.until((s) => !!s.containerStatuses?.[0]?.state?.running, 30_000, "running");
    // A gzipped tar made here, binary data through stdin.
    const { execFileSync } = await import("node:child_process");
    const { mkdtempSync, writeFileSync } = await import("node:fs");
    const dir = mkdtempSync("/tmp/bp-exec-");
    writeFileSync(`${dir}/hello.txt`, "hello through exec\n");
    const tgz = execFileSync("tar", ["-czf", "-", "-C", dir, "hello.txt"]);
    const stdin = new PassThrough();
    const out: Buffer[] = [];
    const stdout = new PassThrough().on("data", (b: Buffer) => out.push(b));
    const p = w.running.exec("recv", ["sh", "-c", "mkdir -p /workspace/source && tar -xzf - -C /workspace/source && echo unpacked"], { stdin, stdout });
    stdin.end(tgz);
    expect(await p).toBe(0);
    expect(Buffer.concat(out).toString()).toBe("unpacked\n");
    const code = await w.running.exec("recv", ["sh", "-c", "exit 4"], {});
    expect(code).toBe(4);
    expect(await w.running.exec("recv", ["touch", "/workspace/.done"], {})).toBe(0);
    const done = await w.until(terminal, 30_000, "pod to finish");
    expect(done.phase).toBe("Succeeded");
    expect(readFileSync(w.running.logPath("recv")!, "utf8")).toMatch(/stdout F hello through exec\n/);
    await w.running.kill(0);
  });

  it("kill stops a sleeping pod within its grace period and removes its containers", async () => {
    const w = watchPod(node, pod("sleep", {
      restartPolicy: "Never",
      containers: [{ name: "s", image: infra.images.busybox, command: ["sleep", "3600"] }],
    }));
    await w.until((s) => s.phase === "Running", 30_000, "running");
    const id = w.container("s")!.containerID!.replace("podman://", "");
    const t0 = Date.now();
    await w.running.kill(1);
    expect(Date.now() - t0).toBeLessThan(8000);
    expect(w.events.some((e) => e.reason === "Killing" && e.fieldPath === "spec.containers{s}")).toBe(true);
    const last = w.last()!;
    expect(last.phase).toBe("Failed");
    expect(last.containerStatuses![0]!.state!.terminated!.exitCode).toBe(137);
    const exists = await infra.podman.podman(["container", "exists", id], { check: false });
    expect(exists.code).toBe(1);
    // The log file outlives the container, so the API server can still serve it.
    expect(w.running.logPath("s")).toMatch(/\/0\.log$/);
  });

  it("applies securityContext, cpu limits, workingDir and Kubernetes command/args semantics", async () => {
    const bb = infra.images.busybox;
    const w = watchPod(node, pod("secctx", {
      restartPolicy: "Never",
      containers: [
        { name: "user", image: bb, workingDir: "/tmp", command: ["sh", "-c", "id -u; id -g; pwd; touch /ro 2>/dev/null || echo read-only; grep CapEff /proc/self/status; cat /sys/fs/cgroup/cpu/cpu.cfs_quota_us"],
          securityContext: { runAsUser: 1234, runAsGroup: 5678, readOnlyRootFilesystem: true, capabilities: { drop: ["ALL"] } },
          resources: { limits: { cpu: "500m" } } },
        // args without command keep the image's ENTRYPOINT (none for busybox) and replace its CMD.
        { name: "args", image: bb, args: ["echo", "args-only"] },
        { name: "nonroot", image: bb, command: ["true"], securityContext: { runAsNonRoot: true } },
      ],
    }));
    await w.until((s) => w.container("nonroot", s)?.state?.waiting?.reason === "CreateContainerConfigError", 30_000, "runAsNonRoot refusal");
    expect(w.container("nonroot")!.state!.waiting!.message).toBe("container has runAsNonRoot and image will run as root");
    await w.until((s) => !!w.container("user", s)?.state?.terminated && !!w.container("args", s)?.state?.terminated, 30_000, "containers to end");
    const log = logLines(w.running.logPath("user"));
    expect(log.slice(0, 4)).toEqual(["1234", "5678", "/tmp", "read-only"]);
    expect(log[4]).toMatch(/CapEff:\s+0+$/);
    expect(log[5]).toBe("50000");
    expect(readFileSync(w.running.logPath("args")!, "utf8")).toMatch(/stdout F args-only\n/);
    await w.running.kill(0);
  });

  it("attaches to a container's stdin and stdout", async () => {
    const w = watchPod(node, pod("attach", {
      restartPolicy: "Never",
      containers: [{ name: "a", image: infra.images.busybox, stdin: true, command: ["sh", "-c", "read line; echo got $line"] }],
    }));
    await w.until((s) => !!s.containerStatuses?.[0]?.state?.running, 30_000, "running");
    const stdin = new PassThrough();
    const out: Buffer[] = [];
    const stdout = new PassThrough().on("data", (b: Buffer) => out.push(b));
    const attached = w.running.attach!("a", { stdin, stdout });
    stdin.write("hello\n");
    const done = await w.until(terminal, 30_000, "pod to finish");
    stdin.end();
    await attached;
    expect(done.phase).toBe("Succeeded");
    expect(Buffer.concat(out).toString()).toContain("got hello");
    await w.running.kill(0);
  });

  it("can enforce activeDeadlineSeconds itself, as kubelet does", async () => {
    const strict = new PodmanNode({ stateDir: infra.stateDir, podman: infra.podman, enforceActiveDeadline: true });
    try {
      const w = watchPod(strict, pod("deadline", {
        restartPolicy: "Never", activeDeadlineSeconds: 2, terminationGracePeriodSeconds: 1,
        containers: [{ name: "s", image: infra.images.busybox, command: ["sleep", "600"] }],
      }));
      const done = await w.until(terminal, 30_000, "deadline");
      expect(done).toMatchObject({ phase: "Failed", reason: "DeadlineExceeded" });
      expect(w.events.some((e) => e.reason === "DeadlineExceeded" && e.type === "Warning")).toBe(true);
      await w.running.kill(0);
    } finally {
      await strict.shutdown();
    }
  });

  it("mounts secret, configMap items, downwardAPI and hostPath volumes with their modes", async () => {
    const host = mkdtempSync("/tmp/bp-hostpath-");
    writeFileSync(`${host}/from-host`, "host file\n");
    const w = watchPod(node, pod("vols", {
      restartPolicy: "Never",
      volumes: [
        { name: "sec", secret: { secretName: "tls", defaultMode: 0o400 } },
        { name: "dapi", downwardAPI: { items: [{ path: "labels", fieldRef: { fieldPath: "metadata.labels" } }] } },
        { name: "hp", hostPath: { path: host, type: "Directory" } },
      ],
      containers: [{ name: "c", image: infra.images.busybox,
        command: ["sh", "-c", "stat -c '%a %n' /sec/tls.key; cat /sec/tls.key; echo; cat /dapi/labels; echo; cat /host/from-host; echo written > /host/from-pod; echo $POD_NS/$POD_NAME"],
        env: [{ name: "POD_NS", valueFrom: { fieldRef: { fieldPath: "metadata.namespace" } } },
          { name: "POD_NAME", valueFrom: { fieldRef: { fieldPath: "metadata.name" } } }],
        volumeMounts: [{ name: "sec", mountPath: "/sec" }, { name: "dapi", mountPath: "/dapi" }, { name: "hp", mountPath: "/host" }] }],
    }), staticSources({ tls: { "tls.key": "KEY" } }));
    const done = await w.until(terminal, 30_000, "pod to finish");
    expect(done.phase).toBe("Succeeded");
    const out = logLines(w.running.logPath("c"));
    expect(out.slice(0, 4)).toEqual(["400 /sec/tls.key", "KEY", 'app="vols"', "host file"]);
    expect(out[4]).toMatch(/^default\/vols-/);
    expect(readFileSync(`${host}/from-pod`, "utf8")).toBe("written\n");
    await w.running.kill(0);
  });

  it("a forced kill cuts a graceful kill short", async () => {
    const w = watchPod(node, pod("force", {
      restartPolicy: "Never",
      containers: [{ name: "s", image: infra.images.busybox, command: ["sleep", "3600"] }],
    }));
    await w.until((s) => s.phase === "Running", 30_000, "running");
    const t0 = Date.now();
    const graceful = w.running.kill(60, "Killing");
    await new Promise((r) => setTimeout(r, 300));
    await w.running.kill(0);
    await graceful;
    expect(Date.now() - t0).toBeLessThan(10_000);
    expect(w.last()!.containerStatuses![0]!.state!.terminated!.exitCode).toBe(137);
  });
});
