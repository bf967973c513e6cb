// Test harness around a NodeRuntime: records every status and event of a pod and waits for conditions.
import { readFileSync } from "node:fs";
import type { V1ContainerStatus, V1Pod, V1PodStatus } from "@kubernetes/client-node";
import type { NodeEvent, NodeRuntime, RunningPod, VolumeSources } from "./runtime.js";

export interface Watched {
  running: RunningPod;
  statuses: V1PodStatus[];
  events: NodeEvent[];
  last(): V1PodStatus | undefined;
  /** Resolves with the first status (already seen or future) for which pred holds. */
  until(pred: (s: V1PodStatus) => boolean, timeoutMs?: number, what?: string): Promise<V1PodStatus>;
  container(name: string, s?: V1PodStatus): V1ContainerStatus | undefined;
}

export function staticSources(
  secrets: Record<string, Record<string, string | Buffer>> = {},
  configMaps: Record<string, Record<string, string | Buffer>> = {},
): VolumeSources {
  const conv = (m: Record<string, string | Buffer> | undefined) =>
    m && Object.fromEntries(Object.entries(m).map(([k, v]) => [k, Buffer.isBuffer(v) ? v : Buffer.from(v)]));
  return {
    secret: (_ns, name) => conv(secrets[name]),
    configMap: (_ns, name) => conv(configMaps[name]),
  };
}

export function watchPod(node: NodeRuntime, pod: V1Pod, sources: VolumeSources = staticSources()): Watched {
  const statuses: V1PodStatus[] = [];
  const events: NodeEvent[] = [];
  const waiters = new Set<() => void>();
  const running = node.runPod(
    pod,
    sources,
    (s) => {
      statuses.push(s);
      for (const w of [...waiters]) w();
    },
    (e) => events.push(e),
  );
  const w: Watched = {
    running,
    statuses,
    events,
    last: () => statuses[statuses.length - 1],
    until(pred, timeoutMs = 60_000, what = "condition") {
      return new Promise((resolve, reject) => {
        const check = () => {
          const hit = statuses.find(pred);
          if (hit) {
            waiters.delete(check);
            clearTimeout(timer);
            resolve(hit);
          }
        };
        const timer = setTimeout(() => {
          waiters.delete(check);
          reject(new Error(`timed out waiting for ${what}; last status: ${JSON.stringify(w.last(), null, 1)?.slice(0, 3000)}\nevents: ${JSON.stringify(events).slice(0, 2000)}`));
        }, timeoutMs);
        waiters.add(check);
        check();
      });
    },
    container(name, s = w.last()) {
      return [...(s?.initContainerStatuses ?? []), ...(s?.containerStatuses ?? [])].find((c) => c.name === name);
    },
  };
  return w;
}

/** The text a container wrote (both streams, partial lines joined), from its CRI log file. */
export function logLines(path: string | undefined): string[] {
  if (!path) return [];
  const lines: string[] = [];
  let partial = "";
  for (const raw of readFileSync(path, "utf8").split("\n")) {
    const m = /^\S+ (?:stdout|stderr) ([PF]) ?(.*)$/.exec(raw);
    if (!m) continue;
    if (m[1] === "P") partial += m[2];
    else {
      lines.push(partial + m[2]);
      partial = "";
    }
  }
  if (partial) lines.push(partial);
  return lines;
}

export const terminal = (s: V1PodStatus) => s.phase === "Succeeded" || s.phase === "Failed";

let counter = 0;
export function podName(prefix: string): string {
  counter += 1;
  return `${prefix}-${process.pid}-${counter}`;
}
