// Benchmark row: fan-out: 100 builds from one process.
import type { TestCluster } from "../test/cluster/index.js";
import { notYet, type Row } from "./kit.js";

export async function fanOut(_tc: TestCluster): Promise<Row[]> {
  return [notYet("fan-out: 100 builds from one process", "<= 200 MB RSS, no polling, <= 1 watch per build")];
}
