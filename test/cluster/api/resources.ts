// The resources this API server serves, and the discovery documents that describe them.

export interface ResourceDef {
  /** Plural name in URLs: pods, jobs. */
  resource: string;
  singular: string;
  kind: string;
  listKind: string;
  group: string;
  version: string;
  namespaced: boolean;
  verbs: string[];
  shortNames?: string[];
  categories?: string[];
  subresources?: { name: string; kind: string; verbs: string[] }[];
  /** Field selectors the server accepts besides metadata.name and metadata.namespace. */
  fields?: string[];
}

const crud = ["create", "delete", "deletecollection", "get", "list", "patch", "update", "watch"];

export const resources: ResourceDef[] = [
  {
    resource: "namespaces", singular: "namespace", kind: "Namespace", listKind: "NamespaceList", group: "", version: "v1",
    namespaced: false, verbs: ["create", "delete", "get", "list", "patch", "update", "watch"], shortNames: ["ns"],
    subresources: [{ name: "status", kind: "Namespace", verbs: ["get", "patch", "update"] }], fields: ["status.phase"],
  },
  {
    resource: "nodes", singular: "node", kind: "Node", listKind: "NodeList", group: "", version: "v1",
    namespaced: false, verbs: ["get", "list", "watch"], shortNames: ["no"], fields: ["spec.unschedulable"],
  },
  {
    resource: "pods", singular: "pod", kind: "Pod", listKind: "PodList", group: "", version: "v1", namespaced: true,
    verbs: crud, shortNames: ["po"], categories: ["all"],
    subresources: [
      { name: "attach", kind: "PodAttachOptions", verbs: ["create", "get"] },
      { name: "exec", kind: "PodExecOptions", verbs: ["create", "get"] },
      { name: "log", kind: "Pod", verbs: ["get"] },
      { name: "status", kind: "Pod", verbs: ["get", "patch", "update"] },
    ],
    fields: ["spec.nodeName", "spec.restartPolicy", "spec.schedulerName", "spec.serviceAccountName", "status.phase", "status.podIP", "status.nominatedNodeName"],
  },
  {
    resource: "secrets", singular: "secret", kind: "Secret", listKind: "SecretList", group: "", version: "v1",
    namespaced: true, verbs: crud, fields: ["type"],
  },
  {
    resource: "configmaps", singular: "configmap", kind: "ConfigMap", listKind: "ConfigMapList", group: "", version: "v1",
    namespaced: true, verbs: crud, shortNames: ["cm"],
  },
  {
    resource: "events", singular: "event", kind: "Event", listKind: "EventList", group: "", version: "v1", namespaced: true,
    verbs: crud, shortNames: ["ev"],
    fields: [
      "involvedObject.kind", "involvedObject.namespace", "involvedObject.name", "involvedObject.uid",
      "involvedObject.apiVersion", "involvedObject.resourceVersion", "involvedObject.fieldPath", "reason",
      "reportingComponent", "source", "type",
    ],
  },
  {
    resource: "serviceaccounts", singular: "serviceaccount", kind: "ServiceAccount", listKind: "ServiceAccountList",
    group: "", version: "v1", namespaced: true, verbs: crud, shortNames: ["sa"],
  },
  {
    resource: "jobs", singular: "job", kind: "Job", listKind: "JobList", group: "batch", version: "v1", namespaced: true,
    verbs: crud, categories: ["all"], subresources: [{ name: "status", kind: "Job", verbs: ["get", "patch", "update"] }],
    fields: ["status.successful"],
  },
  {
    resource: "selfsubjectaccessreviews", singular: "selfsubjectaccessreview", kind: "SelfSubjectAccessReview",
    listKind: "SelfSubjectAccessReviewList", group: "authorization.k8s.io", version: "v1", namespaced: false, verbs: ["create"],
  },
];

export function apiVersionOf(r: ResourceDef): string {
  return r.group ? `${r.group}/${r.version}` : r.version;
}

export function findResource(group: string, version: string, resource: string): ResourceDef | undefined {
  return resources.find((r) => r.group === group && r.version === version && r.resource === resource);
}

export function resourceByKind(kind: string): ResourceDef | undefined {
  return resources.find((r) => r.kind === kind);
}

export const groups = ["batch", "authorization.k8s.io"];

export function apiResourceList(group: string, version: string): object {
  const list: object[] = [];
  for (const r of resources.filter((x) => x.group === group && x.version === version)) {
    const entry: Record<string, unknown> = {
      name: r.resource, singularName: r.singular, namespaced: r.namespaced, kind: r.kind, verbs: r.verbs,
    };
    if (r.shortNames) entry.shortNames = r.shortNames;
    if (r.categories) entry.categories = r.categories;
    entry.storageVersionHash = Buffer.from(`${group}/${version}/${r.kind}`).toString("base64").slice(0, 11);
    list.push(entry);
    for (const s of r.subresources ?? []) {
      list.push({ name: `${r.resource}/${s.name}`, singularName: "", namespaced: r.namespaced, kind: s.kind, verbs: s.verbs });
    }
  }
  return { kind: "APIResourceList", apiVersion: "v1", groupVersion: group ? `${group}/${version}` : version, resources: list };
}

export function apiGroup(name: string): object {
  return {
    name,
    versions: [{ groupVersion: `${name}/v1`, version: "v1" }],
    preferredVersion: { groupVersion: `${name}/v1`, version: "v1" },
  };
}

export function apiGroupList(): object {
  return { kind: "APIGroupList", apiVersion: "v1", groups: groups.map(apiGroup) };
}

export function apiVersions(serverAddress: string): object {
  return {
    kind: "APIVersions",
    versions: ["v1"],
    serverAddressByClientCIDRs: [{ clientCIDR: "0.0.0.0/0", serverAddress }],
  };
}

export const versionInfo = {
  major: "1",
  minor: "32",
  gitVersion: "v1.32.0-buildpod-test",
  gitCommit: "0000000000000000000000000000000000000000",
  gitTreeState: "clean",
  buildDate: "2026-01-01T00:00:00Z",
  goVersion: "go1.23.4",
  compiler: "gc",
  platform: "linux/amd64",
};
