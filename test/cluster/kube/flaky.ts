// A registry with passing trouble: test/cluster/cmd/flaky in the node's network namespace, forwarding to the
// plain registry, which closes the next N connections without a byte once a test writes N to its control
// file. Builds push through it to check that their builder tries a push again.
import { readFileSync } from "node:fs";
import { mkdir } from "node:fs/promises";
import { join } from "node:path";
import { startDaemon, waitFor } from "./daemon.js";
import type { NodeNetwork } from "./netns.js";

export interface FlakyRegistry {
  /** ADDRESS:PORT: the plain registry, as the host and the pods reach it through the forwarder. */
  host: string;
  /** Write N here to drop the next N connections; it counts down to 0. */
  control: string;
  /** One line per connection: "CLIENT dropped" or "CLIENT forwarded". */
  log: string;
  stop(): Promise<void>;
}

export const FLAKY_PORT = 5003;

export async function startFlakyRegistry(o: { binary: string; dir: string; net: NodeNetwork; upstream: string }): Promise<FlakyRegistry> {
  const logDir = join(o.dir, "logs");
  await mkdir(logDir, { recursive: true });
  const control = join(o.dir, "flaky-drop");
  const host = `${o.net.address}:${FLAKY_PORT}`;
  const daemon = startDaemon("flaky", [o.binary, `--listen=${host}`, `--upstream=${o.upstream}`, `--control=${control}`], { logDir, enter: o.net.enter });
  try {
    await waitFor("flaky to listen", async () => readFileSync(daemon.logPath, "utf8").includes("listening on"), [daemon], 10_000);
  } catch (err) {
    await daemon.stop();
    throw err;
  }
  return { host, control, log: daemon.logPath, stop: () => daemon.stop() };
}
