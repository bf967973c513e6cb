// Server-side printing (meta.k8s.io/v1 Table), which kubectl asks for on `get`: columns as the real server prints them.
import type { IncomingMessage } from "node:http";
import type { ResourceDef } from "./resources.js";
import { apiVersionOf } from "./resources.js";
import type { Obj } from "./store.js";

export function wantsTable(req: IncomingMessage): boolean {
  return /as=Table/.test(req.headers.accept ?? "");
}

/** Go's duration.HumanDuration, as kubectl's AGE column shows it. */
export function humanDuration(ms: number): string {
  const s = Math.max(0, Math.floor(ms / 1000));
  if (s < 120) return `${s}s`;
  const m = Math.floor(s / 60);
  if (m < 10) return s % 60 === 0 ? `${m}m` : `${m}m${s % 60}s`;
  if (m < 180) return `${m}m`;
  const h = Math.floor(m / 60);
  if (h < 8) return m % 60 === 0 ? `${h}h` : `${h}h${m % 60}m`;
  if (h < 48) return `${h}h`;
  const d = Math.floor(h / 24);
  if (d < 8) return h % 24 === 0 ? `${d}d` : `${d}d${h % 24}h`;
  return `${d}d`;
}

function age(o: Obj, field = o.metadata?.creationTimestamp): string {
  return field ? humanDuration(Date.now() - Date.parse(field)) : "<unknown>";
}

type Col = [name: string, type: string, priority?: number, format?: string];

function podStatus(p: Obj): { ready: string; status: string; restarts: number } {
  const st = p.status ?? {};
  let reason: string = st.reason || st.phase || "Unknown";
  let restarts = 0;
  let initializing = false;
  const inits: Obj[] = st.initContainerStatuses ?? [];
  const initSpecs: Obj[] = p.spec?.initContainers ?? [];
  for (let i = 0; i < inits.length; i++) {
    const c = inits[i];
    restarts += c.restartCount ?? 0;
    const t = c.state?.terminated;
    if (t && t.exitCode === 0) continue;
    if (t) reason = t.reason ? `Init:${t.reason}` : t.signal ? `Init:Signal:${t.signal}` : `Init:ExitCode:${t.exitCode}`;
    else if (c.state?.waiting?.reason && c.state.waiting.reason !== "PodInitializing") reason = `Init:${c.state.waiting.reason}`;
    else reason = `Init:${i}/${initSpecs.length}`;
    initializing = true;
    break;
  }
  let readyCount = 0;
  let hasRunning = false;
  const cs: Obj[] = st.containerStatuses ?? [];
  if (!initializing) {
    restarts = 0;
    for (let i = cs.length - 1; i >= 0; i--) {
      const c = cs[i];
      restarts += c.restartCount ?? 0;
      if (c.state?.waiting?.reason) reason = c.state.waiting.reason;
      else if (c.state?.terminated?.reason) reason = c.state.terminated.reason;
      else if (c.state?.terminated) reason = c.state.terminated.signal ? `Signal:${c.state.terminated.signal}` : `ExitCode:${c.state.terminated.exitCode}`;
      else if (c.ready && c.state?.running) {
        hasRunning = true;
        readyCount++;
      }
    }
    if (reason === "Completed" && hasRunning) reason = "Running";
  }
  if (p.metadata?.deletionTimestamp) reason = "Terminating";
  return { ready: `${readyCount}/${(p.spec?.containers ?? []).length}`, status: reason, restarts };
}

function jobStatus(j: Obj): string {
  const conds: Obj[] = j.status?.conditions ?? [];
  const has = (t: string) => conds.some((c) => c.type === t && c.status === "True");
  if (j.metadata?.deletionTimestamp) return "Terminating";
  if (has("Complete")) return "Complete";
  if (has("Failed")) return "Failed";
  if (has("FailureTarget")) return "FailureTarget";
  if (has("SuccessCriteriaMet")) return "SuccessCriteriaMet";
  if (j.spec?.suspend) return "Suspended";
  return "Running";
}

function columns(def: ResourceDef): Col[] {
  switch (def.resource) {
    case "pods":
      return [["Name", "string", 0, "name"], ["Ready", "string"], ["Status", "string"], ["Restarts", "string"], ["Age", "string"], ["IP", "string", 1], ["Node", "string", 1], ["Nominated Node", "string", 1], ["Readiness Gates", "string", 1]];
    case "jobs":
      return [["Name", "string", 0, "name"], ["Status", "string"], ["Completions", "string"], ["Duration", "string"], ["Age", "string"], ["Containers", "string", 1], ["Images", "string", 1], ["Selector", "string", 1]];
    case "namespaces":
      return [["Name", "string", 0, "name"], ["Status", "string"], ["Age", "string"]];
    case "events":
      return [["Last Seen", "string"], ["Type", "string"], ["Reason", "string"], ["Object", "string"], ["Message", "string"]];
    case "secrets":
      return [["Name", "string", 0, "name"], ["Type", "string"], ["Data", "string"], ["Age", "string"]];
    case "configmaps":
      return [["Name", "string", 0, "name"], ["Data", "string"], ["Age", "string"]];
    case "nodes":
      return [["Name", "string", 0, "name"], ["Status", "string"], ["Roles", "string"], ["Age", "string"], ["Version", "string"]];
    default:
      return [["Name", "string", 0, "name"], ["Age", "string"]];
  }
}

function cells(def: ResourceDef, o: Obj): unknown[] {
  const name = o.metadata.name;
  switch (def.resource) {
    case "pods": {
      const s = podStatus(o);
      return [name, s.ready, s.status, s.restarts, age(o), o.status?.podIP ?? "<none>", o.spec?.nodeName ?? "<none>", "<none>", "<none>"];
    }
    case "jobs": {
      const start = o.status?.startTime ? Date.parse(o.status.startTime) : undefined;
      const end = o.status?.completionTime ? Date.parse(o.status.completionTime) : Date.now();
      const containers: Obj[] = o.spec?.template?.spec?.containers ?? [];
      const sel = Object.entries(o.spec?.selector?.matchLabels ?? {}).map(([k, v]) => `${k}=${v}`).join(",");
      return [name, jobStatus(o), `${o.status?.succeeded ?? 0}/${o.spec?.completions ?? 1}`, start ? humanDuration(end - start) : "", age(o), containers.map((c) => c.name).join(","), containers.map((c) => c.image).join(","), sel];
    }
    case "namespaces":
      return [name, o.status?.phase ?? "Active", age(o)];
    case "events": {
      const io = o.involvedObject ?? {};
      return [age(o, o.lastTimestamp ?? o.metadata.creationTimestamp), o.type, o.reason, `${String(io.kind ?? "").toLowerCase()}/${io.name}`, o.message];
    }
    case "secrets":
      return [name, o.type, Object.keys(o.data ?? {}).length, age(o)];
    case "configmaps":
      return [name, Object.keys(o.data ?? {}).length + Object.keys(o.binaryData ?? {}).length, age(o)];
    case "nodes":
      return [name, "Ready", "<none>", age(o), o.status?.nodeInfo?.kubeletVersion ?? ""];
    default:
      return [name, age(o)];
  }
}

export function toTable(def: ResourceDef, items: Obj[], rv: number, _list: boolean, includeObject: "Object" | "Metadata" | "None" = "Metadata"): object {
  return {
    kind: "Table",
    apiVersion: "meta.k8s.io/v1",
    metadata: { resourceVersion: String(rv) },
    columnDefinitions: columns(def).map(([name, type, priority, format]) => ({ name, type, format: format ?? "", description: "", priority: priority ?? 0 })),
    rows: items.map((o) => ({
      cells: cells(def, o),
      object:
        includeObject === "Object"
          ? { kind: def.kind, apiVersion: apiVersionOf(def), ...o }
          : includeObject === "None"
            ? undefined
            : { kind: "PartialObjectMetadata", apiVersion: "meta.k8s.io/v1", metadata: o.metadata },
    })),
  };
}
