// PATCH bodies: JSON merge patch (RFC 7386), JSON patch (RFC 6902), and strategic merge patch approximated as a
// merge patch that merges lists of named items (containers, env, volumes...) by name.
import { ApiError, badRequest } from "./errors.js";
import type { Obj } from "./store.js";

function isObj(v: unknown): v is Obj {
  return v !== null && typeof v === "object" && !Array.isArray(v);
}

function merge(target: unknown, patch: unknown, strategic: boolean): unknown {
  if (!isObj(patch)) return patch;
  const out: Obj = isObj(target) ? { ...target } : {};
  for (const [k, v] of Object.entries(patch)) {
    if (strategic && k.startsWith("$")) continue;
    if (v === null) delete out[k];
    else if (strategic && Array.isArray(v) && Array.isArray(out[k]) && v.every((x) => isObj(x) && typeof x.name === "string")) {
      const list: Obj[] = [...out[k]];
      for (const item of v as Obj[]) {
        const i = list.findIndex((x) => isObj(x) && x.name === item.name);
        if (item.$patch === "delete") {
          if (i >= 0) list.splice(i, 1);
        } else if (i >= 0) list[i] = merge(list[i], item, true) as Obj;
        else list.push(merge({}, item, true) as Obj);
      }
      out[k] = list;
    } else out[k] = merge(out[k], v, strategic);
  }
  return out;
}

function pointer(path: string): string[] {
  if (path === "") return [];
  if (!path.startsWith("/")) throw badRequest(`invalid JSON pointer "${path}"`);
  return path.slice(1).split("/").map((p) => p.replace(/~1/g, "/").replace(/~0/g, "~"));
}

function jsonPatch(doc: Obj, ops: Obj[]): Obj {
  const root: Obj = { v: structuredClone(doc) };
  for (const op of ops) {
    const parts = ["v", ...pointer(op.path)];
    const last = parts.pop()!;
    let parent: Obj = root;
    for (const p of parts) {
      parent = parent?.[p];
      if (parent === undefined) throw new ApiError(422, "Invalid", `doc is missing path: "${op.path}": missing value`);
    }
    const isArr = Array.isArray(parent);
    switch (op.op) {
      case "add":
        if (isArr) (parent as unknown as unknown[]).splice(last === "-" ? (parent as unknown as unknown[]).length : Number(last), 0, op.value);
        else parent[last] = op.value;
        break;
      case "replace":
        if (!(last in parent)) throw new ApiError(422, "Invalid", `the server rejected our request due to an error in our request: replace operation does not apply: doc is missing key: ${op.path}: missing value`);
        parent[last] = op.value;
        break;
      case "remove":
        if (isArr) (parent as unknown as unknown[]).splice(Number(last), 1);
        else delete parent[last];
        break;
      case "test":
        if (JSON.stringify(parent[last]) !== JSON.stringify(op.value)) throw new ApiError(422, "Invalid", `testing value ${op.path} failed: test failed`);
        break;
      default:
        throw badRequest(`unsupported JSON patch operation "${op.op}"`);
    }
  }
  return root.v;
}

export function applyPatch(cur: Obj, body: Buffer, contentType: string): Obj {
  let patch: unknown;
  try {
    patch = JSON.parse(body.toString() || "{}");
  } catch (e) {
    throw badRequest(`error decoding patch: ${(e as Error).message}`);
  }
  switch (contentType) {
    case "application/merge-patch+json":
      return merge(cur, patch, false) as Obj;
    case "application/strategic-merge-patch+json":
      return merge(cur, patch, true) as Obj;
    case "application/json-patch+json":
      if (!Array.isArray(patch)) throw badRequest("json patch must be a list of operations");
      return jsonPatch(cur, patch as Obj[]);
    default:
      throw new ApiError(415, "UnsupportedMediaType", `the body of the request was in an unknown format - accepted media types include: application/json-patch+json, application/merge-patch+json, application/strategic-merge-patch+json`);
  }
}
