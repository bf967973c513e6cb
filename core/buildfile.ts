// Build files (buildpod.yaml or .json) and the merge of flags over them. Parsing text is pure; reading
// the file is the caller's business.
import { parse as parseYaml, YAMLParseError } from "yaml";
import { InputError } from "./errors.js";

export function parseBuildFile(text: string, fileName: string): Record<string, unknown> {
  let value: unknown;
  try {
    value = fileName.endsWith(".json") ? JSON.parse(text) : parseYaml(text, { uniqueKeys: true });
  } catch (err) {
    const where = err instanceof YAMLParseError && err.linePos ? ` at line ${err.linePos[0].line}` : "";
    const what = err instanceof Error ? err.message.split("\n")[0] : String(err);
    throw new InputError("", `${fileName}${where} is not valid ${fileName.endsWith(".json") ? "JSON" : "YAML"}: ${what}`);
  }
  if (value === null || value === undefined) return {};
  if (typeof value !== "object" || Array.isArray(value)) {
    throw new InputError("", `${fileName} must hold a mapping of fields (name, source, strategy, output, ...)`);
  }
  return value as Record<string, unknown>;
}

function isMap(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

/**
 * Lays `over` (flags) on `base` (the file): mappings merge key by key, anything else in `over` replaces
 * what the file said. Undefined values in `over` leave the file's value alone.
 */
export function mergeInput(base: Record<string, unknown>, over: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = { ...base };
  for (const [key, value] of Object.entries(over)) {
    if (value === undefined) continue;
    out[key] = isMap(value) && isMap(base[key]) ? mergeInput(base[key] as Record<string, unknown>, value) : value;
  }
  return out;
}

/** Sets a dotted build-file path ("scheduling.affinity") in a raw request, making the mappings on the way. */
export function setPath(target: Record<string, unknown>, path: string, value: unknown): void {
  const keys = path.split(".");
  let node = target;
  for (const key of keys.slice(0, -1)) node = (node[key] ??= {}) as Record<string, unknown>;
  node[keys[keys.length - 1]] = value;
}

/** A mapping given whole as JSON or YAML text in one flag or input (`field` names it in errors). */
export function parseMapping(text: string, field: string): Record<string, unknown> {
  let value: unknown;
  try {
    value = parseYaml(text, { uniqueKeys: true });
  } catch (err) {
    throw new InputError(field, `is not valid JSON or YAML: ${(err instanceof Error ? err.message : String(err)).split("\n")[0].replace(/:$/, "")}`);
  }
  if (!isMap(value)) throw new InputError(field, `must be a JSON or YAML mapping, e.g. '{"nodeAffinity": {...}}'`);
  return value;
}
