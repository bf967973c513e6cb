// The render command: the Job (or Pod) a build would create, printed without a cluster. Loaded when it
// runs, as the cluster commands are: help and --version need neither the renderer nor YAML.
import { stringify as toYaml } from "yaml";
import { InputError, newRunId, renderAll } from "../../core/model.js";
import type { IO } from "./commands.js";
import { requestFromFlags } from "./flags.js";

export function renderCommand(opts: Record<string, unknown>, io: IO): void {
  const { req } = requestFromFlags(opts);
  const id = (opts.id as string | undefined) ?? newRunId();
  if (!/^[a-z0-9]{1,12}$/.test(id)) throw new InputError("--id", `"${id}" must be 1 to 12 lower-case letters or digits`);
  // A build for several platforms is several Jobs: a List in JSON, documents in YAML.
  const objs = renderAll(req, id);
  const obj = objs.length === 1 ? objs[0] : { apiVersion: "v1", kind: "List", items: objs };
  if (opts.output === "json") io.out(JSON.stringify(obj, null, 2) + "\n");
  else io.out(objs.map((o) => toYaml(o, { lineWidth: 0 })).join("---\n"));
}
