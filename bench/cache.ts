// Benchmark row: cache: unchanged rebuild with registry layer cache, S2I incremental.
import type { TestCluster } from "../test/cluster/index.js";
import { notYet, type Row } from "./kit.js";

export async function cache(_tc: TestCluster): Promise<Row[]> {
  return [notYet("cache: unchanged rebuild with registry layer cache, S2I incremental", ">= 3x faster than cold")];
}
