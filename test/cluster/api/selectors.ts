// Label and field selectors as the API server parses them.
import { badRequest } from "./errors.js";

export type LabelRequirement =
  | { key: string; op: "=" | "!="; values: [string] }
  | { key: string; op: "in" | "notin"; values: string[] }
  | { key: string; op: "exists" | "!exists"; values: [] };

const keyRe = /^([a-z0-9]([-a-z0-9.]*[a-z0-9])?\/)?[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?$/;

/** Parse `a=b,c!=d,e in (x,y),f notin (z),g,!h`. Throws 400 BadRequest on a malformed selector. */
export function parseLabelSelector(text: string | null | undefined): LabelRequirement[] {
  const out: LabelRequirement[] = [];
  if (!text) return out;
  let i = 0;
  const s = text;
  const skipWs = () => {
    while (i < s.length && s[i] === " ") i++;
  };
  const fail = (why: string): never => {
    throw badRequest(`unable to parse requirement: ${why}`);
  };
  const readKey = (): string => {
    skipWs();
    const start = i;
    while (i < s.length && !" ,=!()".includes(s[i])) i++;
    const key = s.slice(start, i);
    if (!keyRe.test(key)) fail(`invalid label key "${key}"`);
    return key;
  };
  const readValue = (): string => {
    skipWs();
    const start = i;
    while (i < s.length && !" ,=!()".includes(s[i])) i++;
    return s.slice(start, i);
  };
  while (i < s.length) {
    skipWs();
    if (s[i] === "!") {
      i++;
      out.push({ key: readKey(), op: "!exists", values: [] });
    } else {
      const key = readKey();
      skipWs();
      if (i >= s.length || s[i] === ",") {
        out.push({ key, op: "exists", values: [] });
      } else if (s.startsWith("==", i) || s[i] === "=") {
        i += s.startsWith("==", i) ? 2 : 1;
        out.push({ key, op: "=", values: [readValue()] });
      } else if (s.startsWith("!=", i)) {
        i += 2;
        out.push({ key, op: "!=", values: [readValue()] });
      } else {
        const word = readValue();
        if (word !== "in" && word !== "notin") fail(`found '${word}', expected: in, notin, =, ==, !=, or end of string`);
        skipWs();
        if (s[i] !== "(") fail(`found '${s[i] ?? ""}', expected: '('`);
        i++;
        const values: string[] = [];
        for (;;) {
          const v = readValue();
          if (v) values.push(v);
          skipWs();
          if (s[i] === ",") {
            i++;
            continue;
          }
          if (s[i] === ")") {
            i++;
            break;
          }
          fail(`found '${s[i] ?? ""}', expected: ',' or ')'`);
        }
        out.push({ key, op: word as "in" | "notin", values });
      }
    }
    skipWs();
    if (i < s.length) {
      if (s[i] !== ",") fail(`found '${s[i]}', expected: ','`);
      i++;
    }
  }
  return out;
}

export function matchLabels(reqs: LabelRequirement[], labels: Record<string, string> | undefined): boolean {
  const l = labels ?? {};
  return reqs.every((r) => {
    const has = Object.prototype.hasOwnProperty.call(l, r.key);
    switch (r.op) {
      case "=":
        return has && l[r.key] === r.values[0];
      case "!=":
        return !has || l[r.key] !== r.values[0];
      case "in":
        return has && r.values.includes(l[r.key]);
      case "notin":
        return !has || !r.values.includes(l[r.key]);
      case "exists":
        return has;
      case "!exists":
        return !has;
    }
  });
}

export interface FieldRequirement {
  field: string;
  op: "=" | "!=";
  value: string;
}

/** Parse `metadata.name=x,status.phase!=Running`; only the fields in `supported` are accepted, as the server does. */
export function parseFieldSelector(text: string | null | undefined, supported: string[], kind: string): FieldRequirement[] {
  if (!text) return [];
  return text.split(",").map((part) => {
    const m = /^\s*([^=!\s]+)\s*(==|=|!=)\s*(.*?)\s*$/.exec(part);
    if (!m) throw badRequest(`invalid selector: '${text}'; can't understand '${part}'`);
    const field = m[1];
    if (!supported.includes(field)) {
      throw badRequest(`"${field}" is not a known field selector: only "${supported.join('", "')}"`);
    }
    void kind;
    return { field, op: m[2] === "!=" ? "!=" : "=", value: m[3] };
  });
}

function lookup(obj: unknown, path: string): string {
  let cur: unknown = obj;
  for (const p of path.split(".")) {
    if (cur === null || typeof cur !== "object") return "";
    cur = (cur as Record<string, unknown>)[p];
  }
  return cur === undefined || cur === null ? "" : String(cur);
}

export function matchFields(reqs: FieldRequirement[], obj: unknown): boolean {
  return reqs.every((r) => (lookup(obj, r.field) === r.value) === (r.op === "="));
}
