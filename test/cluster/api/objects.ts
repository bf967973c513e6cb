// Admission for created objects: names, defaults and validation the way the real API server applies them.
import { randomBytes } from "node:crypto";
import { invalid, type FieldError } from "./errors.js";
import type { ResourceDef } from "./resources.js";
import type { Obj } from "./store.js";
import { cpuMilli, memoryBytes, parseQuantity } from "./quantity.js";

const nameAlphabet = "bcdfghjklmnpqrstvwxz2456789";

export function randomSuffix(n = 5): string {
  const bytes = randomBytes(n);
  return Array.from(bytes, (b) => nameAlphabet[b % nameAlphabet.length]).join("");
}

const dns1123Subdomain = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
const dns1123Label = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;

function subdomainError(field: string, value: string): FieldError {
  return {
    type: "FieldValueInvalid",
    field,
    detail: `${JSON.stringify(value)}: a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character (e.g. 'example.com', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')`,
  };
}

function labelError(field: string, value: string): FieldError {
  return {
    type: "FieldValueInvalid",
    field,
    detail: `${JSON.stringify(value)}: a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must start and end with an alphanumeric character (e.g. 'my-name',  or '123-abc', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?')`,
  };
}

/** Fill metadata.name from generateName; validate the name. Throws 422 like the server. */
export function admitMetadata(def: ResourceDef, obj: Obj, namespace: string | undefined): void {
  obj.metadata ??= {};
  const md = obj.metadata;
  if (!md.name && md.generateName) md.name = `${md.generateName}${randomSuffix()}`;
  if (def.namespaced) md.namespace = namespace;
  else delete md.namespace;
  const errs: FieldError[] = [];
  if (!md.name) {
    errs.push({ type: "FieldValueRequired", field: "metadata.name", detail: "name or generateName is required" });
  } else if (def.resource === "namespaces" ? !dns1123Label.test(md.name) || md.name.length > 63 : !dns1123Subdomain.test(md.name) || md.name.length > 253) {
    errs.push(def.resource === "namespaces" ? labelError("metadata.name", md.name) : subdomainError("metadata.name", md.name));
  }
  if (errs.length) throw invalid(def.kind, def.group, md.name ?? "", errs);
  delete md.resourceVersion;
  delete md.uid;
  delete md.creationTimestamp;
  delete md.deletionTimestamp;
  delete md.deletionGracePeriodSeconds;
  md.managedFields = undefined;
  delete md.managedFields;
}

function defaultContainer(c: Obj, forInit: boolean): void {
  c.terminationMessagePath ??= "/dev/termination-log";
  c.terminationMessagePolicy ??= "File";
  if (!c.imagePullPolicy && typeof c.image === "string") {
    const ref = c.image.split("@")[0];
    const tag = ref.includes(":", ref.lastIndexOf("/") + 1) ? ref.slice(ref.lastIndexOf(":") + 1) : "";
    c.imagePullPolicy = c.image.includes("@") ? "IfNotPresent" : !tag || tag === "latest" ? "Always" : "IfNotPresent";
  }
  c.resources ??= {};
  if (c.resources.limits) {
    c.resources.requests ??= {};
    for (const [k, v] of Object.entries(c.resources.limits)) c.resources.requests[k] ??= v;
  }
  for (const p of c.ports ?? []) p.protocol ??= "TCP";
  for (const e of c.env ?? []) {
    if (e.valueFrom?.fieldRef) e.valueFrom.fieldRef.apiVersion ??= "v1";
  }
  void forInit;
}

/** The defaults the real server fills into a pod spec. */
export function defaultPodSpec(spec: Obj): void {
  spec.restartPolicy ??= "Always";
  spec.terminationGracePeriodSeconds ??= 30;
  spec.dnsPolicy ??= "ClusterFirst";
  spec.securityContext ??= {};
  spec.schedulerName ??= "default-scheduler";
  spec.serviceAccountName ??= spec.serviceAccount ?? "default";
  spec.serviceAccount ??= spec.serviceAccountName;
  spec.enableServiceLinks ??= true;
  spec.preemptionPolicy ??= "PreemptLowerPriority";
  spec.priority ??= 0;
  for (const c of spec.initContainers ?? []) defaultContainer(c, true);
  for (const c of spec.containers ?? []) defaultContainer(c, false);
  for (const v of spec.volumes ?? []) {
    if (v.secret) v.secret.defaultMode ??= 420;
    if (v.configMap) v.configMap.defaultMode ??= 420;
  }
}

export function validatePodSpec(spec: Obj | undefined, prefix: string, restartPolicies: string[]): FieldError[] {
  const errs: FieldError[] = [];
  if (!spec) return [{ type: "FieldValueRequired", field: prefix, detail: undefined }];
  const names = new Set<string>();
  const check = (list: Obj[] | undefined, field: string) => {
    (list ?? []).forEach((c, i) => {
      const f = `${prefix}.${field}[${i}]`;
      if (!c.name) errs.push({ type: "FieldValueRequired", field: `${f}.name` });
      else if (!dns1123Label.test(c.name)) errs.push(labelError(`${f}.name`, c.name));
      else if (names.has(c.name)) errs.push({ type: "FieldValueDuplicate", field: `${f}.name`, detail: JSON.stringify(c.name) });
      else names.add(c.name);
      if (!c.image || !String(c.image).trim()) errs.push({ type: "FieldValueRequired", field: `${f}.image` });
      for (const kind of ["requests", "limits"]) {
        for (const [k, v] of Object.entries(c.resources?.[kind] ?? {})) {
          if (Number.isNaN(parseQuantity(v as string))) {
            errs.push({ type: "FieldValueInvalid", field: `${f}.resources.${kind}[${k}]`, detail: `${JSON.stringify(v)}: must be a valid quantity` });
          }
        }
      }
      const req = c.resources?.requests ?? {};
      const lim = c.resources?.limits ?? {};
      for (const k of ["cpu", "memory"]) {
        if (req[k] !== undefined && lim[k] !== undefined) {
          const over = k === "cpu" ? cpuMilli(req[k]) > cpuMilli(lim[k]) : memoryBytes(req[k]) > memoryBytes(lim[k]);
          if (over) errs.push({ type: "FieldValueInvalid", field: `${f}.resources.requests`, detail: `${JSON.stringify(req[k])}: must be less than or equal to ${k} limit of ${lim[k]}` });
        }
      }
    });
  };
  if (!spec.containers || spec.containers.length === 0) errs.push({ type: "FieldValueRequired", field: `${prefix}.containers` });
  check(spec.initContainers, "initContainers");
  check(spec.containers, "containers");
  if (spec.restartPolicy && !restartPolicies.includes(spec.restartPolicy)) {
    errs.push(
      restartPolicies.length === 3
        ? { type: "FieldValueNotSupported", field: `${prefix}.restartPolicy`, detail: `${JSON.stringify(spec.restartPolicy)}: supported values: "Always", "OnFailure", "Never"` }
        : { type: "FieldValueNotSupported", field: `${prefix}.restartPolicy`, detail: `${JSON.stringify(spec.restartPolicy)}: supported values: "OnFailure", "Never"` },
    );
  }
  if (spec.activeDeadlineSeconds !== undefined && !(spec.activeDeadlineSeconds > 0)) {
    errs.push({ type: "FieldValueInvalid", field: `${prefix}.activeDeadlineSeconds`, detail: `${spec.activeDeadlineSeconds}: must be between 1 and 2147483647, inclusive` });
  }
  return errs;
}

export function qosClass(spec: Obj): string {
  const all = [...(spec.initContainers ?? []), ...(spec.containers ?? [])];
  let any = false;
  let guaranteed = true;
  for (const c of all) {
    const req = c.resources?.requests ?? {};
    const lim = c.resources?.limits ?? {};
    if (Object.keys(req).length || Object.keys(lim).length) any = true;
    for (const k of ["cpu", "memory"]) {
      if (lim[k] === undefined || req[k] === undefined || parseQuantity(req[k]) !== parseQuantity(lim[k])) guaranteed = false;
    }
  }
  if (!any) return "BestEffort";
  return guaranteed ? "Guaranteed" : "Burstable";
}

export function admitPod(pod: Obj): void {
  pod.spec ??= {};
  defaultPodSpec(pod.spec);
  const errs = validatePodSpec(pod.spec, "spec", ["Always", "OnFailure", "Never"]);
  if (errs.length) throw invalid("Pod", "", pod.metadata.name, errs);
  delete pod.spec.nodeName;
  pod.status = { phase: "Pending", qosClass: qosClass(pod.spec) };
}

export function admitJob(job: Obj): void {
  job.spec ??= {};
  const spec = job.spec;
  const uid = job.metadata.uid as string;
  spec.template ??= {};
  spec.template.metadata ??= {};
  const errs: FieldError[] = [];
  if (!spec.template.spec) errs.push({ type: "FieldValueRequired", field: "spec.template.spec" });
  else if (!spec.template.spec.restartPolicy) {
    errs.push({ type: "FieldValueRequired", field: "spec.template.spec.restartPolicy", detail: 'valid values: "OnFailure", "Never"' });
  } else defaultPodSpec(spec.template.spec);
  if (errs.length) throw invalid("Job", "batch", job.metadata.name, errs);
  spec.parallelism ??= 1;
  spec.completions ??= 1;
  spec.backoffLimit ??= 6;
  spec.completionMode ??= "NonIndexed";
  spec.suspend ??= false;
  spec.podReplacementPolicy ??= "TerminatingOrFailed";
  if (spec.activeDeadlineSeconds !== undefined && !(spec.activeDeadlineSeconds > 0)) {
    errs.push({ type: "FieldValueInvalid", field: "spec.activeDeadlineSeconds", detail: `${spec.activeDeadlineSeconds}: must be greater than or equal to 0` });
  }
  if (spec.ttlSecondsAfterFinished !== undefined && spec.ttlSecondsAfterFinished < 0) {
    errs.push({ type: "FieldValueInvalid", field: "spec.ttlSecondsAfterFinished", detail: `${spec.ttlSecondsAfterFinished}: must be greater than or equal to 0` });
  }
  const labels = (spec.template.metadata.labels ??= {});
  labels["batch.kubernetes.io/controller-uid"] = uid;
  labels["batch.kubernetes.io/job-name"] = job.metadata.name;
  labels["controller-uid"] = uid;
  labels["job-name"] = job.metadata.name;
  spec.selector ??= { matchLabels: { "batch.kubernetes.io/controller-uid": uid } };
  job.metadata.labels ??= { ...labels };
  if (spec.template.spec?.restartPolicy) errs.push(...validatePodSpec(spec.template.spec, "spec.template.spec", ["OnFailure", "Never"]));
  if (errs.length) throw invalid("Job", "batch", job.metadata.name, errs);
  job.status = {};
}

export function admitSecret(s: Obj): void {
  s.type ??= "Opaque";
  if (s.stringData) {
    s.data ??= {};
    for (const [k, v] of Object.entries(s.stringData)) s.data[k] = Buffer.from(String(v)).toString("base64");
    delete s.stringData;
  }
  const errs: FieldError[] = [];
  for (const [k, v] of Object.entries(s.data ?? {})) {
    if (typeof v !== "string" || !/^[A-Za-z0-9+/]*={0,2}$/.test(v)) {
      errs.push({ type: "FieldValueInvalid", field: `data[${k}]`, detail: "must be base64" });
    }
  }
  if (errs.length) throw invalid("Secret", "", s.metadata.name, errs);
}

export function podRequests(spec: Obj): { cpuMilli: number; memoryBytes: number } {
  let cpu = 0;
  let mem = 0;
  for (const c of spec.containers ?? []) {
    cpu += cpuMilli(c.resources?.requests?.cpu);
    mem += memoryBytes(c.resources?.requests?.memory);
  }
  for (const c of spec.initContainers ?? []) {
    cpu = Math.max(cpu, cpuMilli(c.resources?.requests?.cpu));
    mem = Math.max(mem, memoryBytes(c.resources?.requests?.memory));
  }
  return { cpuMilli: cpu, memoryBytes: mem };
}
