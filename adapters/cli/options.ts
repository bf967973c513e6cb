// The request options every build command takes, one per field of core's field table (flags.ts reads
// them back). Only the table is loaded here: help and --version need nothing else.
import { Option, type Command } from "commander";
import { FIELDS, type RequestField } from "../../core/request/fields.js";

function collect(value: string, previous: string[] | undefined): string[] {
  return [...(previous ?? []), value];
}

/** "-t, --image <image>": the field's option as commander declares it. */
export function optionFlags(field: RequestField): string {
  return [field.short ? `${field.short}, ${field.flag}` : field.flag, field.arg].filter(Boolean).join(" ");
}

export function addRequestOptions(cmd: Command): Command {
  cmd.addOption(new Option("-f, --file <path>", "build file (YAML or JSON); flags override it").helpGroup("Build:"));
  for (const field of FIELDS) {
    const option = new Option(optionFlags(field), field.help).helpGroup(`${field.group}:`);
    if (field.kind === "map" || field.kind === "list") option.argParser(collect);
    // commander gives a lone "--no-X" the default true, which would hide the build file's X: none.
    if (field.negated) option.default(null, "");
    // A field of its own whose flag starts with "no-" (--no-proxy), not the negation of another (--proxy).
    else if (option.negate) option.negate = false;
    cmd.addOption(option);
  }
  return cmd;
}
