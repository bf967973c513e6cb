// Container environment as kubelet builds it: envFrom first, then env (later entries win), values from
// Secrets, ConfigMaps, the downward API and resources, and $(VAR) expansion in env values, command and args.
import type { V1Container, V1Pod, V1ResourceFieldSelector } from "@kubernetes/client-node";
import { parseCpuMilli, parseMemory } from "./quantity.js";
import type { VolumeSources } from "./runtime.js";

/** The container cannot be configured yet: waiting reason CreateContainerConfigError (kubelet retries). */
export class ConfigError extends Error {}

export interface PodRuntimeFacts {
  nodeName: string;
  podIP: string;
  hostIP: string;
}

export function fieldRefValue(pod: V1Pod, fieldPath: string, facts: PodRuntimeFacts, forVolume = false): string {
  const md = pod.metadata ?? {};
  const fmtMap = (m: Record<string, string> | undefined) =>
    Object.entries(m ?? {}).sort(([a], [b]) => (a < b ? -1 : 1)).map(([k, v]) => `${k}=${JSON.stringify(v)}`).join("\n");
  const sub = /^metadata\.(labels|annotations)\['(.*)'\]$/.exec(fieldPath);
  if (sub) return (sub[1] === "labels" ? md.labels : md.annotations)?.[sub[2]!] ?? "";
  switch (fieldPath) {
    case "metadata.name": return md.name ?? "";
    case "metadata.namespace": return md.namespace ?? "default";
    case "metadata.uid": return md.uid ?? "";
    case "metadata.labels": if (forVolume) return fmtMap(md.labels); break;
    case "metadata.annotations": if (forVolume) return fmtMap(md.annotations); break;
    case "spec.nodeName": return pod.spec?.nodeName ?? facts.nodeName;
    case "spec.serviceAccountName": return pod.spec?.serviceAccountName ?? "default";
    case "status.hostIP": case "status.hostIPs": return facts.hostIP;
    case "status.podIP": case "status.podIPs": return facts.podIP;
  }
  throw new ConfigError(`unsupported fieldPath: ${fieldPath}`);
}

export function resourceFieldRefValue(pod: V1Pod, ref: V1ResourceFieldSelector, container?: V1Container): string {
  const c = container ?? [...(pod.spec?.containers ?? []), ...(pod.spec?.initContainers ?? [])]
    .find((x) => x.name === ref.containerName);
  const [kind, res] = ref.resource.split(".") as [string, string];
  const raw = (kind === "limits" ? c?.resources?.limits : c?.resources?.requests)?.[res];
  const divisor = ref.divisor ? String(ref.divisor) : "1";
  if (res === "cpu") {
    const milli = raw !== undefined ? parseCpuMilli(raw)! : kind === "limits" ? 1000 * 2 : 0;
    const d = parseCpuMilli(divisor) ?? 1000;
    return String(Math.ceil(milli / d));
  }
  if (res === "memory" || res === "ephemeral-storage") {
    const bytes = raw !== undefined ? parseMemory(raw)! : 0;
    const d = parseMemory(divisor) ?? 1;
    return String(Math.ceil(bytes / d));
  }
  throw new ConfigError(`unsupported resource: ${ref.resource}`);
}

/** Expand $(VAR) from `lookup`; $$ escapes a dollar; unknown references stay as written (Kubernetes rules). */
export function expand(s: string, lookup: (name: string) => string | undefined): string {
  let out = "";
  for (let i = 0; i < s.length; i++) {
    const ch = s[i];
    if (ch === "$" && i + 1 < s.length) {
      const next = s[i + 1];
      if (next === "$") {
        out += "$";
        i++;
        continue;
      }
      if (next === "(") {
        const end = s.indexOf(")", i + 2);
        if (end >= 0) {
          const name = s.slice(i + 2, end);
          const v = lookup(name);
          if (v !== undefined) {
            out += v;
            i = end;
            continue;
          }
          out += s.slice(i, end + 1);
          i = end;
          continue;
        }
      }
    }
    out += ch;
  }
  return out;
}

const ENV_NAME = /^[-._a-zA-Z][-._a-zA-Z0-9]*$/;

export function resolveEnv(
  pod: V1Pod,
  c: V1Container,
  sources: VolumeSources,
  facts: PodRuntimeFacts,
  extra: Record<string, string> = {},
): Map<string, string> {
  const ns = pod.metadata?.namespace ?? "default";
  const env = new Map<string, string>(Object.entries(extra));
  for (const from of c.envFrom ?? []) {
    const prefix = from.prefix ?? "";
    let data: Record<string, Buffer> | undefined;
    if (from.secretRef) {
      data = sources.secret(ns, from.secretRef.name ?? "");
      if (!data && !from.secretRef.optional) throw new ConfigError(`secret ${JSON.stringify(from.secretRef.name)} not found`);
    } else if (from.configMapRef) {
      data = sources.configMap(ns, from.configMapRef.name ?? "");
      if (!data && !from.configMapRef.optional) {
        throw new ConfigError(`configmap ${JSON.stringify(from.configMapRef.name)} not found`);
      }
    }
    for (const [k, v] of Object.entries(data ?? {})) {
      if (ENV_NAME.test(prefix + k)) env.set(prefix + k, v.toString("utf8"));
    }
  }
  for (const e of c.env ?? []) {
    if (e.value !== undefined || !e.valueFrom) {
      env.set(e.name, expand(e.value ?? "", (n) => env.get(n)));
      continue;
    }
    const vf = e.valueFrom;
    if (vf.secretKeyRef) {
      const { name = "", key, optional } = vf.secretKeyRef;
      const data = sources.secret(ns, name);
      if (!data) {
        if (optional) continue;
        throw new ConfigError(`secret ${JSON.stringify(name)} not found`);
      }
      const v = data[key];
      if (v === undefined) {
        if (optional) continue;
        throw new ConfigError(`couldn't find key ${key} in Secret ${ns}/${name}`);
      }
      env.set(e.name, v.toString("utf8"));
    } else if (vf.configMapKeyRef) {
      const { name = "", key, optional } = vf.configMapKeyRef;
      const data = sources.configMap(ns, name);
      if (!data) {
        if (optional) continue;
        throw new ConfigError(`configmap ${JSON.stringify(name)} not found`);
      }
      const v = data[key];
      if (v === undefined) {
        if (optional) continue;
        throw new ConfigError(`couldn't find key ${key} in ConfigMap ${ns}/${name}`);
      }
      env.set(e.name, v.toString("utf8"));
    } else if (vf.fieldRef) {
      env.set(e.name, fieldRefValue(pod, vf.fieldRef.fieldPath, facts));
    } else if (vf.resourceFieldRef) {
      env.set(e.name, resourceFieldRefValue(pod, vf.resourceFieldRef, vf.resourceFieldRef.containerName ? undefined : c));
    }
  }
  return env;
}
