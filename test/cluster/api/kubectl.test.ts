// The real kubectl against the emulated API server: apply, get (server-side tables), watch, logs -f, exec with
// stdin and tar, delete, auth can-i.
import { spawn } from "node:child_process";
import { join } from "node:path";
import { writeFileSync } from "node:fs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startKit, waitFor, waitPhase, podSpec, type Kit } from "./testkit.js";

const KUBECTL = process.env.KUBECTL ?? "kubectl";
let kit: Kit;

beforeAll(async () => {
  kit = await startKit();
});
afterAll(async () => {
  await kit.close();
});

function kubectl(args: string[], input?: Buffer | string): Promise<{ code: number; stdout: Buffer; stderr: string }> {
  return new Promise((resolve, reject) => {
    const p = spawn(KUBECTL, ["--kubeconfig", kit.server.kubeconfigPath, "--cache-dir", join(kit.dir, "kcache"), ...args], { stdio: ["pipe", "pipe", "pipe"] });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    p.stdout.on("data", (c: Buffer) => out.push(c));
    p.stderr.on("data", (c: Buffer) => err.push(c));
    p.on("error", reject);
    p.on("close", (code) => resolve({ code: code ?? -1, stdout: Buffer.concat(out), stderr: Buffer.concat(err).toString() }));
    p.stdin.end(input);
  });
}

function tar(args: string[], input?: Buffer): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const p = spawn("tar", args, { stdio: ["pipe", "pipe", "inherit"] });
    const out: Buffer[] = [];
    p.stdout.on("data", (c: Buffer) => out.push(c));
    p.on("error", reject);
    p.on("close", (code) => (code === 0 ? resolve(Buffer.concat(out)) : reject(new Error(`tar exited ${code}`))));
    p.stdin.end(input);
  });
}

describe("kubectl", () => {
  it("applies a Job manifest and shows it complete in `get job`", async () => {
    const manifest = join(kit.dir, "job.yaml");
    writeFileSync(
      manifest,
      [
        "apiVersion: batch/v1",
        "kind: Job",
        "metadata:",
        "  name: kjob",
        "spec:",
        "  backoffLimit: 0",
        "  template:",
        "    spec:",
        "      restartPolicy: Never",
        "      containers:",
        "      - name: build",
        "        image: test/echo",
        '        args: ["built"]',
        "",
      ].join("\n"),
    );
    const applied = await kubectl(["apply", "-f", manifest]);
    expect(applied.stderr).toBe("");
    expect(applied.stdout.toString()).toBe("job.batch/kjob created\n");
    await waitFor(async () => (await kit.batch.readNamespacedJob({ name: "kjob", namespace: "default" })).status?.succeeded === 1, "job done");
    const got = await kubectl(["get", "job", "kjob"]);
    expect(got.code).toBe(0);
    const [header, row] = got.stdout.toString().trimEnd().split("\n");
    expect(header.split(/\s+/)).toEqual(["NAME", "STATUS", "COMPLETIONS", "DURATION", "AGE"]);
    expect(row.split(/\s+/).slice(0, 3)).toEqual(["kjob", "Complete", "1/1"]);
    expect((await kubectl(["logs", "job/kjob"])).stdout.toString()).toBe("built\n");
    expect((await kubectl(["apply", "-f", manifest])).stdout.toString()).toBe("job.batch/kjob unchanged\n");
  });

  it("watches pods with `get pods -w` until they complete", async () => {
    const p = spawn(KUBECTL, ["--kubeconfig", kit.server.kubeconfigPath, "--cache-dir", join(kit.dir, "kcache"), "get", "pods", "-w", "--field-selector", "metadata.name=watched"]);
    let text = "";
    p.stdout.on("data", (c: Buffer) => (text += c.toString()));
    await new Promise((r) => setTimeout(r, 300));
    await kit.core.createNamespacedPod({ namespace: "default", body: podSpec("watched", "test/echo") });
    try {
      await waitFor(() => /watched\s+0\/1\s+Completed/.test(text), "Completed row in kubectl output", 30_000);
    } finally {
      p.kill();
    }
    expect(text.split("\n")[0].split(/\s+/)).toEqual(["NAME", "READY", "STATUS", "RESTARTS", "AGE"]);
    expect(text).toMatch(/watched\s+0\/1\s+Pending/);
  });

  it("follows logs with `logs -f` and reports a container that is still waiting", async () => {
    await kit.core.createNamespacedPod({ namespace: "default", body: podSpec("talk", "test/lines", { args: ["4", "50"] }) });
    await waitPhase(kit, "talk", ["Running"]);
    const logs = await kubectl(["logs", "-f", "talk"]);
    expect(logs.code).toBe(0);
    expect(logs.stdout.toString()).toBe("line 1\nline 2\nline 3\nline 4\n");
    await kit.core.createNamespacedPod({ namespace: "default", body: podSpec("unplaced", "test/echo", {}, { nodeSelector: { none: "x" } }) });
    const waiting = await kubectl(["logs", "unplaced"]);
    expect(waiting.code).toBe(1);
    expect(waiting.stderr).toContain('container "main" in pod "unplaced" is waiting to start: ContainerCreating');
  });

  it("copies files in and out with `exec -i ... tar`, pipes stdin to cat, and returns exit codes", async () => {
    await kit.core.createNamespacedPod({ namespace: "default", body: podSpec("shell", "test/sleep") });
    await waitPhase(kit, "shell", ["Running"]);
    const src = join(kit.dir, "src");
    const { mkdirSync } = await import("node:fs");
    mkdirSync(join(src, "sub"), { recursive: true });
    writeFileSync(join(src, "Dockerfile"), "FROM scratch\n");
    writeFileSync(join(src, "sub", "data.bin"), Buffer.from([0, 1, 2, 255]));
    const archive = await tar(["-cf", "-", "-C", src, "."]);
    const put = await kubectl(["exec", "-i", "shell", "--", "tar", "-xf", "-", "-C", "/workspace"], archive);
    expect(put.code).toBe(0);
    const cat = await kubectl(["exec", "shell", "--", "cat", "/workspace/Dockerfile"]);
    expect(cat.stdout.toString()).toBe("FROM scratch\n");
    const back = await kubectl(["exec", "shell", "--", "tar", "-cf", "-", "-C", "/workspace", "."]);
    expect(back.code).toBe(0);
    const listing = (await tar(["-tf", "-"], back.stdout)).toString().split("\n").filter(Boolean).sort();
    expect(listing).toEqual(["Dockerfile", "sub/", "sub/data.bin"]);
    const piped = await kubectl(["exec", "-i", "shell", "--", "cat"], "through stdin\n");
    expect(piped.stdout.toString()).toBe("through stdin\n");
    const failed = await kubectl(["exec", "shell", "--", "sh", "-c", "exit 3"]);
    expect(failed.code).toBe(3);
    expect(failed.stderr).toContain("command terminated with exit code 3");
  });

  it("deletes a pod and waits until it is gone", async () => {
    const del = await kubectl(["delete", "pod", "shell"]);
    expect(del.code).toBe(0);
    expect(del.stdout.toString()).toBe('pod "shell" deleted\n');
    const get = await kubectl(["get", "pod", "shell"]);
    expect(get.code).toBe(1);
    expect(get.stderr).toContain('Error from server (NotFound): pods "shell" not found');
  });

  it("answers `auth can-i`", async () => {
    const yes = await kubectl(["auth", "can-i", "create", "pods"]);
    expect(yes.stdout.toString()).toBe("yes\n");
    kit.server.policy.rules = [{ verbs: ["create"], resources: ["selfsubjectaccessreviews"] }];
    try {
      const no = await kubectl(["auth", "can-i", "create", "pods/exec"]);
      expect(no.stdout.toString()).toBe("no\n");
      const denied = await kubectl(["get", "pods"]);
      expect(denied.stderr).toContain('Error from server (Forbidden): pods is forbidden: User "system:serviceaccount:ci:builder" cannot list resource "pods" in API group "" in the namespace "default"');
    } finally {
      delete kit.server.policy.rules;
    }
  });
});
