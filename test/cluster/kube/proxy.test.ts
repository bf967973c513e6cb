// The forward proxy (proxy.ts) and a registry over HTTPS with a password (infra/registry.ts), both on
// loopback without a cluster: the proxy tunnels to the one upstream named to it, TLS through the tunnel
// checks out against the registry's CA, the registry wants its password, and every other destination is
// refused by the proxy itself and logged.
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { connect, type Socket } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { connect as tlsConnect } from "node:tls";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { run, sleep } from "../infra/proc.js";
import { freePort, startRegistry, type Registry } from "../infra/registry.js";
import { issue, newCa } from "./pki.js";
import { proxyFilter, startForwardProxy, type ForwardProxy } from "./proxy.js";

let dir: string;
let ca: string;
let registry: Registry;
let proxy: ForwardProxy;
const USER = "proxy-test";
const PASSWORD = "a-password-for-the-test";

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), "buildpod-proxy-"));
  ca = await newCa(join(dir, "pki"));
  const cert = await issue(join(dir, "pki"), "registry", { subject: "/CN=registry", usage: "server", san: ["IP:127.0.0.1"] });
  const htpasswd = join(dir, "htpasswd");
  writeFileSync(htpasswd, (await run("htpasswd", ["-niB", USER], { input: `${PASSWORD}\n` })).stdout);
  registry = await startRegistry({ stateDir: dir, name: "secure", port: await freePort(), tls: { ...cert, ca }, htpasswd });
  const net = { index: 0, name: "loopback", address: "127.0.0.1", hostAddress: "127.0.0.1", enter: [] };
  proxy = await startForwardProxy({ dir, net, port: await freePort(), clients: ["127.0.0.1/32"], upstreams: [registry.host] });
});

afterAll(async () => {
  await proxy?.stop();
  await registry?.stop();
});

/** Sends REQUEST to the proxy; resolves with the status line and the socket (a tunnel after a 200 to a CONNECT). */
function ask(request: string): Promise<{ status: string; socket: Socket }> {
  const { hostname, port } = new URL(proxy.url);
  return new Promise((resolve, reject) => {
    const socket = connect({ host: hostname, port: Number(port) }, () => socket.write(request));
    let head = "";
    const onData = (b: Buffer) => {
      head += b.toString("latin1");
      if (!head.includes("\r\n\r\n")) return;
      socket.off("data", onData);
      resolve({ status: head.slice(0, head.indexOf("\r\n")), socket });
    };
    socket.on("data", onData);
    socket.on("error", reject);
  });
}

/** GET /v2/ over TLS through an open tunnel, the registry's certificate checked against CA. */
function getV2(tunnel: Socket, auth?: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const tls = tlsConnect({ socket: tunnel, ca: readFileSync(ca), servername: undefined, host: "127.0.0.1" }, () => {
      const authorization = auth ? `Authorization: Basic ${Buffer.from(auth).toString("base64")}\r\n` : "";
      tls.write(`GET /v2/ HTTP/1.1\r\nHost: ${registry.host}\r\n${authorization}Connection: close\r\n\r\n`);
    });
    let text = "";
    tls.on("data", (b: Buffer) => (text += b.toString()));
    tls.on("end", () => resolve(text.slice(0, text.indexOf("\r\n"))));
    tls.on("error", reject);
  });
}

const log = () => readFileSync(proxy.accessLog, "utf8");

describe("the forward proxy", () => {
  it("tunnels to its upstream, where TLS checks out against the registry's CA and the registry wants its password", async () => {
    const open = await ask(`CONNECT ${registry.host} HTTP/1.1\r\nHost: ${registry.host}\r\n\r\n`);
    expect(open.status).toMatch(/^HTTP\/1\.[01] 200 /);
    expect(await getV2(open.socket, `${USER}:${PASSWORD}`)).toMatch(/^HTTP\/1\.1 200 /);
    const anonymous = await ask(`CONNECT ${registry.host} HTTP/1.1\r\nHost: ${registry.host}\r\n\r\n`);
    expect(await getV2(anonymous.socket)).toMatch(/^HTTP\/1\.1 401 /);
    expect(log()).toContain(`Request (file descriptor`);
    expect(log()).toContain(`CONNECT ${registry.host} HTTP/1.1`);
  });

  it("refuses, itself, every other destination: another address, another port, plain HTTP to another address", async () => {
    const port = registry.host.split(":")[1];
    const elsewhere = await ask(`CONNECT 127.0.0.2:${port} HTTP/1.1\r\nHost: 127.0.0.2:${port}\r\n\r\n`);
    expect(elsewhere.status).toMatch(/^HTTP\/1\.[01] 403 Filtered/);
    elsewhere.socket.destroy();
    const otherPort = await ask(`CONNECT 127.0.0.1:${Number(port) + 1} HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n`);
    expect(otherPort.status).toMatch(/^HTTP\/1\.[01] 403 /);
    otherPort.socket.destroy();
    const plain = await ask(`GET http://127.0.0.2:${port}/v2/ HTTP/1.1\r\nHost: 127.0.0.2:${port}\r\n\r\n`);
    expect(plain.status).toMatch(/^HTTP\/1\.[01] 403 Filtered/);
    plain.socket.destroy();
    await sleep(100);
    expect(log()).toContain(`Proxying refused on filtered url "127.0.0.2:${port}"`);
    expect(log()).toContain(`Proxying refused on filtered url "http://127.0.0.2:${port}/v2/"`);
    expect(log()).toContain(`Refused CONNECT method on port ${Number(port) + 1}`);
    expect(log()).not.toContain(`Established connection to host "127.0.0.2"`);
  });

  it("matches whole host:port pairs only", () => {
    const filter = proxyFilter(["10.251.0.2:5000"]).trim().split("\n").map((l) => new RegExp(l));
    const allowed = (url: string) => filter.some((r) => r.test(url));
    expect(allowed("10.251.0.2:5000")).toBe(true);
    expect(allowed("http://10.251.0.2:5000/v2/")).toBe(true);
    for (const url of ["10.251.0.2:50001", "10.251.0.21:5000", "10x251.0.2:5000", "110.251.0.2:5000", "http://10.251.0.2:50001/",
      "http://10.251.0.2:5000.example/", "https://10.251.0.2:5000/"]) expect(allowed(url), url).toBe(false);
  });
});
