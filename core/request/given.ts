// What an entry point's user gave, laid over the build file: each adapter turns its own flags, inputs
// or parameters into values of the field table, and this one path makes the request of them, with
// errors that name the field as the user named it.
import { mergeInput, setPath } from "../buildfile.js";
import { InputError } from "../errors.js";
import type { RequestField } from "./fields.js";
import { parseRequest } from "./index.js";
import type { BuildRequest } from "./types.js";

/** One field's value from an entry point, and the name the user gave it by ("--build-arg", "input build-args"). */
export interface GivenField {
  field: RequestField;
  value: unknown;
  name: string;
}

/** "KEY=VALUE" items as a mapping; `name` says where they came from in the error. */
export function keyValues(items: string[], name: string, hint = ""): Record<string, string> {
  const out: Record<string, string> = {};
  for (const item of items) {
    const eq = item.indexOf("=");
    if (eq <= 0) throw new InputError(name, `"${item}" is not KEY=VALUE${hint}`);
    out[item.slice(0, eq)] = item.slice(eq + 1);
  }
  return out;
}

/**
 * The build-file-shaped request: `layers` from the lowest (tool images from the environment, an entry
 * point's defaults, the build file), then the given fields over them. Mappings merge key by key, except
 * an object field (an affinity), which replaces the file's whole.
 */
export function layFields(layers: Record<string, unknown>[], given: GivenField[]): Record<string, unknown> {
  const over: Record<string, unknown> = {};
  for (const g of given) setPath(over, g.field.path, g.value);
  const raw = [...layers, over].reduce((base, layer) => mergeInput(base, layer), {});
  for (const g of given) if (g.field.kind === "object") setPath(raw, g.field.path, g.value);
  return raw;
}

/**
 * parseRequest; an error about a given field names it as the user did: "--cache (cache.repository): ...".
 * ENV is the entry point's environment, read only for network.proxyFromEnv.
 */
export function parseGiven(raw: Record<string, unknown>, given: GivenField[], env: Record<string, string | undefined> = {}): BuildRequest {
  try {
    return parseRequest(raw, { env });
  } catch (err) {
    if (!(err instanceof InputError)) throw err;
    const path = (g: GivenField) => g.field.path;
    const match = given.find((g) => err.field === path(g) || err.field.startsWith(`${path(g)}.`) || err.field.startsWith(`${path(g)}[`));
    throw match ? new InputError(`${match.name} (${err.field})`, err.problem) : err;
  }
}
