// Where main and post find the cluster part: dist/action/cluster when bundled, ./cluster.js from sources.
import { importPart } from "../core/lazy.js";

export const clusterPart = () =>
  importPart<typeof import("./cluster.js")>(import.meta.url, "/index.js", "../cluster/index.js", "./cluster.js");
