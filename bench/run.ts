// `npm run bench`: what buildpod costs around a build, each figure beside its anchor, measured in the same
// run on the test cluster. Prints a table and writes build/bench.json. Rows not measured yet say so.
import { mkdirSync, statSync, writeFileSync } from "node:fs";
import { cpus, totalmem } from "node:os";
import { join } from "node:path";
import { cache } from "./cache.js";
import { fanOut } from "./fanout.js";
import { firstOutput, median, ms, ROOT, run, RUNS, type Row } from "./kit.js";
import { logRelay } from "./logs.js";
import { overhead } from "./overhead.js";
import { upload } from "./upload.js";
import { startKubeCluster, type KubeCluster } from "../test/cluster/kube/index.js";

/** Milliseconds from spawn to exit. */
function toExit(cmd: string, args: string[], env: NodeJS.ProcessEnv): Promise<number> {
  return run(cmd, args, { env }).then((r) => r.seconds * 1000);
}

async function startup(): Promise<Row[]> {
  const node = process.execPath;
  // The action's main step with inputs that pass, up to where it needs the cluster: the kubeconfig it is
  // pointed at does not exist, so it stops right after loading its cluster part.
  const actionEnv = {
    PATH: process.env.PATH, HOME: "/nonexistent", KUBECONFIG: "/nonexistent/kubeconfig",
    INPUT_IMAGE: "registry.example.com/app:1", GITHUB_REPOSITORY: "org/app", GITHUB_SERVER_URL: "https://github.com",
    GITHUB_SHA: "0123456789abcdef0123456789abcdef01234567",
  };
  const main = join(ROOT, "dist/action/main/index.js");
  const base: number[] = [];
  const version: number[] = [];
  const action: number[] = [];
  const actionLoaded: number[] = [];
  const baseExit: number[] = [];
  for (let i = 0; i < RUNS; i++) {
    base.push(await firstOutput(node, ["-e", "console.log(1)"]));
    baseExit.push(await toExit(node, ["-e", "0"], process.env));
    version.push(await firstOutput(node, [join(ROOT, "bin/buildpod.js"), "--version"]));
    action.push(await firstOutput(node, [main], actionEnv));
    actionLoaded.push(await toExit(node, [main], actionEnv));
  }
  const size = (p: string) => statSync(join(ROOT, p)).size / 1e6;
  const [mainMb, stepMb, postMb, clusterMb] = ["main", "step", "post", "cluster"].map((b) => size(`dist/action/${b}/index.js`));
  return [
    {
      figure: "start-up: buildpod --version, to first output (median, cold)",
      buildpod: ms(median(version)), anchor: `node -e: ${ms(median(base))}`, ratio: `${(median(version) / median(base)).toFixed(2)}x`,
      target: "<= 100 ms", met: median(version) <= 100, raw: { version, base },
    },
    {
      figure: "start-up: the action's main step, to its first line (median, cold)",
      buildpod: ms(median(action)), anchor: `node -e: ${ms(median(base))}`, ratio: `${(median(action) / median(base)).toFixed(2)}x`,
      target: "<= 100 ms", met: median(action) <= 100, raw: { action },
    },
    {
      figure: "start-up: the action's main step with its cluster part loaded, to exit (median, cold)",
      buildpod: ms(median(actionLoaded)), anchor: `node -e, to exit: ${ms(median(baseExit))}`, ratio: `${(median(actionLoaded) / median(baseExit)).toFixed(2)}x`,
      target: "-", met: "n/a", raw: { actionLoaded, baseExit },
    },
    {
      figure: "bundle sizes (what a build loads)",
      buildpod: `action: main ${mainMb.toFixed(2)} MB + step ${stepMb.toFixed(2)} MB + cluster part ${clusterMb.toFixed(1)} MB (post ${postMb.toFixed(2)} MB); cli ${size("dist/cli/index.js").toFixed(2)} MB + cluster part ${size("dist/cli-cluster/index.js").toFixed(1)} MB; for auth-provider and proxy-url kubeconfigs only, client-node's KubeConfig ${size("dist/action/cluster/auth/index.js").toFixed(1)} MB more`,
      anchor: "-", ratio: "-", target: "action bundle < 3 MB (main and the parts it loads)", met: mainMb + stepMb + clusterMb < 3,
    },
  ];
}

// Rows in the order; BENCH_ONLY=overhead,logs (names below) runs some of them.
type RowSet = { name: string } & ({ cluster: true; measure: (tc: KubeCluster) => Promise<Row[]> } | { cluster: false; measure: () => Promise<Row[]> });
const ROWS: RowSet[] = [
  { name: "overhead", cluster: true, measure: overhead },
  { name: "logs", cluster: true, measure: logRelay },
  { name: "fanout", cluster: true, measure: fanOut },
  { name: "upload", cluster: true, measure: upload },
  { name: "startup", cluster: false, measure: startup },
  { name: "cache", cluster: true, measure: cache },
];
const only = process.env.BENCH_ONLY?.split(",").map((s) => s.trim()).filter(Boolean);
const chosen = ROWS.filter((r) => !only || only.includes(r.name));
const rows: Row[] = [];
// The real control plane and kubelet of test/cluster/kube; every row talks to it as the bench identity, the one
// whose requests the API server counts (its audit log).
// The fan-out rows also need the virtual node.
const kc = chosen.some((r) => r.cluster)
  ? await startKubeCluster({
    log: (l) => process.stderr.write(`test cluster: ${l}\n`),
    virtualNode: chosen.some((r) => r.name === "fanout") ? {} : undefined,
    // The log relay's 100 MB log in one file: at the kubelet's default 10Mi the kubelet rotates it, and a
    // finished pod's log is its newest file only, 3.4 MB of it, for every reader alike (kubectl's too).
    logMaxSize: "256Mi",
  })
  : undefined;
try {
  for (const r of chosen) {
    process.stderr.write(`bench: ${r.name}\n`);
    rows.push(...(await (r.cluster ? r.measure({ ...kc!, kubeconfig: kc!.kubeconfigs.bench }) : r.measure())));
  }
} finally {
  await kc?.stop();
}

const machine = { cpus: cpus().length, cpu: cpus()[0]?.model, memoryGiB: Math.round(totalmem() / 2 ** 30), node: process.version, date: new Date().toISOString() };
mkdirSync(join(ROOT, "build"), { recursive: true });
writeFileSync(join(ROOT, "build/bench.json"), JSON.stringify({ machine, rows }, null, 2));
console.log(`machine: ${machine.cpus} x ${machine.cpu}, ${machine.memoryGiB} GiB, node ${machine.node}`);
console.log("| figure | buildpod | anchor | ratio | target | met |\n|---|---|---|---|---|---|");
for (const r of rows) console.log(`| ${r.figure} | ${r.buildpod} | ${r.anchor} | ${r.ratio} | ${r.target} | ${r.met === "n/a" ? "-" : r.met ? "yes" : "no"} |`);
