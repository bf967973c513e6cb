// Benchmark row: upload: 200 MB, 20,000 files vs kubectl cp.
// buildpod: a real build whose source is the directory as binary input, run by bench/upload-client.ts in a
// process of its own; its figure is the library's upload event (first byte packed to the upload marked done
// in the pod). Anchor: `kubectl cp` of the same directory into a running pod with the same image, user and
// emptyDir as the build's source container. Both go through the test cluster's real API server and kubelet
// to containerd's exec. Runs alternate, so drift hits both alike.
import { tmpdir } from "node:os";
import { join } from "node:path";
import { stringify } from "yaml";
import type { KubeCluster as TestCluster } from "../test/cluster/kube/index.js";
import { kubectl as kubectlIn, median, ratio, ROOT, run, RUNS, type Row } from "./kit.js";
import type { UploadClientReport, UploadConfig } from "./upload-client.js";
import { ensureTree } from "./upload-tree.js";

const FIGURE = "upload: 200 MB, 20,000 files vs kubectl cp";
const TARGET = ">= 2x kubectl cp";
const POD = "bench-upload-cp";
const NAME = "bench-upload";

async function client(cfg: UploadConfig): Promise<UploadClientReport> {
  const r = await run(process.execPath, [join(ROOT, "build/bench/upload-client.js"), JSON.stringify(cfg)]);
  if (r.code !== 0) throw new Error(`upload client exited ${r.code}: ${r.stderr.trim().split("\n").slice(-3).join(" ")}`);
  return JSON.parse(r.stdout) as UploadClientReport;
}

/** A pod to copy into: the builder image, user 1000 and an emptyDir at /workspace, as the source container. */
function anchorPod(image: string): string {
  return stringify({
    apiVersion: "v1", kind: "Pod",
    metadata: { name: POD, namespace: "default", labels: { "buildpod.dev/bench": "upload" } },
    spec: {
      restartPolicy: "Never",
      securityContext: { fsGroup: 1000 },
      containers: [{
        name: "recv", image, command: ["sleep", "3600"],
        securityContext: { runAsUser: 1000, runAsGroup: 1000, runAsNonRoot: true, allowPrivilegeEscalation: false, capabilities: { drop: ["ALL"] } },
        volumeMounts: [{ name: "workspace", mountPath: "/workspace" }],
      }],
      volumes: [{ name: "workspace", emptyDir: {} }],
    },
  });
}

const mbps = (bytes: number, s: number) => bytes / 1e6 / s;
const fmt = (x: number) => `${x.toFixed(1)} MB/s`;

async function measure(tc: TestCluster): Promise<Row> {
  const tree = ensureTree(join(tmpdir(), "buildpod-bench-upload"));
  const kubectl = (args: string[], input?: string) => kubectlIn(tc.kubeconfig, args, { input });
  const must = async (what: string, p: ReturnType<typeof kubectl>) => {
    const r = await p;
    if (r.code !== 0) throw new Error(`${what}: ${r.stderr.trim().split("\n").pop()}`);
    return r;
  };

  // Local references, no cluster: reading the tree as a plain tar, and buildpod's packing alone.
  const tar = await run("sh", ["-c", 'tar -cf - -C "$1" . | wc -c', "sh", tree.path]);
  const packOnly = await client({ mode: "pack", dir: tree.path });

  await kubectl(["delete", "pod", POD, "--ignore-not-found", "--grace-period=0"]);
  await must("creating the kubectl cp pod", kubectl(["apply", "-f", "-"], anchorPod(tc.infra.images.builder)));
  const ours: number[] = [];
  const theirs: number[] = [];
  const reports: UploadClientReport[] = [];
  const kubectlCopied: number[] = [];
  const inPod: number[] = [];
  try {
    await must("waiting for the kubectl cp pod", kubectl(["wait", "--for=condition=Ready", `pod/${POD}`, "--timeout=180s"]));
    for (let i = 0; i < RUNS; i++) {
      // Untimed: the previous run's writes and deletions go to disk now, not during the next upload.
      await run("sync", []);
      const rep = await client({
        mode: "build", dir: tree.path, kubeconfig: tc.kubeconfig, registry: tc.registry, name: NAME,
        builderImage: tc.infra.images.builder, baseImage: tc.infra.images.busybox, expectFiles: tree.files,
      });
      if (rep.status !== "Complete" || !rep.upload) throw new Error(`the build ended ${rep.status}: ${rep.message}`);
      reports.push(rep);
      ours.push(rep.upload.seconds);

      const dest = `/workspace/cp-${i}`;
      await run("sync", []);
      const cp = await must("kubectl cp", kubectl(["cp", tree.path, `default/${POD}:${dest}`, "-c", "recv"]));
      theirs.push(cp.seconds);
      // Checked, untimed: every file arrived; then the copy goes, so that each run writes into the same state.
      const count = await must("counting the copy", kubectl(["exec", POD, "-c", "recv", "--", "sh", "-c", `find ${dest} -type f | wc -l`]));
      kubectlCopied.push(Number(count.stdout.trim()));
      await must("removing the copy", kubectl(["exec", POD, "-c", "recv", "--", "rm", "-rf", dest]));
    }
    // Where both are bound: the same tree unpacked inside the pod from a file already there, no network
    // (nanoseconds from the pod's own clock).
    const tarFile = join(tmpdir(), "buildpod-bench-upload.tar");
    await run("tar", ["-cf", tarFile, "-C", tree.path, "."]);
    await must("copying the tree's tar into the pod", kubectl(["cp", tarFile, `default/${POD}:/workspace/tree.tar`, "-c", "recv"]));
    for (let i = 0; i < RUNS; i++) {
      await run("sync", []);
      const script = 'mkdir /workspace/u && s=$(date +%s%N) && tar -xf /workspace/tree.tar -C /workspace/u && e=$(date +%s%N) && rm -rf /workspace/u && echo $((e - s))';
      const r = await must("unpacking in the pod", kubectl(["exec", POD, "-c", "recv", "--", "sh", "-c", script]));
      inPod.push(Number(r.stdout.trim()) / 1e9);
    }
  } finally {
    await kubectl(["delete", "pod", POD, "--ignore-not-found", "--grace-period=0"]);
  }
  if (kubectlCopied.some((n) => n !== tree.files)) throw new Error(`kubectl cp copied ${kubectlCopied.join(", ")} files, not ${tree.files}`);

  const a = mbps(tree.bytes, median(ours));
  const k = mbps(tree.bytes, median(theirs));
  const last = reports[reports.length - 1].upload!;
  return {
    figure: `${FIGURE} (median of ${RUNS})`,
    buildpod: `${fmt(a)} (${median(ours).toFixed(2)} s)`,
    anchor: `kubectl cp: ${fmt(k)} (${median(theirs).toFixed(2)} s); the pod alone unpacking the tree from a file: ${median(inPod).toFixed(2)} s`,
    ratio: ratio(a, k),
    target: TARGET,
    met: a >= 2 * k,
    raw: {
      tree: { path: tree.path, description: tree.description, generatedSeconds: tree.generatedSeconds },
      cluster: "the test cluster's real API server and kubelet (exec over WebSocket to containerd); GNU tar receiving in both",
      buildpodProcess: "a child process (bench/upload-client.js) running a real buildah build from the directory; the build checks every file arrived",
      buildpodSeconds: ours,
      kubectlCpSeconds: theirs,
      buildpodMBps: ours.map((s) => mbps(tree.bytes, s)),
      kubectlCpMBps: theirs.map((s) => mbps(tree.bytes, s)),
      buildpodSentMB: last.sentBytes / 1e6,
      buildpodParts: last.parts,
      buildpodClientCpuSeconds: reports.map((r) => r.cpuSeconds),
      buildpodClientPeakRssMb: reports.map((r) => r.peakRssMb),
      buildpodClientRssAtUploadStartMb: reports.map((r) => r.rssAtUploadStartMb),
      kubectlCpFilesArrived: kubectlCopied,
      inPodUnpackFromFileSeconds: inPod,
      localTarToPipe: { seconds: tar.seconds, MBps: mbps(tree.bytes, tar.seconds), tarBytes: Number(tar.stdout.trim()) },
      localBuildpodPackOnly: { seconds: packOnly.packSeconds, MBps: mbps(tree.bytes, packOnly.packSeconds!), packedBytes: packOnly.packedBytes, cpuSeconds: packOnly.cpuSeconds },
    },
  };
}

export async function upload(tc: TestCluster): Promise<Row[]> {
  try {
    return [await measure(tc)];
  } catch (err) {
    return [{ figure: FIGURE, buildpod: `could not measure: ${(err as Error).message}`, anchor: "-", ratio: "-", target: TARGET, met: "n/a" }];
  }
}
