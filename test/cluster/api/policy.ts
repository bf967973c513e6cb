// Authorization: a list of allowed rules, RBAC-like. No rules given means everything is allowed.

export interface PolicyRule {
  verbs: string[];
  /** "pods", "pods/log", "pods/*", "*". A plain resource does not cover its subresources, as in RBAC. */
  resources: string[];
  /** API groups ("" for core, "batch"); omitted: any group. */
  apiGroups?: string[];
  /** Namespaces the rule applies to; omitted: every namespace and cluster-scoped requests. */
  namespaces?: string[];
  resourceNames?: string[];
}

export interface Policy {
  /** The user the kubeconfig's token stands for. Default: system:serviceaccount:ci:builder. */
  user?: string;
  /** Allowed requests. Omitted: allow all. */
  rules?: PolicyRule[];
}

export interface Attributes {
  verb: string;
  group: string;
  resource: string;
  subresource?: string;
  namespace?: string;
  name?: string;
}

export function allowed(policy: Policy, a: Attributes): boolean {
  if (!policy.rules) return true;
  const full = a.subresource ? `${a.resource}/${a.subresource}` : a.resource;
  return policy.rules.some((r) => {
    if (!r.verbs.includes("*") && !r.verbs.includes(a.verb)) return false;
    if (r.apiGroups && !r.apiGroups.includes("*") && !r.apiGroups.includes(a.group)) return false;
    if (r.namespaces && (!a.namespace || !r.namespaces.includes(a.namespace))) return false;
    if (r.resourceNames && r.resourceNames.length > 0 && (!a.name || !r.resourceNames.includes(a.name))) return false;
    return r.resources.some(
      (res) => res === "*" || res === full || (a.subresource && (res === `${a.resource}/*` || res === `*/${a.subresource}`)),
    );
  });
}
