// The log bench's floor: a bare HTTPS client reading one container's log (a plain GET, as buildpod reads a
// log once its container has ended; follow=true with "follow") with nothing but
// node:https and the kubeconfig's server, CA and credentials, copying the body to stdout as it comes, the
// way any copy would: what one turn of the event loop received in one write (the server sends a line per
// HTTP chunk, and a write per chunk would measure the pipe, not the read), pausing while stdout is full.
// Usage: node raw-log.js KUBECONFIG NAMESPACE POD CONTAINER [timestamps] [follow]
import { readFileSync } from "node:fs";
import { request } from "node:https";
import { parse } from "yaml";

const [kubeconfig, namespace, pod, container, ...flags] = process.argv.slice(2);
const kc = parse(readFileSync(kubeconfig, "utf8"));
const ctx = kc.contexts.find((c: { name: string }) => c.name === kc["current-context"]).context;
const cluster = kc.clusters.find((c: { name: string }) => c.name === ctx.cluster).cluster;
const user = kc.users.find((u: { name: string }) => u.name === ctx.user).user;
const b64 = (s?: string) => (s ? Buffer.from(s, "base64") : undefined);

const url = new URL(`${cluster.server}/api/v1/namespaces/${namespace}/pods/${pod}/log`);
url.searchParams.set("container", container);
if (flags.includes("follow")) url.searchParams.set("follow", "true");
if (flags.includes("timestamps")) url.searchParams.set("timestamps", "true");

const req = request(url, {
  ca: b64(cluster["certificate-authority-data"]),
  cert: b64(user["client-certificate-data"]),
  key: b64(user["client-key-data"]),
  headers: user.token ? { authorization: `Bearer ${user.token}` } : {},
}, (res) => {
  if (res.statusCode !== 200) {
    process.stderr.write(`HTTP ${res.statusCode}\n`);
    process.exitCode = 1;
  }
  let pending: Buffer[] = [];
  const flush = () => {
    const chunk = Buffer.concat(pending);
    pending = [];
    if (!process.stdout.write(chunk)) {
      res.pause();
      process.stdout.once("drain", () => res.resume());
    }
  };
  res.on("data", (d: Buffer) => {
    if (pending.push(d) === 1) setImmediate(flush);
  });
  res.on("end", () => setImmediate(() => pending.length && flush()));
});
req.on("error", (err) => {
  process.stderr.write(`${err.message}\n`);
  process.exitCode = 1;
});
req.end();
