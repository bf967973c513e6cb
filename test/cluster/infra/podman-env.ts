// A project-owned podman setup: its own containers.conf, storage.conf and registries.conf under a state dir,
// so the test cluster never edits /etc and never mixes with the machine's own containers.
//
// Measured on this machine kind (DESIGN.md section 8): runc works (crun fails on the hybrid cgroups),
// cgroupfs as cgroup manager, events to a file, and default ulimits no higher than the host's hard limits
// (the host lacks CAP_SYS_RESOURCE; nproc above pid_max is refused too).
import { createHash } from "node:crypto";
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { run, type RunOptions, type RunResult } from "./proc.js";

export interface PodmanEnv {
  stateDir: string;
  /** Environment for podman, skopeo and buildah so they use the project's configuration. */
  env: NodeJS.ProcessEnv;
  graphRoot: string;
  runRoot: string;
  eventsFile: string;
  /** cgroup v1 path prefix (no leading controller) under which this node's containers live, e.g. /buildpod-1a2b3c4d. */
  cgroupRoot: string;
  cgroupV1: boolean;
  podman(args: string[], opts?: RunOptions): Promise<RunResult>;
}

/** The default capability set containerd gives a Kubernetes container (podman's own default lacks a few). */
export const KUBERNETES_DEFAULT_CAPS = [
  "CHOWN", "DAC_OVERRIDE", "FSETID", "FOWNER", "MKNOD", "NET_RAW", "SETGID", "SETUID", "SETFCAP", "SETPCAP",
  "NET_BIND_SERVICE", "SYS_CHROOT", "KILL", "AUDIT_WRITE",
];

function hostHardLimit(name: "Max open files" | "Max processes"): number {
  const line = readFileSync("/proc/self/limits", "utf8").split("\n").find((l) => l.startsWith(name));
  const hard = line?.slice(26).trim().split(/\s+/)[1];
  return hard === undefined || hard === "unlimited" ? Number.MAX_SAFE_INTEGER : Number(hard);
}

function tomlString(s: string): string {
  return JSON.stringify(s);
}

export function preparePodman(stateDir: string): PodmanEnv {
  const dir = join(stateDir, "podman");
  const key = createHash("sha256").update(stateDir).digest("hex").slice(0, 8);
  // Sockets under the run root must stay within the 108-byte unix socket path limit: keep it short, on tmpfs.
  const runRoot = `/run/buildpod-${key}`;
  const graphRoot = join(dir, "root");
  const eventsFile = join(dir, "events.log");
  for (const d of [dir, graphRoot, runRoot, join(dir, "tmp"), join(dir, "cni")]) mkdirSync(d, { recursive: true });

  let pidMax = 32768;
  try {
    pidMax = Number(readFileSync("/proc/sys/kernel/pid_max", "utf8").trim()) || pidMax;
  } catch {}
  const nofile = Math.min(1024, hostHardLimit("Max open files"));
  const nproc = Math.min(pidMax, hostHardLimit("Max processes"));

  const containersConf = [
    "[containers]",
    `default_ulimits = [${tomlString(`nofile=${nofile}:${nofile}`)}, ${tomlString(`nproc=${nproc}:${nproc}`)}]`,
    `default_capabilities = [${KUBERNETES_DEFAULT_CAPS.map((c) => tomlString(c)).join(", ")}]`,
    `log_driver = "k8s-file"`,
    // Kubernetes sets no per-container pids limit by default.
    `pids_limit = 0`,
    `netns = "host"`,
    `pidns = "private"`,
    "",
    "[engine]",
    `runtime = "runc"`,
    `cgroup_manager = "cgroupfs"`,
    `events_logger = "file"`,
    `events_logfile_path = ${tomlString(eventsFile)}`,
    `tmp_dir = ${tomlString(join(runRoot, "tmp"))}`,
    `static_dir = ${tomlString(join(graphRoot, "libpod"))}`,
    `volume_path = ${tomlString(join(graphRoot, "volumes"))}`,
    "",
    "[network]",
    `network_config_dir = ${tomlString(join(dir, "cni"))}`,
    "",
  ].join("\n");
  const storageConf = [
    "[storage]",
    `driver = "overlay"`,
    `graphroot = ${tomlString(graphRoot)}`,
    `runroot = ${tomlString(runRoot)}`,
    "",
  ].join("\n");
  // Only fully qualified names: the test cluster has no registry but its own loopback one.
  const registriesConf = "unqualified-search-registries = []\nshort-name-mode = \"disabled\"\n";
  const files: Record<string, string> = {
    "containers.conf": containersConf,
    "storage.conf": storageConf,
    "registries.conf": registriesConf,
  };
  for (const [name, text] of Object.entries(files)) {
    const p = join(dir, name);
    if (!existsSync(p) || readFileSync(p, "utf8") !== text) {
      // Parallel test workers prepare the same dir: write aside and rename, so no reader sees half a file.
      const tmp = `${p}.${process.pid}.tmp`;
      writeFileSync(tmp, text);
      renameSync(tmp, p);
    }
  }

  const env: NodeJS.ProcessEnv = {
    ...process.env,
    CONTAINERS_CONF: join(dir, "containers.conf"),
    CONTAINERS_STORAGE_CONF: join(dir, "storage.conf"),
    CONTAINERS_REGISTRIES_CONF: join(dir, "registries.conf"),
    TMPDIR: join(dir, "tmp"),
  };
  const cgroupV1 = existsSync("/sys/fs/cgroup/memory/memory.limit_in_bytes");
  return {
    stateDir,
    env,
    graphRoot,
    runRoot,
    eventsFile,
    cgroupRoot: `/buildpod-${key}`,
    cgroupV1,
    podman: (args, opts = {}) => run("podman", args, { ...opts, env: { ...env, ...opts.env } }),
  };
}
