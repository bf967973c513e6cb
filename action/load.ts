// Where main and post find the cluster part: dist/action/cluster when bundled, ./cluster.js from sources.
import { enableCompileCache } from "node:module";
import { importPart } from "../core/lazy.js";

export function clusterPart() {
  // On a self-hosted runner the next job reuses V8's compiled code of the part (most of its load time);
  // a hosted runner's machine is new each job, and writing the cache would be wasted.
  if (process.env.RUNNER_ENVIRONMENT !== "github-hosted") enableCompileCache?.();
  return importPart<typeof import("./cluster.js")>(import.meta.url, "/index.js", "../cluster/index.js", "./cluster.js");
}
