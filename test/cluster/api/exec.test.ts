// pods/exec and pods/attach over WebSocket: client-node's Exec and Attach (v5.channel.k8s.io), and v4 by hand.
import { PassThrough, Readable } from "node:stream";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import WebSocket from "ws";
import { k8s, podSpec, startKit, waitPhase, type Kit } from "./testkit.js";

let kit: Kit;
beforeAll(async () => {
  kit = await startKit();
  await kit.core.createNamespacedPod({ namespace: "default", body: podSpec("box", "test/sleep") });
  await waitPhase(kit, "box", ["Running"]);
});
afterAll(async () => {
  await kit.close();
});

async function exec(command: string[], stdin?: string): Promise<{ out: string; err: string; status: k8s.V1Status }> {
  const out = new PassThrough();
  const err = new PassThrough();
  const o: Buffer[] = [];
  const e: Buffer[] = [];
  out.on("data", (c) => o.push(c));
  err.on("data", (c) => e.push(c));
  const input = stdin === undefined ? null : Readable.from([Buffer.from(stdin)]);
  const status = await new Promise<k8s.V1Status>((resolve, reject) => {
    new k8s.Exec(kit.kc).exec("default", "box", "main", command, out, err, input, false, resolve).catch(reject);
  });
  return { out: Buffer.concat(o).toString(), err: Buffer.concat(e).toString(), status };
}

describe("pods/exec", () => {
  it("pipes stdin through cat, closes stdin with the v5 close signal, and reports Success", async () => {
    const r = await exec(["cat"], "hello through stdin\n");
    expect(r.out).toBe("hello through stdin\n");
    expect(r.status).toEqual({ metadata: {}, status: "Success" });
  });

  it("reports a non-zero exit code as kubectl expects it on channel 3", async () => {
    const r = await exec(["sh", "-c", "exit 3"]);
    expect(r.status).toMatchObject({ status: "Failure", reason: "NonZeroExitCode", details: { causes: [{ reason: "ExitCode", message: "3" }] } });
    const missing = await exec(["cat", "/nope"]);
    expect(missing.err).toBe("cat: /nope: No such file or directory\n");
    expect(missing.status.details?.causes?.[0].message).toBe("1");
  });

  it("speaks v4.channel.k8s.io for older clients", async () => {
    const url = `${kit.server.url.replace("https", "wss")}/api/v1/namespaces/default/pods/box/exec?command=echo&command=v4&stdout=true&stderr=true`;
    const ws = new WebSocket(url, ["v4.channel.k8s.io"], { ca: await import("node:fs").then((f) => f.readFileSync(kit.server.caPath)), headers: { Authorization: `Bearer ${kit.server.token}` } });
    const frames: Buffer[] = [];
    await new Promise<void>((resolve, reject) => {
      ws.on("message", (d: Buffer) => frames.push(Buffer.from(d)));
      ws.on("close", () => resolve());
      ws.on("error", reject);
    });
    expect(ws.protocol).toBe("v4.channel.k8s.io");
    const stdout = Buffer.concat(frames.filter((f) => f[0] === 1).map((f) => f.subarray(1))).toString();
    expect(stdout).toBe("v4\n");
    const status = frames.find((f) => f[0] === 3);
    expect(JSON.parse(status!.subarray(1).toString())).toEqual({ metadata: {}, status: "Success" });
  });

  it("refuses exec into a container that has not started, with 400", async () => {
    await kit.core.createNamespacedPod({ namespace: "default", body: podSpec("stuck", "nowhere/none") });
    const url = `${kit.server.url.replace("https", "wss")}/api/v1/namespaces/default/pods/stuck/exec?command=true&stdout=true`;
    const ws = new WebSocket(url, ["v5.channel.k8s.io"], { ca: (await import("node:fs")).readFileSync(kit.server.caPath), headers: { Authorization: `Bearer ${kit.server.token}` } });
    const code = await new Promise<number>((resolve) => ws.on("unexpected-response", (_req, res) => resolve(res.statusCode ?? 0)));
    expect(code).toBe(400);
  });

  it("attaches to a container's output", async () => {
    await kit.core.createNamespacedPod({ namespace: "default", body: podSpec("talker", "test/lines", { args: ["5", "60"] }) });
    await waitPhase(kit, "talker", ["Running"]);
    const out = new PassThrough();
    const chunks: Buffer[] = [];
    out.on("data", (c) => chunks.push(c));
    const status = await new Promise<k8s.V1Status>((resolve, reject) => {
      new k8s.Attach(kit.kc).attach("default", "talker", "main", out, null, null, false).then((ws) => {
        ws.on("close", () => resolve({ status: "closed" }));
      }, reject);
    });
    expect(status.status).toBe("closed");
    const text = Buffer.concat(chunks).toString();
    expect(text).toContain("line 5\n");
    expect(text).not.toContain("line 1\n");
  });
});
