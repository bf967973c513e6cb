// Reading one field of a build-file-shaped object: its type, its bounds, its form; errors name the field.
import { parseDuration } from "../duration.js";
import { InputError } from "../errors.js";
import { dnsSubdomainProblem, labelKeyProblem, labelValueProblem } from "../names.js";
import { parseQuantity } from "../quantity.js";
import { type ImageReference, parseReference } from "../reference.js";
import { join, KNOWN } from "./fields.js";
import { DEFAULTS, LABEL_PREFIX } from "./types.js";

export type Raw = Record<string, unknown>;


export function closest(word: string, candidates: readonly string[]): string | undefined {
  let best: string | undefined;
  let bestScore = Infinity;
  for (const c of candidates) {
    const d = editDistance(word.toLowerCase(), c.toLowerCase());
    if (d < bestScore) [best, bestScore] = [c, d];
  }
  return bestScore <= Math.max(2, Math.floor(word.length / 3)) ? best : undefined;
}

export function editDistance(a: string, b: string): number {
  const row = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    let prev = row[0];
    row[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const cur = row[j];
      row[j] = Math.min(row[j] + 1, row[j - 1] + 1, prev + (a[i - 1] === b[j - 1] ? 0 : 1));
      prev = cur;
    }
  }
  return row[b.length];
}

export function object(value: unknown, path: string): Raw | undefined {
  if (value === undefined || value === null) return undefined;
  if (typeof value !== "object" || Array.isArray(value)) throw new InputError(path, "must be a mapping of fields");
  const known = KNOWN[path];
  if (known) {
    for (const key of Object.keys(value)) {
      if (!known.includes(key)) {
        const hint = closest(key, known);
        throw new InputError(join(path, key), `unknown field${hint ? ` (did you mean ${join(path, hint)}?)` : `; known fields: ${known.join(", ")}`}`);
      }
    }
  }
  return value as Raw;
}

export function string(value: unknown, path: string): string | undefined {
  if (value === undefined || value === null) return undefined;
  if (typeof value === "number") return String(value);
  if (typeof value !== "string") throw new InputError(path, "must be a string");
  return value;
}

/** A list field's items: a list as given, or text split at commas and white space (as flags and inputs give it). */
export function listItems(value: unknown): unknown[] {
  if (value === undefined || value === null) return [];
  return Array.isArray(value) ? value : String(value).split(/[\s,]+/).filter(Boolean);
}

export function required(value: string | undefined, path: string, hint: string): string {
  if (value === undefined || value === "") throw new InputError(path, `is required: ${hint}`);
  return value;
}

export function boolean(value: unknown, path: string): boolean | undefined {
  if (value === undefined || value === null) return undefined;
  if (typeof value === "boolean") return value;
  if (value === "true") return true;
  if (value === "false") return false;
  throw new InputError(path, `must be true or false, not ${JSON.stringify(value)}`);
}

export function oneOf<T extends string>(value: unknown, path: string, allowed: readonly T[]): T | undefined {
  const s = string(value, path);
  if (s === undefined) return undefined;
  if (!(allowed as readonly string[]).includes(s)) {
    throw new InputError(path, `unknown value "${s}"; choose one of ${allowed.join(", ")}`);
  }
  return s as T;
}

export function stringMap(value: unknown, path: string, checkKey?: (key: string) => string | undefined): Record<string, string> {
  if (value === undefined || value === null) return {};
  let entries: [string, unknown][];
  if (Array.isArray(value)) {
    // Lists of KEY=VALUE, as CI inputs and flags give them.
    entries = value.map((item, i) => {
      const s = string(item, `${path}[${i}]`) ?? "";
      const eq = s.indexOf("=");
      if (eq <= 0) throw new InputError(path, `"${s}" is not KEY=VALUE`);
      return [s.slice(0, eq), s.slice(eq + 1)];
    });
  } else if (typeof value === "object") {
    entries = Object.entries(value);
  } else {
    throw new InputError(path, "must be a mapping of KEY: value");
  }
  const out: Record<string, string> = {};
  for (const [key, v] of entries) {
    const problem = checkKey?.(key);
    if (problem) throw new InputError(join(path, key), problem);
    const s = string(v, join(path, key));
    out[key] = s ?? "";
  }
  return out;
}

/** The largest int32: the Kubernetes fields that durations land in are (or are kept to) 32 bits. */
export const INT32_MAX = 2 ** 31 - 1;

/** Each duration field: its default, bounds in seconds, and what sets the upper bound. */
export const DURATIONS = {
  timeout: { fallback: DEFAULTS.timeout, min: 1, max: INT32_MAX, limit: "the build's deadline (activeDeadlineSeconds) may be at most 2147483647s" },
  startTimeout: { fallback: DEFAULTS.startTimeout, min: 1, max: INT32_MAX, limit: "the start timeout may be at most 2147483647s" },
  // The client's upload timer: Node.js timers hold at most 2^31-1 ms and fire at once beyond that.
  uploadTimeout: { fallback: DEFAULTS.uploadTimeout, min: 1, max: Math.floor(INT32_MAX / 1000), limit: "the upload timer holds at most 2147483s" },
  deleteAfter: { fallback: DEFAULTS.deleteAfter, min: 0, max: INT32_MAX, limit: "the Job's ttlSecondsAfterFinished is a 32-bit number of seconds, at most 2147483647" },
} as const;

export function duration(value: unknown, path: keyof typeof DURATIONS): number {
  const { fallback, min, max, limit } = DURATIONS[path];
  if (value === undefined || value === null || value === "") return fallback;
  const seconds = parseDuration(value);
  if (seconds === undefined) {
    throw new InputError(path, `${JSON.stringify(value)} is not a duration; write it like 90s, 15m, 1h30m or 2d`);
  }
  if (seconds < min) throw new InputError(path, `must be at least ${min}s`);
  if (seconds > max) throw new InputError(path, `${JSON.stringify(value)} is too long: ${limit}; give ${Math.floor(max / 86400)}d or less`);
  return seconds;
}

/** A whole number in [min, max] from a YAML/JSON number or a string of digits; undefined when absent. `what` says both. */
export function wholeNumber(value: unknown, path: string, min: number, max: number, what: string): number | undefined {
  if (value === undefined || value === null || value === "") return undefined;
  const n = typeof value === "number" ? value : typeof value === "string" && /^\s*-?\d+\s*$/.test(value) ? Number(value) : NaN;
  if (!Number.isSafeInteger(n) || n < min || n > max) throw new InputError(path, `must be ${what}, not ${JSON.stringify(value)}`);
  return n;
}

export function quantity(value: unknown, path: string, kind: "cpu" | "bytes"): string | undefined {
  const s = string(value, path);
  if (s === undefined || s === "") return undefined;
  const n = parseQuantity(s);
  if (n === undefined) {
    const example = kind === "cpu" ? "500m or 2" : "512Mi or 4Gi";
    throw new InputError(path, `"${s}" is not a Kubernetes quantity; write it like ${example}`);
  }
  if (n <= 0) throw new InputError(path, "must be greater than zero");
  if (kind === "bytes" && n < 4 * 2 ** 20) {
    throw new InputError(path, `"${s}" is ${n} bytes: too little for a build (did you mean ${s}Mi?)`);
  }
  return s;
}

export function image(value: string, path: string, opts: { allowDigest: boolean }): ImageReference {
  const ref = parseReference(value);
  if (typeof ref === "string") throw new InputError(path, `"${value}" is not a valid image reference: it ${ref}`);
  if (!opts.allowDigest && ref.digest) {
    throw new InputError(path, `"${value}" names a digest; the output must be a tag the build can push to`);
  }
  return ref;
}

export function relativePath(value: string, path: string): string {
  if (value.startsWith("/")) throw new InputError(path, `"${value}" must be relative to the source root, not absolute`);
  const parts: string[] = [];
  for (const part of value.split("/")) {
    if (part === "" || part === ".") continue;
    if (part === "..") {
      if (parts.length === 0) throw new InputError(path, `"${value}" points outside the source`);
      parts.pop();
    } else parts.push(part);
  }
  return parts.length ? parts.join("/") : ".";
}

export function secretName(value: unknown, path: string): string | undefined {
  const s = string(value, path);
  if (s === undefined || s === "") return undefined;
  const problem = dnsSubdomainProblem(s);
  if (problem) throw new InputError(path, problem);
  return s;
}


export function labels(value: unknown, path: string): Record<string, string> {
  const out = stringMap(value, path, (k) =>
    labelKeyProblem(k) ?? (k.startsWith(LABEL_PREFIX) ? `"${k}": labels under ${LABEL_PREFIX} are set by buildpod` : undefined),
  );
  for (const [k, v] of Object.entries(out)) {
    const problem = labelValueProblem(v);
    if (problem) throw new InputError(join(path, k), problem);
  }
  return out;
}
