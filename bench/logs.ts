// Benchmark row: log relay: 1,000,000 lines through buildpod run vs kubectl logs -f.
import type { TestCluster } from "../test/cluster/index.js";
import { notYet, type Row } from "./kit.js";

export async function logRelay(_tc: TestCluster): Promise<Row[]> {
  return [notYet("log relay: 1,000,000 lines through buildpod run vs kubectl logs -f", ">= kubectl, >= 80% of a bare HTTP read, 0 lost")];
}
