// The cluster itself, driven by the real kubectl: pods from the local registry run to completion with
// their logs, a pod over its memory limit is OOMKilled, an unschedulable pod says why.
import { spawnSync } from "node:child_process";
import { describe, expect, it } from "vitest";
import { tc } from "./kit.js";

function kubectl(args: string[], input?: string) {
  const r = spawnSync("kubectl", ["--kubeconfig", tc().kubeconfig, ...args], { encoding: "utf8", input, timeout: 120_000 });
  return { code: r.status, out: r.stdout, err: r.stderr };
}

function pod(name: string, command: string, resources?: Record<string, unknown>): string {
  return JSON.stringify({
    apiVersion: "v1", kind: "Pod", metadata: { name },
    spec: { restartPolicy: "Never", containers: [{ name: "main", image: tc().busybox, command: ["sh", "-c", command], ...(resources ? { resources } : {}) }] },
  });
}

const suffix = Date.now().toString(36);

describe("kubectl against the cluster", () => {
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
});
