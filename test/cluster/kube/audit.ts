// Counting one identity's API requests, from the API server's own audit log: the benchmarks' requests per
// build. Only that identity's requests are logged (Metadata level), so the rest of the cluster pays nothing.
import { closeSync, openSync, readSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { sleep } from "../infra/proc.js";

export interface RequestCounts {
  total: number;
  /** By Kubernetes verb: { list: 3, watch: 2 }. */
  byVerb: Record<string, number>;
  /** By verb and resource: { "watch pods": 2, "get pods/log": 1 }. */
  byResource: Record<string, number>;
  /** By method and path: { "GET /api/v1/namespaces/default/pods": 3 }. */
  byPath: Record<string, number>;
}

export interface RequestLog {
  /** Forgets what was counted so far. */
  reset(): void;
  /** The requests since the last reset. */
  snapshot(): Promise<RequestCounts>;
}

/** kube-apiserver's --audit-policy-file and --audit-log-path for USER, in DIR. */
export function auditFlags(dir: string, user: string): string[] {
  const policy = join(dir, "audit-policy.yaml");
  writeFileSync(policy, [
    "apiVersion: audit.k8s.io/v1",
    "kind: Policy",
    "omitStages: [RequestReceived]",
    "rules:",
    `  - level: Metadata`,
    `    users: [${JSON.stringify(user)}]`,
    "  - level: None",
    "",
  ].join("\n"));
  return [`--audit-policy-file=${policy}`, `--audit-log-path=${join(dir, "audit.log")}`, "--audit-log-format=json", "--audit-log-maxsize=0"];
}

interface AuditEvent {
  stage: string;
  verb: string;
  requestURI: string;
  objectRef?: { resource?: string; subresource?: string };
}

const METHOD: Record<string, string> = { get: "GET", list: "GET", watch: "GET", create: "POST", update: "PUT", patch: "PATCH", delete: "DELETE", deletecollection: "DELETE" };

export function requestLog(dir: string): RequestLog {
  const path = join(dir, "audit.log");
  const size = () => {
    try {
      return statSync(path).size;
    } catch {
      return 0;
    }
  };
  let from = size();
  return {
    reset: () => void (from = size()),
    async snapshot() {
      // A request's last event is written as its answer ends: give the log a moment to catch up.
      await sleep(200);
      const to = size();
      const buf = Buffer.alloc(to - from);
      if (buf.length) {
        const fd = openSync(path, "r");
        try {
          readSync(fd, buf, 0, buf.length, from);
        } finally {
          closeSync(fd);
        }
      }
      const counts: RequestCounts = { total: 0, byVerb: {}, byResource: {}, byPath: {} };
      for (const line of buf.toString("utf8").split("\n")) {
        if (!line) continue;
        const e = JSON.parse(line) as AuditEvent;
        // One event per request: a watch's when its answer starts (it may never complete), any other's at its end.
        if (e.stage !== (e.verb === "watch" ? "ResponseStarted" : "ResponseComplete")) continue;
        counts.total++;
        counts.byVerb[e.verb] = (counts.byVerb[e.verb] ?? 0) + 1;
        const r = e.objectRef?.resource;
        if (r) {
          const k = `${e.verb} ${r}${e.objectRef?.subresource ? `/${e.objectRef.subresource}` : ""}`;
          counts.byResource[k] = (counts.byResource[k] ?? 0) + 1;
        }
        const p = `${METHOD[e.verb] ?? e.verb} ${e.requestURI.split("?")[0]}`;
        counts.byPath[p] = (counts.byPath[p] ?? 0) + 1;
      }
      return counts;
    },
  };
}
