// The upload row's client, a process of its own: the bench process hosts the API server and the exec
// WebSocket bridge, and kubectl cp runs apart from it too. Two modes, each printing one JSON line:
//   build: one real build whose source is the directory as binary input; reports the library's upload event.
//   pack:  the same packing (file selection, tar, gzip, the same parts) into byte counters, no cluster: the
//          local cost alone.
// Usage: node upload-client.js '<UploadConfig as JSON>'.
import { Writable } from "node:stream";
import { pipeline } from "node:stream/promises";
import { Cluster, packParts, parseRequest, runBuild, type UploadReport } from "../core/index.js";
import { peakRssMb } from "./kit.js";

export interface UploadConfig {
  mode: "build" | "pack";
  dir: string;
  kubeconfig?: string;
  registry?: string;
  /** The source container's and buildah's image (the builder image). */
  builderImage?: string;
  /** FROM of the trivial Dockerfile. */
  baseImage?: string;
  /** Build name: the label the bench cleans up by. */
  name?: string;
  /** The number of files the build must find in its context. */
  expectFiles?: number;
}

export interface UploadClientReport {
  upload?: UploadReport;
  /** When the upload ended (ms since the epoch): with its seconds, the window it took. */
  uploadEndedAt?: number;
  status?: string;
  message?: string;
  /** pack mode: bytes out of the packer and seconds to its end. */
  packedBytes?: number;
  packSeconds?: number;
  /** RSS when the upload started, in MB: what the upload adds to it is at most peakRssMb minus this. */
  rssAtUploadStartMb?: number;
  /** CPU seconds of this process (user + system) and its peak RSS in MB. */
  cpuSeconds: number;
  peakRssMb: number;
}

async function packOnly(cfg: UploadConfig): Promise<Pick<UploadClientReport, "packedBytes" | "packSeconds">> {
  const t0 = performance.now();
  let n = 0;
  const { directories, parts } = packParts({ path: cfg.dir, format: "directory" }, ".");
  await Promise.all([...(directories ? [directories] : []), ...parts].map((p) => pipeline(p.stream, new Writable({ write: (c: Buffer, _e, cb) => ((n += c.length), cb()) }))));
  return { packedBytes: n, packSeconds: (performance.now() - t0) / 1000 };
}

async function build(cfg: UploadConfig): Promise<Pick<UploadClientReport, "upload" | "uploadEndedAt" | "status" | "message" | "rssAtUploadStartMb">> {
  const cluster = await Cluster.connect({ kubeconfig: cfg.kubeconfig });
  // The build checks that every file arrived, then does nothing more: the row times the upload alone.
  const dockerfile = `FROM ${cfg.baseImage}\nRUN --mount=type=bind,target=/ctx test "$(find /ctx -type f | wc -l)" -eq ${cfg.expectFiles}\n`;
  const req = parseRequest({
    name: cfg.name,
    source: { binary: { dir: cfg.dir }, dockerfile },
    output: { image: `${cfg.registry}/bench/upload:latest`, insecure: true },
    images: { source: cfg.builderImage, buildah: cfg.builderImage },
    startTimeout: "5m",
    uploadTimeout: "10m",
    timeout: "20m",
  });
  let upload: UploadReport | undefined;
  let uploadEndedAt: number | undefined;
  let rss: number | undefined;
  const r = await runBuild(cluster, req, {
    onUpload: (u) => {
      upload = u;
      uploadEndedAt = Date.now();
    },
    // The library says "uploading <path>" as it starts the upload.
    onProgress: (m) => (rss ??= m.startsWith("uploading /") ? Math.round(process.memoryUsage().rss / 2 ** 20) : undefined),
  });
  await cluster.deleteRun("job", r.run, req.namespace, 0).catch(() => undefined);
  return { upload, uploadEndedAt, status: r.status, message: r.message, rssAtUploadStartMb: rss };
}

const cfg = JSON.parse(process.argv[2] ?? "{}") as UploadConfig;
const out = cfg.mode === "pack" ? await packOnly(cfg) : await build(cfg);
const cpu = process.cpuUsage();
const report: UploadClientReport = { ...out, cpuSeconds: (cpu.user + cpu.system) / 1e6, peakRssMb: peakRssMb() };
process.stdout.write(JSON.stringify(report) + "\n");
