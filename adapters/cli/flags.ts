// The request from a build command's flags: laid over the build file, then validated by core's
// parseRequest; errors name the flag that set the field.
import { readFileSync } from "node:fs";
import {
  FIELDS, imagesFromEnv, InputError, keyValues, layFields, parseBuildFile, parseGiven, parseMapping,
  type BuildRequest, type GivenField, type RequestField,
} from "../../core/model.js";

/** The option's key in commander's parsed object: "--build-arg" -> "buildArg", "--no-push" -> "push". */
function attribute(field: RequestField): string {
  return field.flag.slice(field.negated ? 5 : 2).replace(/-([a-z0-9])/g, (_, c: string) => c.toUpperCase());
}

/** The fields the flags set, each with its value as the model takes it. */
export function givenFlags(parsed: Record<string, unknown>): GivenField[] {
  const given: GivenField[] = [];
  for (const field of FIELDS) {
    const v = parsed[attribute(field)];
    if (v === undefined || v === null) continue;
    const name = field.flag;
    const value = field.kind === "map" ? keyValues(v as string[], name)
      : field.kind === "object" ? parseMapping(v as string, name)
      : field.value ?? v;
    given.push({ field, value, name });
  }
  return given;
}

function readBuildFile(file: string): Record<string, unknown> {
  let text: string;
  try {
    text = readFileSync(file, "utf8");
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new InputError("--file", code === "ENOENT" ? `${file} does not exist` : `cannot read ${file} (${code ?? String(err)})`);
  }
  return parseBuildFile(text, file);
}

/** The validated request from the build file and flags; errors name the flag that set the field. */
export function requestFromFlags(parsed: Record<string, unknown>): { req: BuildRequest; raw: Record<string, unknown> } {
  const file = parsed.file as string | undefined;
  const given = givenFlags(parsed);
  const raw = layFields([imagesFromEnv(process.env), file ? readBuildFile(file) : {}], given);
  return { req: parseGiven(raw, given, process.env), raw };
}
