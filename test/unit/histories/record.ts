// Records what a real cluster says of one build, for the follower's replay tests: the build's pod and Job
// as their watches deliver them, in arrival order, with the Job's events at the end. Run against a test
// cluster (npm run cluster:up) while a build named NAME runs:
//
//   KUBECONFIG=... node build/test/unit/histories/record.js NAME OUT.json   # stops when the Job is done
//
// Kept of each object: what the follower reads (the pod's containers and their resources, its node, its
// status; the Job's deadline and status; names and deletion times).
import { spawn } from "node:child_process";
import { writeFileSync } from "node:fs";

const [name, out] = process.argv.slice(2);
if (!name || !out) {
  console.error("usage: record.js BUILD-NAME OUT.json");
  process.exit(2);
}
const kubectl = process.env.BUILDPOD_KUBECTL ?? "kubectl";
const history: { kind: "pod" | "job"; type: string; object: Record<string, unknown> }[] = [];

function watch(kind: "pod" | "job"): () => void {
  const child = spawn(kubectl, ["get", kind === "pod" ? "pods" : "jobs", "-l", `buildpod.dev/build=${name}`, "-w", "-o", "json", "--output-watch-events"]);
  let buf = "";
  child.stdout.on("data", (d: Buffer) => {
    buf += d.toString();
    // kubectl prints each watch event as one line of JSON.
    for (let end = buf.indexOf("\n"); end >= 0; end = buf.indexOf("\n")) {
      const e = JSON.parse(buf.slice(0, end)) as { type: string; object: { metadata: Record<string, unknown>; status?: { conditions?: { type: string; status: string }[] } } };
      buf = buf.slice(end + 1);
      history.push({ kind, type: e.type, object: slim(e.object as Record<string, any>) });
      const finished = kind === "job" && e.object.status?.conditions?.some((c) => (c.type === "Complete" || c.type === "Failed") && c.status === "True");
      if (finished) setTimeout(stop, 3000); // the pod's last changes come after the Job's
    }
  });
  return () => child.kill();
}

export function slim(o: Record<string, any>): Record<string, unknown> {
  const { name, namespace, labels, deletionTimestamp, creationTimestamp } = o.metadata ?? {};
  const metadata = { name, namespace, labels, creationTimestamp, deletionTimestamp };
  if (o.kind === "Job") return { kind: "Job", metadata, spec: { activeDeadlineSeconds: o.spec?.activeDeadlineSeconds, backoffLimit: o.spec?.backoffLimit }, status: o.status };
  const containers = (list?: { name: string; image: string; resources?: unknown }[]) => list?.map((c) => ({ name: c.name, image: c.image, resources: c.resources }));
  return { kind: "Pod", metadata, spec: { nodeName: o.spec?.nodeName, initContainers: containers(o.spec?.initContainers), containers: containers(o.spec?.containers) }, status: o.status };
}

const stops = [watch("pod"), watch("job")];
function stop(): void {
  for (const s of stops) s();
  writeFileSync(out!, `[\n${history.map((h) => JSON.stringify(h)).join(",\n")}\n]\n`);
  console.log(`${history.length} snapshots in ${out}`);
  process.exit(0);
}
