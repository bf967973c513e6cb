// Resources and scheduling: requests and limits, tolerations, node selector, affinity, identities.
import { InputError } from "../errors.js";
import { labelKeyProblem, labelValueProblem } from "../names.js";
import { parseQuantity } from "../quantity.js";
import { AFFINITY, conform } from "./affinity.js";
import { boolean, INT32_MAX, labels, object, oneOf, quantity, type Raw, secretName, string, wholeNumber } from "./read.js";
import type { BuildRequest, ResourceList, Scheduling, Toleration } from "./types.js";

export function parseResources(raw: Raw | undefined): BuildRequest["resources"] {
  const r = object(raw ?? {}, "resources")!;
  const requests = object(r.requests ?? {}, "resources.requests")!;
  const limits = object(r.limits ?? {}, "resources.limits")!;
  const list = (raw: Raw, path: string): ResourceList => ({
    cpu: quantity(raw.cpu, `${path}.cpu`, "cpu"),
    memory: quantity(raw.memory, `${path}.memory`, "bytes"),
    "ephemeral-storage": quantity(raw["ephemeral-storage"], `${path}.ephemeral-storage`, "bytes"),
  });
  const out = { requests: list(requests, "resources.requests"), limits: list(limits, "resources.limits") };
  for (const kind of ["cpu", "memory", "ephemeral-storage"] as const) {
    const req = out.requests[kind];
    const lim = out.limits[kind];
    if (req && lim && parseQuantity(req)! > parseQuantity(lim)!) {
      throw new InputError(`resources.requests.${kind}`, `${req} is more than the limit ${lim}`);
    }
  }
  return out;
}

const TOLERATION_FIELDS = ["key", "operator", "value", "effect", "tolerationSeconds"];

export function parseTolerations(value: unknown): Toleration[] {
  if (value === undefined || value === null) return [];
  if (!Array.isArray(value)) throw new InputError("scheduling.tolerations", "must be a list");
  return value.map((item, i) => {
    const path = `scheduling.tolerations[${i}]`;
    if (typeof item === "string") return checkToleration(parseTolerationText(item, path), () => path);
    if (!item || typeof item !== "object" || Array.isArray(item)) throw new InputError(path, "must be a mapping or KEY[=VALUE]:EFFECT");
    const t = item as Raw;
    for (const key of Object.keys(t)) {
      if (!TOLERATION_FIELDS.includes(key)) throw new InputError(`${path}.${key}`, `unknown field; a toleration has ${TOLERATION_FIELDS.join(", ")}`);
    }
    const tol: Toleration = {
      key: string(t.key, `${path}.key`),
      operator: oneOf(t.operator, `${path}.operator`, ["Exists", "Equal"] as const),
      value: string(t.value, `${path}.value`),
      effect: oneOf(t.effect, `${path}.effect`, ["NoSchedule", "PreferNoSchedule", "NoExecute"] as const),
      tolerationSeconds: wholeNumber(t.tolerationSeconds, `${path}.tolerationSeconds`, 0, INT32_MAX, `a whole number of seconds from 0 to ${INT32_MAX}`),
    };
    return checkToleration(Object.fromEntries(Object.entries(tol).filter(([, v]) => v !== undefined)) as Toleration, (f) => `${path}.${f}`);
  });
}

/** The API server's rules between a toleration's fields; `field` names one in errors (the text form has one path). */
function checkToleration(tol: Toleration, field: (name: string) => string): Toleration {
  if (tol.key) {
    const problem = labelKeyProblem(tol.key);
    if (problem) throw new InputError(field("key"), problem);
  } else if (tol.operator !== "Exists") {
    throw new InputError(field("operator"), "must be Exists when key is empty (a toleration of every taint); give a key, or operator: Exists");
  }
  if (tol.operator === "Exists" && tol.value) {
    throw new InputError(field("value"), `must be empty with operator Exists, which matches any value; drop the value, or use operator: Equal to match "${tol.value}"`);
  }
  if (tol.operator !== "Exists" && tol.value) {
    const problem = labelValueProblem(tol.value);
    if (problem) throw new InputError(field("value"), problem);
  }
  if (tol.tolerationSeconds !== undefined && tol.effect !== "NoExecute") {
    throw new InputError(field("tolerationSeconds"), "applies only to effect NoExecute (how long the pod stays on a node after the taint appears); set effect: NoExecute or drop it");
  }
  return tol;
}

/** "key=value:NoSchedule", "key:NoExecute", "key" (Exists, any effect). */
function parseTolerationText(text: string, path: string): Toleration {
  const m = /^([^=:]+)(?:=([^:]*))?(?::(NoSchedule|PreferNoSchedule|NoExecute))?$/.exec(text);
  if (!m) throw new InputError(path, `"${text}" is not a toleration; write KEY[=VALUE][:EFFECT], e.g. dedicated=builds:NoSchedule`);
  const tol: Toleration = { key: m[1], operator: m[2] === undefined ? "Exists" : "Equal" };
  if (m[2] !== undefined) tol.value = m[2];
  if (m[3]) tol.effect = m[3] as Toleration["effect"];
  return tol;
}


export function parseScheduling(raw: Raw | undefined): Scheduling {
  const s = object(raw ?? {}, "scheduling")!;
  const nodeSelector = labels(s.nodeSelector, "scheduling.nodeSelector");
  const affinity = s.affinity === undefined || s.affinity === null ? undefined : (conform(s.affinity, AFFINITY, "scheduling.affinity") as Raw);
  return {
    nodeSelector, tolerations: parseTolerations(s.tolerations),
    emulate: boolean(s.emulate, "scheduling.emulate") ?? false,
    ...(affinity && Object.keys(affinity).length ? { affinity } : {}),
    serviceAccountName: secretName(s.serviceAccountName, "scheduling.serviceAccountName"),
    priorityClassName: secretName(s.priorityClassName, "scheduling.priorityClassName"),
    runtimeClassName: secretName(s.runtimeClassName, "scheduling.runtimeClassName"),
  };
}
