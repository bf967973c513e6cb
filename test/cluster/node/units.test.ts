// Pure pieces of the node: no containers needed.
import { mkdtempSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { expand, resolveEnv } from "./env.js";
import { staticSources } from "./harness.js";
import { logTail, normalizeImage } from "./podman-node.js";
import { parseCpuMilli, parseMemory } from "./quantity.js";

describe("node helpers", () => {
  it("parses quantities", () => {
    expect(parseMemory("64Mi")).toBe(64 * 2 ** 20);
    expect(parseMemory("1G")).toBe(1e9);
    expect(parseMemory("129e6")).toBe(129e6);
    expect(parseCpuMilli("500m")).toBe(500);
    expect(parseCpuMilli("1.5")).toBe(1500);
    expect(() => parseMemory("12 apples")).toThrow();
  });

  it("normalises image names and rejects invalid ones", () => {
    expect(normalizeImage("busybox")).toBe("docker.io/library/busybox:latest");
    expect(normalizeImage("org/app:1")).toBe("docker.io/org/app:1");
    expect(normalizeImage("127.0.0.1:5000/buildpod/busybox:abc")).toBe("127.0.0.1:5000/buildpod/busybox:abc");
    expect(normalizeImage(`localhost/x@sha256:${"a".repeat(64)}`)).toBe(`localhost/x@sha256:${"a".repeat(64)}`);
    expect(normalizeImage("Not Valid")).toBeUndefined();
    expect(normalizeImage("Upper")).toBeUndefined();
    expect(normalizeImage("busybox:bad tag")).toBeUndefined();
    // An upper-case first component can only be a registry host, as in docker's own parser.
    expect(normalizeImage("Registry/app")).toBe("Registry/app:latest");
  });

  it("expands $(VAR) as Kubernetes does", () => {
    const env: Record<string, string> = { A: "x" };
    const get = (n: string) => env[n];
    expect(expand("$(A)-$(B)-$$(A)-$$", get)).toBe("x-$(B)-$(A)-$");
  });

  it("orders envFrom before env and reports missing config maps by name", () => {
    const pod = { metadata: { name: "p", namespace: "ns", labels: { app: "a" } }, spec: { containers: [] } };
    const sources = staticSources({}, { cm: { X: "from-cm", Y: "y" } });
    const env = resolveEnv(pod, { name: "c", envFrom: [{ configMapRef: { name: "cm" } }],
      env: [{ name: "X", value: "explicit-$(Y)" }, { name: "APP", valueFrom: { fieldRef: { fieldPath: "metadata.labels['app']" } } }] },
      sources, { nodeName: "n", podIP: "127.0.0.1", hostIP: "127.0.0.1" });
    expect(Object.fromEntries(env)).toEqual({ X: "explicit-y", Y: "y", APP: "a" });
    expect(() => resolveEnv(pod, { name: "c", envFrom: [{ configMapRef: { name: "nope" } }] }, sources,
      { nodeName: "n", podIP: "", hostIP: "" })).toThrow('configmap "nope" not found');
  });

  it("takes the log tail kubelet's FallbackToLogsOnError takes", () => {
    const dir = mkdtempSync("/tmp/bp-tail-");
    const p = join(dir, "0.log");
    const lines = Array.from({ length: 100 }, (_, i) => `2026-01-01T00:00:00.000000000Z stdout F line ${i + 1}`);
    lines.push("2026-01-01T00:00:00.000000000Z stderr P part");
    lines.push("2026-01-01T00:00:00.000000000Z stderr F ial");
    writeFileSync(p, lines.join("\n") + "\n");
    const tail = logTail(p);
    expect(tail.endsWith("line 100\npartial\n")).toBe(true);
    expect(tail.split("\n").length - 1).toBe(80);
    expect(logTail(p, 80, 20)).toBe("99\nline 100\npartial\n");
  });
});
