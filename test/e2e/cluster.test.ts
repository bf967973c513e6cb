// The test cluster's control plane as a user meets it, through kubectl of its release: who the static tokens
// are and what RBAC lets each do, service accounts with tokens from the TokenRequest API, and the default
// admission plugins at work (LimitRanger, ResourceQuota).
import { spawnSync } from "node:child_process";
import { describe, expect, it } from "vitest";
import { tc } from "./kit.js";

function kubectl(kubeconfig: string, args: string[], input?: string) {
  const r = spawnSync(tc().kubectl, ["--kubeconfig", kubeconfig, ...args], { encoding: "utf8", input, timeout: 60_000 });
  return { code: r.status, out: r.stdout, err: r.stderr };
}

const can = (kubeconfig: string, ...args: string[]) => kubectl(kubeconfig, ["auth", "can-i", ...args]).out.trim();
const suffix = Date.now().toString(36);

describe.runIf(tc().identities)("the test cluster's identities and RBAC", () => {
  it("the admin is in system:masters; the builder may do what deploy/rbac.yaml grants in default, and nothing more", () => {
    const who = kubectl(tc().kubeconfig, ["auth", "whoami", "-o", "jsonpath={.status.userInfo.username} {.status.userInfo.groups}"]);
    expect(who.code, who.err).toBe(0);
    expect(who.out).toMatch(/^buildpod-admin .*system:masters/);
    const { builder, limited } = tc().identities!;
    expect(can(builder, "create", "jobs.batch", "-n", "default")).toBe("yes");
    expect(can(builder, "get", "pods", "--subresource=log", "-n", "default")).toBe("yes");
    expect(can(builder, "create", "pods", "--subresource=exec", "-n", "default")).toBe("yes");
    expect(can(builder, "get", "secrets", "-n", "default")).toBe("no");
    expect(can(builder, "create", "jobs.batch", "-n", "kube-system")).toBe("no");
    expect(can(builder, "list", "nodes")).toBe("no");
    expect(can(limited, "create", "jobs.batch", "-n", "default")).toBe("yes");
    expect(can(limited, "get", "pods", "--subresource=log", "-n", "default")).toBe("no");
    const refused = kubectl(builder, ["get", "secrets", "-n", "default"]);
    expect(refused.code).not.toBe(0);
    expect(refused.err).toMatch(/User "buildpod-builder" cannot list resource "secrets" in API group "" in the namespace "default"/);
  });

  it("a service account's token from the TokenRequest API authenticates as the service account", () => {
    const token = kubectl(tc().kubeconfig, ["create", "token", "default", "-n", "default", "--duration=10m"]);
    expect(token.code, token.err).toBe(0);
    const who = kubectl(tc().kubeconfig, ["--token", token.out.trim(), "auth", "whoami", "-o", "jsonpath={.status.userInfo.username}"]);
    expect(who.code, who.err).toBe(0);
    expect(who.out).toBe("system:serviceaccount:default:default");
  });
});

describe("the default admission plugins", () => {
  it("LimitRanger gives a pod the namespace's default limits; ResourceQuota refuses a pod over the quota", () => {
    const ns = `admission-${suffix}`;
    const k = (args: string[], input?: string) => kubectl(tc().kubeconfig, ["-n", ns, ...args], input);
    expect(kubectl(tc().kubeconfig, ["create", "namespace", ns]).code).toBe(0);
    try {
      const objects = JSON.stringify({
        apiVersion: "v1", kind: "List", items: [
          { apiVersion: "v1", kind: "LimitRange", metadata: { name: "defaults" }, spec: { limits: [{ type: "Container", default: { memory: "96Mi" }, defaultRequest: { memory: "32Mi" } }] } },
          { apiVersion: "v1", kind: "ResourceQuota", metadata: { name: "small" }, spec: { hard: { "requests.memory": "100Mi" } } },
        ],
      });
      const applied = k(["apply", "-f", "-"], objects);
      expect(applied.code, applied.err).toBe(0);
      const pod = (name: string, memory?: string) => JSON.stringify({
        apiVersion: "v1", kind: "Pod", metadata: { name },
        spec: { restartPolicy: "Never", containers: [{ name: "main", image: tc().busybox, command: ["true"], ...(memory ? { resources: { requests: { memory }, limits: { memory } } } : {}) }] },
      });
      // The quota's controller must have counted the namespace before the quota admits anything.
      let first = k(["apply", "-f", "-"], pod("defaulted"));
      for (let i = 0; i < 20 && first.code !== 0 && /quota/.test(first.err); i++) {
        spawnSync("sleep", ["0.5"]);
        first = k(["apply", "-f", "-"], pod("defaulted"));
      }
      expect(first.code, first.err).toBe(0);
      expect(k(["get", "pod", "defaulted", "-o", "jsonpath={.spec.containers[0].resources.limits.memory} {.spec.containers[0].resources.requests.memory}"]).out).toBe("96Mi 32Mi");
      const over = k(["apply", "-f", "-"], pod("too-big", "90Mi"));
      expect(over.code).not.toBe(0);
      expect(over.err).toMatch(/exceeded quota: small, requested: requests.memory=90Mi, used: requests.memory=32Mi, limited: requests.memory=100Mi/);
    } finally {
      kubectl(tc().kubeconfig, ["delete", "namespace", ns, "--wait=false"]);
    }
  });
});
