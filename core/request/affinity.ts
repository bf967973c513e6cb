// Affinity: the Kubernetes types as data, so one walk checks and copies any of them. The walk refuses
// unknown fields and wrong types; each shape's `rule` holds the API server's checks between fields.
import { InputError } from "../errors.js";
import { dnsLabelProblem, labelKeyProblem, labelValueProblem } from "../names.js";
import { join } from "./fields.js";
import { closest, type Raw, string, stringMap, wholeNumber } from "./read.js";

type Shape =
  | { kind: "object"; type: string; fields: Record<string, Shape>; required?: Record<string, string>; rule?: (v: Raw, path: string) => void }
  | { kind: "list"; item: Shape; nonEmpty?: string }
  | { kind: "string"; problem?: (s: string) => string | undefined; choices?: readonly string[] }
  | { kind: "weight" }
  | { kind: "labels" };

const text = (problem?: (s: string) => string | undefined): Shape => ({ kind: "string", problem });
const list = (item: Shape, nonEmpty?: string): Shape => ({ kind: "list", item, nonEmpty });
const LABEL_KEY = text(labelKeyProblem);
const NODE_OPERATORS = ["In", "NotIn", "Exists", "DoesNotExist", "Gt", "Lt"] as const;
const LABEL_OPERATORS = ["In", "NotIn", "Exists", "DoesNotExist"] as const;

/** How many values each operator takes, as the API server checks it. */
function checkValues(r: Raw, path: string): void {
  const values = (r.values ?? []) as string[];
  const at = `${path}.values`;
  switch (r.operator) {
    case "In": case "NotIn":
      if (!values.length) throw new InputError(at, `must list at least one value for operator ${r.operator}`);
      break;
    case "Exists": case "DoesNotExist":
      if (values.length) throw new InputError(at, `must be empty for operator ${r.operator}, which looks at the key alone`);
      break;
    default: // Gt, Lt
      if (values.length !== 1 || !/^-?\d+$/.test(values[0])) throw new InputError(at, `must be exactly one whole number for operator ${r.operator}, e.g. ["4"]`);
  }
}

const requirement = (type: string, choices: readonly string[], value: Shape, key = LABEL_KEY, more?: (r: Raw, path: string) => void): Shape => ({
  kind: "object", type,
  fields: { key, operator: { kind: "string", choices }, values: list(value) },
  required: { key: "the label to look at", operator: `one of ${choices.join(", ")}` },
  rule: (r, path) => {
    checkValues(r, path);
    more?.(r, path);
  },
});

const NODE_SELECTOR_TERM: Shape = {
  kind: "object", type: "NodeSelectorTerm",
  fields: {
    matchExpressions: list(requirement("NodeSelectorRequirement", NODE_OPERATORS, text())),
    // The API server selects nodes by one field only, their name, with one value.
    matchFields: list(requirement(
      "NodeSelectorRequirement", ["In", "NotIn"], text(),
      text((k) => (k === "metadata.name" ? undefined : `"${k}" is not supported: matchFields selects by metadata.name only`)),
      (r, path) => {
        if ((r.values as string[]).length !== 1) throw new InputError(`${path}.values`, "must be exactly one node name");
      },
    )),
  },
  rule: (t, path) => {
    if (!(t.matchExpressions as unknown[] | undefined)?.length && !(t.matchFields as unknown[] | undefined)?.length) {
      throw new InputError(path, "matches no node: give matchExpressions or matchFields");
    }
  },
};

const LABEL_SELECTOR: Shape = {
  kind: "object", type: "LabelSelector",
  fields: { matchLabels: { kind: "labels" }, matchExpressions: list(requirement("LabelSelectorRequirement", LABEL_OPERATORS, text(labelValueProblem))) },
};

const POD_AFFINITY_TERM: Shape = {
  kind: "object", type: "PodAffinityTerm",
  fields: {
    labelSelector: LABEL_SELECTOR, namespaceSelector: LABEL_SELECTOR, topologyKey: LABEL_KEY,
    namespaces: list(text((n) => dnsLabelProblem(n))), matchLabelKeys: list(LABEL_KEY), mismatchLabelKeys: list(LABEL_KEY),
  },
  required: { topologyKey: "the node label that groups nodes, e.g. kubernetes.io/hostname or topology.kubernetes.io/zone" },
  rule: (t, path) => {
    for (const f of ["matchLabelKeys", "mismatchLabelKeys"]) {
      if ((t[f] as unknown[] | undefined)?.length && !t.labelSelector) throw new InputError(`${path}.${f}`, "needs a labelSelector to add to");
    }
  },
};

const WEIGHT: Shape = { kind: "weight" };
const podAffinity = (type: string): Shape => ({
  kind: "object", type,
  fields: {
    requiredDuringSchedulingIgnoredDuringExecution: list(POD_AFFINITY_TERM),
    preferredDuringSchedulingIgnoredDuringExecution: list({
      kind: "object", type: "WeightedPodAffinityTerm", fields: { weight: WEIGHT, podAffinityTerm: POD_AFFINITY_TERM },
      required: { weight: "1 to 100", podAffinityTerm: "the pods to look for" },
    }),
  },
});

export const AFFINITY: Shape = {
  kind: "object", type: "Affinity",
  fields: {
    nodeAffinity: {
      kind: "object", type: "NodeAffinity",
      fields: {
        requiredDuringSchedulingIgnoredDuringExecution: {
          kind: "object", type: "NodeSelector",
          fields: { nodeSelectorTerms: list(NODE_SELECTOR_TERM, "give at least one term; a node must match one of them") },
          required: { nodeSelectorTerms: "a list of terms, one of which a node must match" },
        },
        preferredDuringSchedulingIgnoredDuringExecution: list({
          kind: "object", type: "PreferredSchedulingTerm", fields: { weight: WEIGHT, preference: NODE_SELECTOR_TERM },
          required: { weight: "1 to 100", preference: "the node selector term to prefer" },
        }),
      },
    },
    podAffinity: podAffinity("PodAffinity"),
    podAntiAffinity: podAffinity("PodAntiAffinity"),
  },
};

const an = (type: string) => `${/^[AEIOU]/.test(type) ? "an" : "a"} ${type}`;
const shown = (value: unknown) => {
  const s = JSON.stringify(value) ?? String(value);
  return s.length > 40 ? `${s.slice(0, 37)}...` : s;
};

/** Checks `value` against `shape` and returns a clean copy (numbers in string fields become strings). */
export function conform(value: unknown, shape: Shape, path: string): unknown {
  switch (shape.kind) {
    case "string": {
      const s = string(value, path) ?? "";
      if (shape.choices && !shape.choices.includes(s)) throw new InputError(path, `unknown value ${JSON.stringify(s)}; choose one of ${shape.choices.join(", ")}`);
      const problem = shape.problem?.(s);
      if (problem) throw new InputError(path, problem);
      return s;
    }
    case "weight":
      return wholeNumber(value, path, 1, 100, "a whole number from 1 to 100");
    case "labels": {
      const out = stringMap(value, path, labelKeyProblem);
      for (const [k, v] of Object.entries(out)) {
        const problem = labelValueProblem(v);
        if (problem) throw new InputError(join(path, k), problem);
      }
      return out;
    }
    case "list": {
      if (!Array.isArray(value)) throw new InputError(path, `must be a list (not ${shown(value)})`);
      if (shape.nonEmpty && value.length === 0) throw new InputError(path, `is empty: ${shape.nonEmpty}`);
      return value.map((item, i) => conform(item, shape.item, `${path}[${i}]`));
    }
    case "object": {
      const names = Object.keys(shape.fields);
      if (typeof value !== "object" || value === null || Array.isArray(value)) {
        throw new InputError(path, `must be ${an(shape.type)}, a mapping with any of ${names.join(", ")} (not ${shown(value)})`);
      }
      const v = value as Raw;
      for (const key of Object.keys(v)) {
        if (shape.fields[key]) continue;
        const hint = closest(key, names);
        throw new InputError(`${path}.${key}`, `unknown field${hint ? ` (did you mean ${hint}?)` : `; ${an(shape.type)} has ${names.join(", ")}`}`);
      }
      for (const [key, what] of Object.entries(shape.required ?? {})) {
        if (v[key] === undefined || v[key] === null || v[key] === "") throw new InputError(`${path}.${key}`, `is required: ${what}`);
      }
      const out: Raw = {};
      for (const [key, field] of Object.entries(shape.fields)) {
        if (v[key] !== undefined && v[key] !== null) out[key] = conform(v[key], field, `${path}.${key}`);
      }
      shape.rule?.(out, path);
      return out;
    }
  }
}
