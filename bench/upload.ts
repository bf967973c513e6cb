// Benchmark row: upload: 200 MB, 20,000 files vs kubectl cp.
import type { TestCluster } from "../test/cluster/index.js";
import { notYet, type Row } from "./kit.js";

export async function upload(_tc: TestCluster): Promise<Row[]> {
  return [notYet("upload: 200 MB, 20,000 files vs kubectl cp", ">= 1.5x kubectl cp")];
}
