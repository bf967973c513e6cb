// A real image build inside a pod: an init container fetches a commit from the git daemon by SHA, buildah
// builds the Dockerfile (FROM the local busybox image) and pushes to the loopback registry; the digest the
// pod reports through its termination message is the one the registry serves.
import type { V1Pod } from "@kubernetes/client-node";
import { readFileSync } from "node:fs";
import { afterAll, beforeAll, expect, it } from "vitest";
import { startInfra, type Infra } from "../infra/cluster.js";
import { run } from "../infra/proc.js";
import { podName, terminal, watchPod } from "./harness.js";
import { PodmanNode } from "./podman-node.js";

let infra: Infra;
let node: PodmanNode;

beforeAll(async () => {
  infra = await startInfra();
  node = new PodmanNode({ stateDir: infra.stateDir, podman: infra.podman });
}, 20 * 60_000);

afterAll(async () => {
  await node?.shutdown();
  await infra?.stop();
}, 120_000);

it("builds with buildah inside a pod and pushes a digest the registry confirms", async () => {
  const repo = await infra.createRepo(`app-${process.pid}`, {
    files: {
      Dockerfile: `FROM ${infra.images.busybox}\nCOPY hello.txt /hello.txt\nRUN cat /hello.txt > /built\n`,
      "hello.txt": "hello from git\n",
    },
    tag: "v1",
  });
  const output = infra.registry.ref(`test/built-${process.pid}:latest`);
  const pod: V1Pod = {
    metadata: { name: podName("build"), namespace: "default", uid: crypto.randomUUID() },
    spec: {
      restartPolicy: "Never",
      volumes: [
        { name: "source", emptyDir: {} },
        { name: "storage", emptyDir: {} },
        { name: "tmp", emptyDir: {} },
      ],
      initContainers: [{
        name: "fetch",
        image: infra.images.builder,
        env: [{ name: "URL", value: repo.url }, { name: "SHA", value: repo.head }],
        command: ["sh", "-ec", [
          "git init -q /workspace/source && cd /workspace/source",
          "git fetch -q --depth 1 \"$URL\" \"$SHA\"",
          "git checkout -q FETCH_HEAD",
          "git rev-parse HEAD > /dev/termination-log",
        ].join("\n")],
        volumeMounts: [{ name: "source", mountPath: "/workspace" }],
      }],
      containers: [{
        name: "build",
        image: infra.images.builder,
        env: [{ name: "IMAGE", value: output }, { name: "TMPDIR", value: "/var/tmp/build" }],
        command: ["sh", "-ec", [
          "mkdir -p \"$TMPDIR\"",
          "buildah --storage-driver=vfs bud --isolation=chroot --tls-verify=false --timestamp 0 -t \"$IMAGE\" /workspace/source",
          "buildah --storage-driver=vfs push --tls-verify=false --digestfile /tmp/digest \"$IMAGE\"",
          "cat /tmp/digest > /dev/termination-log",
        ].join("\n")],
        securityContext: { capabilities: { add: ["SETFCAP"] } },
        resources: { limits: { cpu: "1", memory: "1Gi" }, requests: { cpu: "500m", memory: "256Mi" } },
        volumeMounts: [
          { name: "source", mountPath: "/workspace" },
          { name: "storage", mountPath: "/var/lib/containers" },
          { name: "tmp", mountPath: "/var/tmp" },
        ],
      }],
    },
  };
  const w = watchPod(node, pod);
  const done = await w.until(terminal, 240_000, "build pod to finish");
  const log = (c: string) => {
    const p = w.running.logPath(c);
    return p ? readFileSync(p, "utf8") : "";
  };
  expect(done.phase, log("fetch") + log("build")).toBe("Succeeded");
  expect(w.container("fetch", done)!.state!.terminated!.message).toBe(`${repo.head}\n`);
  const digest = w.container("build", done)!.state!.terminated!.message!;
  expect(digest).toMatch(/^sha256:[0-9a-f]{64}$/);
  const inspect = JSON.parse((await run("skopeo", ["inspect", "--tls-verify=false", `docker://${output}`], { env: infra.podman.env })).stdout);
  expect(inspect.Digest).toBe(digest);
  // The built image runs on the node: its RUN step saw the file from git.
  const check = watchPod(node, {
    metadata: { name: podName("built"), namespace: "default", uid: crypto.randomUUID() },
    spec: { restartPolicy: "Never", containers: [{ name: "c", image: `${output.replace(/:latest$/, "")}@${digest}`, command: ["cat", "/built"] }] },
  });
  const ran = await check.until(terminal, 60_000, "built image to run");
  expect(ran.phase).toBe("Succeeded");
  expect(readFileSync(check.running.logPath("c")!, "utf8")).toMatch(/stdout F hello from git\n/);
  await check.running.kill(0);
  await w.running.kill(0);
}, 300_000);
