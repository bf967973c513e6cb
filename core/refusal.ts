// Why the cluster refused to create a build's pod. A Job whose pod is refused at admission stays quiet:
// no pod, no condition, only FailedCreate events on the Job (the Job controller retries with a back-off).
// These are the API server's own words in those events, read into a reason and what to do.
import { parseQuantity } from "./quantity.js";

export interface Refusal {
  reason: string;
  message: string;
  /** False when waiting can fix it (a quota that other pods fill now); true when only a change can. */
  permanent: boolean;
}

/** A FailedCreate event's message ("Error creating: pods "x" is forbidden: ...") read, or undefined. */
export function podRefusal(eventMessage: string): Refusal | undefined {
  const m = /is forbidden: (.*)$/s.exec(eventMessage);
  const why = (m?.[1] ?? eventMessage.replace(/^Error creating: /, "")).trim();
  let r: RegExpExecArray | null;
  if ((r = /violates PodSecurity "([^"]+)": (.*)$/s.exec(why))) {
    return {
      reason: "PodSecurity", permanent: true,
      message: `the namespace's Pod Security level ${r[1]} refuses the build pod (${r[2]}); use a builder that fits the level (see the builder table), or a namespace that allows it`,
    };
  }
  if ((r = /^failed quota: ([^:]+): must specify (.*)$/s.exec(why))) {
    return {
      reason: "QuotaRequiresResources", permanent: true,
      message: `the namespace's ResourceQuota ${r[1]} counts resources the build does not set (must specify ${r[2]}); set the build's resources (resources.requests and resources.limits: cpu and memory)`,
    };
  }
  if ((r = /^exceeded quota: ([^,]+), requested: (.*), used: (.*), limited: (.*)$/s.exec(why))) {
    const [, quota, requested, used, limited] = r;
    const over = beyondLimit(requested!, limited!);
    return over
      ? { reason: "QuotaExceeded", permanent: true, message: `the build asks for ${over}, more than the namespace's ResourceQuota ${quota} allows in all (limited: ${limited}); lower the build's resources or raise the quota` }
      : { reason: "QuotaExceeded", permanent: false, message: `the namespace's ResourceQuota ${quota} is full (requested: ${requested}, used: ${used}, limited: ${limited}); waiting for other pods to finish` };
  }
  if ((r = /error looking up service account ([^:]+): /.exec(why))) {
    return {
      reason: "ServiceAccountMissing", permanent: true,
      message: `the service account ${r[1]} does not exist; create it, or set scheduling.serviceAccountName to one that does`,
    };
  }
  if ((r = /^(?:maximum|minimum) \S+ usage per (?:Container|Pod) is .*$/s.exec(why)) || /LimitRange/.test(why)) {
    return { reason: "LimitRange", permanent: true, message: `the namespace's LimitRange refuses the build pod: ${why}; set the build's resources within its bounds` };
  }
  if (m) return { reason: "PodForbidden", permanent: true, message: `the cluster refused the build pod: ${why}` };
  return undefined;
}

/** "limits.memory=1200Mi" of REQUESTED beyond its own limit in LIMITED, if any: no wait makes that fit. */
function beyondLimit(requested: string, limited: string): string | undefined {
  const pairs = (s: string) => new Map(s.split(",").map((p) => p.trim().split("=") as [string, string]));
  const lim = pairs(limited);
  for (const [name, value] of pairs(requested)) {
    const l = lim.get(name);
    const a = parseQuantity(value ?? "");
    const b = l === undefined ? undefined : parseQuantity(l);
    if (a !== undefined && b !== undefined && a > b) return `${name}=${value}`;
  }
  return undefined;
}
