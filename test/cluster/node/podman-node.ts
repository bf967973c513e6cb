// The test cluster's node: runs each Kubernetes pod as real podman containers, driven container by container
// (not `podman kube play`, which removes finished init containers and their logs).
//
// Networking: every container runs on the host network, whether or not the pod asks for hostNetwork. The test
// cluster has one node and its services (registry, git daemon, API server) listen on loopback, so this is what
// gives pods the reach a real cluster's pod network would. podIP and hostIP are therefore the node's IP.
//
// Memory limits (cgroup v1 here): podman's State.OOMKilled stays false when a container is killed over its
// limit, so each container runs under a parent memory cgroup the node creates and owns; the limit is set there,
// and after the container ends its failcnt/oom_control still tell whether the kernel killed it for memory.
import { spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import {
  constants as fsConstants, chmodSync, closeSync, existsSync, mkdirSync, openSync, readdirSync, readFileSync, readSync, rmdirSync, rmSync,
  statSync, writeFileSync,
} from "node:fs";
import { cpus, totalmem } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import type {
  V1Container, V1ContainerState, V1ContainerStatus, V1Pod, V1PodCondition, V1PodStatus,
} from "@kubernetes/client-node";
import { preparePodman, type PodmanEnv } from "../infra/podman-env.js";
import { sleep, type RunResult } from "../infra/proc.js";
import { ConfigError, expand, resolveEnv, type PodRuntimeFacts } from "./env.js";
import { parseCpuMilli, parseMemory } from "./quantity.js";
import type { ExecStreams, NodeEvent, NodeInfo, NodeRuntime, RunningPod, VolumeSources } from "./runtime.js";
import { MountError, setUpVolume, type HostVolume } from "./volumes.js";

export interface PodmanNodeOptions {
  /** Where pod directories, logs and podman's storage live. Default: the repository's .cluster directory. */
  stateDir?: string;
  /** A prepared podman setup (shared with the image assembly); default preparePodman(stateDir). */
  podman?: PodmanEnv;
  name?: string;
  labels?: Record<string, string>;
  /** Override what the node offers the scheduler (e.g. small, to make a pod unschedulable). */
  allocatable?: Partial<NodeInfo["allocatable"]>;
  /** Back-off between image pull (and container config) retries: kubelet uses 10 s doubling up to 300 s. */
  backoff?: { initialMs: number; maxMs: number };
  /** IP reported as hostIP and podIP. Default 127.0.0.1. */
  nodeIP?: string;
  /** Environment given to every container before its own (e.g. KUBERNETES_SERVICE_HOST/PORT). */
  extraEnv?: Record<string, string>;
  /** Registries pulled from without TLS; default: any registry on 127.0.0.1, localhost or [::1]. */
  insecureRegistries?: string[];
  /**
   * Enforce spec.activeDeadlineSeconds on the node, as kubelet does (Warning DeadlineExceeded, containers
   * stopped, phase Failed with reason DeadlineExceeded). Off by default: the emulated API server enforces pod
   * deadlines itself and calls kill(grace, "DeadlineExceeded").
   */
  enforceActiveDeadline?: boolean;
}

/** BUILDPOD_CLUSTER_STATE, else .cluster (gitignored) in the repository holding this file (source or build/). */
export function defaultStateDir(): string {
  if (process.env.BUILDPOD_CLUSTER_STATE) return process.env.BUILDPOD_CLUSTER_STATE;
  let dir = dirname(fileURLToPath(import.meta.url));
  while (!existsSync(join(dir, "package.json")) && dirname(dir) !== dir) dir = dirname(dir);
  return join(dir, ".cluster");
}

/** The machine's cpu and memory, as a node would report allocatable. */
export function machineAllocatable(): NodeInfo["allocatable"] {
  return { cpuMilli: cpus().length * 1000, memoryBytes: totalmem() };
}

const TERMINATION_MESSAGE_MAX = 4096;
const FALLBACK_LINES = 80;
const FALLBACK_BYTES = 2048;

// docker/distribution reference grammar, enough to tell InvalidImageName.
const COMPONENT = "[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*";
const DOMAIN = "(?:[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?(?:\\.[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?)*|\\[[0-9a-fA-F:]+\\])(?::[0-9]+)?";
const REFERENCE = new RegExp(`^(?:${DOMAIN}/)?${COMPONENT}(?:/${COMPONENT})*(?::[\\w][\\w.-]{0,127})?(?:@sha256:[a-f0-9]{64})?$`);

/** Normalise an image name as the container runtime would (docker.io/library/..., :latest). */
export function normalizeImage(image: string): string | undefined {
  if (!REFERENCE.test(image)) return undefined;
  const slash = image.indexOf("/");
  const first = slash < 0 ? "" : image.slice(0, slash);
  let ref = image;
  if (!(first.includes(".") || first.includes(":") || first === "localhost" || first.startsWith("[") ||
    first !== first.toLowerCase())) {
    ref = slash < 0 ? `docker.io/library/${image}` : `docker.io/${image}`;
  }
  const lastSlash = ref.lastIndexOf("/");
  const tail = ref.slice(lastSlash + 1);
  if (!tail.includes(":") && !tail.includes("@")) ref += ":latest";
  return ref;
}

function registryHost(ref: string): string {
  return ref.slice(0, ref.indexOf("/"));
}

type Phase = "Pending" | "Running" | "Succeeded" | "Failed";

interface ContainerRun {
  spec: V1Container;
  init: boolean;
  fieldPath: string;
  podmanName: string;
  image: string; // normalised
  status: V1ContainerStatus;
  logPath: string;
  termPath: string;
  created: boolean;
  running: boolean;
  done: boolean;
  memoryCgroup?: string;
  memoryLimit?: number;
}

class Aborted extends Error {}

export class PodmanNode implements NodeRuntime {
  readonly pm: PodmanEnv;
  readonly stateDir: string;
  /** Distinguishes this node's containers and files from another node sharing the state dir. */
  readonly instance = randomBytes(3).toString("hex");
  readonly dir: string;
  private readonly nodeInfo: NodeInfo;
  private readonly pods = new Set<PodRun>();
  private leftoversCleaned?: Promise<void>;

  constructor(readonly options: PodmanNodeOptions = {}) {
    this.stateDir = options.stateDir ?? defaultStateDir();
    this.pm = options.podman ?? preparePodman(this.stateDir);
    this.dir = join(this.stateDir, "node", this.instance);
    mkdirSync(this.dir, { recursive: true });
    writeFileSync(join(this.dir, "owner.pid"), String(process.pid));
    const machine = machineAllocatable();
    this.nodeInfo = {
      name: options.name ?? "buildpod-node",
      labels: {
        "kubernetes.io/hostname": options.name ?? "buildpod-node",
        "kubernetes.io/os": "linux",
        "kubernetes.io/arch": process.arch === "x64" ? "amd64" : process.arch,
        ...options.labels,
      },
      allocatable: { ...machine, ...options.allocatable },
    };
  }

  info(): NodeInfo {
    return structuredClone(this.nodeInfo);
  }

  get nodeIP(): string {
    return this.options.nodeIP ?? "127.0.0.1";
  }

  get backoff(): { initialMs: number; maxMs: number } {
    return this.options.backoff ?? { initialMs: 10_000, maxMs: 300_000 };
  }

  get cgroupBase(): string {
    return `${this.pm.cgroupRoot}/${this.instance}`;
  }

  isInsecure(ref: string): boolean {
    const host = registryHost(ref);
    if (this.options.insecureRegistries) return this.options.insecureRegistries.includes(host);
    return /^(127\.0\.0\.1|localhost|\[::1\])(:\d+)?$/.test(host);
  }

  podman(args: string[], opts?: Parameters<PodmanEnv["podman"]>[1]): Promise<RunResult> {
    return this.pm.podman(args, opts);
  }

  runPod(
    pod: V1Pod,
    sources: VolumeSources,
    onStatus: (status: V1PodStatus) => void,
    onEvent: (event: NodeEvent) => void,
  ): RunningPod {
    this.leftoversCleaned ??= this.cleanLeftovers().catch(() => {});
    const run = new PodRun(this, structuredClone(pod), sources, onStatus, onEvent);
    this.pods.add(run);
    void this.leftoversCleaned.then(() => run.start());
    return run;
  }

  /** @internal */
  forget(run: PodRun): void {
    this.pods.delete(run);
  }

  async shutdown(): Promise<void> {
    await Promise.all([...this.pods].map((p) => p.kill(0, undefined).catch(() => {})));
    const ids = (await this.podman(["ps", "-a", "-q", "--filter", `label=buildpod.node=${this.instance}`], { check: false }))
      .stdout.split("\n").filter(Boolean);
    if (ids.length) await this.podman(["rm", "-f", "-t", "0", ...ids], { check: false });
    removeCgroupTree(this.cgroupBase);
    rmSync(this.dir, { recursive: true, force: true });
  }

  /** Remove containers, cgroups and directories left by nodes whose process is gone (a crashed test run). */
  private async cleanLeftovers(): Promise<void> {
    const out = await this.podman(["ps", "-a", "--format", "{{.ID}} {{.Labels}}", "--filter",
      `label=buildpod.state=${this.pm.cgroupRoot}`], { check: false });
    const dead: string[] = [];
    for (const line of out.stdout.split("\n").filter(Boolean)) {
      const id = line.split(" ")[0]!;
      const pid = /buildpod\.owner-pid:(\d+)/.exec(line)?.[1];
      if (pid && !pidAlive(Number(pid))) dead.push(id);
    }
    if (dead.length) await this.podman(["rm", "-f", "-t", "0", ...dead], { check: false });
    const nodesDir = join(this.stateDir, "node");
    for (const inst of safeReaddir(nodesDir)) {
      if (inst === this.instance) continue;
      let pid = NaN;
      try {
        pid = Number(readFileSync(join(nodesDir, inst, "owner.pid"), "utf8"));
      } catch {}
      if (!pidAlive(pid)) {
        rmSync(join(nodesDir, inst), { recursive: true, force: true });
        removeCgroupTree(`${this.pm.cgroupRoot}/${inst}`);
      }
    }
  }
}

function pidAlive(pid: number): boolean {
  if (!Number.isFinite(pid) || pid <= 0) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === "EPERM";
  }
}

function safeReaddir(dir: string): string[] {
  try {
    return readdirSync(dir);
  } catch {
    return [];
  }
}

/** rmdir a cgroup subtree in every v1 controller (cgroup directories go bottom-up and only when empty). */
function removeCgroupTree(rel: string): void {
  for (const ctrl of safeReaddir("/sys/fs/cgroup")) {
    const top = join("/sys/fs/cgroup", ctrl, rel);
    const walk = (dir: string) => {
      for (const e of safeReaddir(dir)) {
        const p = join(dir, e);
        try {
          if (statSync(p).isDirectory()) walk(p);
        } catch {}
      }
      try {
        rmdirSync(dir);
      } catch {}
    };
    if (existsSync(top)) walk(top);
  }
}

function readCgroupNumber(dir: string, file: string): number | undefined {
  try {
    return Number(readFileSync(join(dir, file), "utf8").trim());
  } catch {
    return undefined;
  }
}

/**
 * How many OOM kills the kernel log reports for the memory cgroup `memcg` (a v1 path such as
 * /buildpod-x/inst/uid/container); undefined when /dev/kmsg cannot be read.
 */
export function kernelOomKills(memcg: string): number | undefined {
  let fd: number;
  try {
    fd = openSync("/dev/kmsg", fsConstants.O_RDONLY | fsConstants.O_NONBLOCK);
  } catch {
    return undefined;
  }
  const buf = Buffer.alloc(16 * 1024);
  const needle = `oom_memcg=${memcg},`;
  let kills = 0;
  try {
    for (;;) {
      let n: number;
      try {
        n = readSync(fd, buf, 0, buf.length, null);
      } catch (e) {
        const code = (e as NodeJS.ErrnoException).code;
        if (code === "EPIPE") continue; // records overwritten while reading: go on with the next
        if (code === "EAGAIN") break; // read everything there is
        return undefined;
      }
      if (n <= 0) break;
      const rec = buf.toString("utf8", 0, n);
      if (rec.includes("oom-kill:") && rec.includes(needle)) kills++;
    }
  } finally {
    closeSync(fd);
  }
  return kills;
}

function readOomKills(dir: string): number {
  try {
    const m = /oom_kill (\d+)/.exec(readFileSync(join(dir, "memory.oom_control"), "utf8"));
    return m ? Number(m[1]) : 0;
  } catch {
    return 0;
  }
}

/** The last lines of a CRI log file, partial lines joined, as kubelet's FallbackToLogsOnError reads them. */
export function logTail(path: string, maxLines = FALLBACK_LINES, maxBytes = FALLBACK_BYTES): string {
  let text: string;
  try {
    const fd = openSync(path, "r");
    try {
      const size = statSync(path).size;
      const want = Math.min(size, 256 * 1024);
      const buf = Buffer.alloc(want);
      readSync(fd, buf, 0, want, size - want);
      text = buf.toString("utf8");
    } finally {
      closeSync(fd);
    }
  } catch {
    return "";
  }
  const lines: string[] = [];
  let partial = "";
  for (const raw of text.split("\n")) {
    const m = /^(\S+) (stdout|stderr) ([PF]) ?(.*)$/.exec(raw);
    if (!m) continue;
    if (m[3] === "P") partial += m[4];
    else {
      lines.push(partial + m[4]);
      partial = "";
    }
  }
  if (partial) lines.push(partial);
  let out = lines.slice(-maxLines).join("\n");
  if (lines.length) out += "\n";
  const bytes = Buffer.from(out);
  return bytes.length > maxBytes ? bytes.subarray(bytes.length - maxBytes).toString("utf8") : out;
}

interface ConditionState {
  status: "True" | "False";
  reason?: string;
  message?: string;
  at: Date;
}

const now = () => new Date();

class PodRun implements RunningPod {
  readonly ns: string;
  readonly name: string;
  readonly uid: string;
  readonly key: string;
  readonly podDir: string;
  readonly logDir: string;
  readonly containers: ContainerRun[] = [];
  private readonly abort = new AbortController();
  private killing = false;
  private closed = false;
  private terminalPhase?: Phase;
  private podReason?: string;
  private podMessage?: string;
  private startTime?: Date;
  private readonly conditions = new Map<string, ConditionState>();
  private volumes = new Map<string, HostVolume>();
  private initDone = false;
  private flow?: Promise<void>;
  private resolveFinished!: () => void;
  /** Settles when the pod reached a terminal phase or was killed. */
  readonly finished = new Promise<void>((r) => (this.resolveFinished = r));
  private deadlineTimer?: NodeJS.Timeout;

  constructor(
    readonly node: PodmanNode,
    readonly pod: V1Pod,
    readonly sources: VolumeSources,
    private readonly onStatus: (status: V1PodStatus) => void,
    private readonly onEvent: (event: NodeEvent) => void,
  ) {
    this.ns = pod.metadata?.namespace ?? "default";
    this.name = pod.metadata?.name ?? "pod";
    this.uid = pod.metadata?.uid ?? randomBytes(8).toString("hex");
    this.key = `${this.ns}_${this.name}_${this.uid}`;
    this.podDir = join(node.dir, "pods", this.key);
    this.logDir = join(node.dir, "logs", this.key);
    const spec = pod.spec ?? { containers: [] };
    const add = (c: V1Container, init: boolean) => {
      const image = normalizeImage(c.image ?? "");
      this.containers.push({
        spec: c,
        init,
        fieldPath: `spec.${init ? "initContainers" : "containers"}{${c.name}}`,
        podmanName: `k8s_${c.name}_${this.name}_${this.ns}_${this.uid.slice(0, 8)}_${node.instance}`,
        image: image ?? c.image ?? "",
        logPath: join(this.logDir, c.name, "0.log"),
        termPath: join(this.podDir, "containers", c.name, "termination-log"),
        created: false,
        running: false,
        done: false,
        status: {
          name: c.name,
          image: image ?? c.image ?? "",
          imageID: "",
          ready: false,
          restartCount: 0,
          started: false,
          state: { waiting: { reason: init || (spec.initContainers?.length ?? 0) > 0 ? "PodInitializing" : "ContainerCreating" } },
        },
      });
    };
    for (const c of spec.initContainers ?? []) add(c, true);
    for (const c of spec.containers ?? []) add(c, false);
    const t = now();
    this.setCondition("PodScheduled", "True", t);
    this.setCondition("PodReadyToStartContainers", "False", t);
    this.updateReadinessConditions(t);
  }

  private get facts(): PodRuntimeFacts {
    return { nodeName: this.node.info().name, podIP: this.node.nodeIP, hostIP: this.node.nodeIP };
  }

  private get inits(): ContainerRun[] {
    return this.containers.filter((c) => c.init);
  }

  private get mains(): ContainerRun[] {
    return this.containers.filter((c) => !c.init);
  }

  private event(type: NodeEvent["type"], reason: string, message: string, c?: ContainerRun) {
    if (this.closed) return;
    try {
      this.onEvent({ type, reason, message, ...(c ? { fieldPath: c.fieldPath } : {}) });
    } catch {}
  }

  private setCondition(type: string, status: "True" | "False", at: Date, reason?: string, message?: string) {
    const prev = this.conditions.get(type);
    if (prev && prev.status === status && prev.reason === reason && prev.message === message) return;
    this.conditions.set(type, { status, reason, message, at: prev && prev.status === status ? prev.at : at });
  }

  private updateReadinessConditions(at = now()) {
    const terminal = this.terminalPhase !== undefined;
    const inits = this.inits;
    const incomplete = inits.filter((c) => c.status.state?.terminated?.exitCode !== 0).map((c) => c.spec.name);
    if (incomplete.length === 0) this.setCondition("Initialized", "True", at);
    else {
      this.setCondition("Initialized", "False", at, "ContainersNotInitialized",
        `containers with incomplete status: [${incomplete.join(" ")}]`);
    }
    const unready = this.mains.filter((c) => !c.status.ready).map((c) => c.spec.name);
    for (const type of ["ContainersReady", "Ready"]) {
      if (unready.length === 0 && !terminal) this.setCondition(type, "True", at);
      else if (terminal) this.setCondition(type, "False", at, "PodCompleted");
      else {
        this.setCondition(type, "False", at, "ContainersNotReady", `containers with unready status: [${unready.join(" ")}]`);
      }
    }
  }

  private phase(): Phase {
    if (this.terminalPhase) return this.terminalPhase;
    const mains = this.mains;
    if (!this.initDone) return "Pending";
    if (mains.length > 0 && mains.every((c) => c.status.state?.terminated)) {
      return mains.every((c) => c.status.state?.terminated?.exitCode === 0) ? "Succeeded" : "Failed";
    }
    if (mains.some((c) => c.status.state?.running || c.status.state?.terminated)) return "Running";
    return "Pending";
  }

  private qosClass(): string {
    const all = [...(this.pod.spec?.containers ?? []), ...(this.pod.spec?.initContainers ?? [])];
    let any = false;
    let guaranteed = true;
    for (const c of all) {
      const l = c.resources?.limits ?? {};
      const r = c.resources?.requests ?? {};
      if (Object.keys(l).length || Object.keys(r).length) any = true;
      for (const res of ["cpu", "memory"]) {
        if (l[res] === undefined) guaranteed = false;
        else if (r[res] !== undefined && String(r[res]) !== String(l[res])) guaranteed = false;
      }
    }
    if (!any) return "BestEffort";
    return guaranteed ? "Guaranteed" : "Burstable";
  }

  /** The whole status, as kubelet would post it. */
  status(): V1PodStatus {
    const phase = this.phase();
    if ((phase === "Succeeded" || phase === "Failed") && !this.terminalPhase) {
      this.terminalPhase = phase;
      this.setCondition("PodReadyToStartContainers", "False", now());
      this.updateReadinessConditions();
    }
    const order = ["PodReadyToStartContainers", "Initialized", "Ready", "ContainersReady", "PodScheduled"];
    const conditions: V1PodCondition[] = order.map((type) => {
      const c = this.conditions.get(type)!;
      return {
        type,
        status: c.status,
        lastProbeTime: undefined,
        lastTransitionTime: c.at,
        ...(c.reason ? { reason: c.reason } : {}),
        ...(c.message ? { message: c.message } : {}),
      };
    });
    const ip = this.node.nodeIP;
    const st: V1PodStatus = {
      phase,
      conditions,
      hostIP: ip,
      hostIPs: [{ ip }],
      podIP: ip,
      podIPs: [{ ip }],
      qosClass: this.qosClass(),
      ...(this.startTime ? { startTime: this.startTime } : {}),
      ...(this.podReason ? { reason: this.podReason } : {}),
      ...(this.podMessage ? { message: this.podMessage } : {}),
      containerStatuses: this.mains.map((c) => structuredClone(c.status)),
    };
    if (this.inits.length) st.initContainerStatuses = this.inits.map((c) => structuredClone(c.status));
    return st;
  }

  private lastEmitted = "";

  private emit() {
    if (this.closed) return;
    this.updateReadinessConditions();
    const st = this.status();
    const json = JSON.stringify(st);
    if (json !== this.lastEmitted) {
      this.lastEmitted = json;
      try {
        this.onStatus(st);
      } catch {}
    }
    if (this.terminalPhase) this.resolveFinished();
  }

  private setState(c: ContainerRun, state: V1ContainerState) {
    c.status.state = state;
    this.emit();
  }

  private check() {
    if (this.abort.signal.aborted) throw new Aborted();
  }

  private delay(attempt: number): number {
    const { initialMs, maxMs } = this.node.backoff;
    return Math.min(maxMs, initialMs * 2 ** attempt);
  }

  start(): void {
    if (this.abort.signal.aborted) return;
    this.flow = this.run().catch((e) => {
      if (e instanceof Aborted) return;
      // Unexpected node failure: report it on the pod rather than losing it.
      this.podReason = "NodeError";
      this.podMessage = String((e as Error)?.message ?? e).slice(0, 4096);
      this.terminalPhase = "Failed";
      this.event("Warning", "Failed", this.podMessage);
      this.emit();
    });
  }

  private async run(): Promise<void> {
    this.startTime = now();
    mkdirSync(this.podDir, { recursive: true });
    mkdirSync(this.logDir, { recursive: true });
    this.emit();
    const deadline = this.pod.spec?.activeDeadlineSeconds;
    if (this.node.options.enforceActiveDeadline && deadline !== undefined && deadline !== null) {
      this.deadlineTimer = setTimeout(() => void this.deadlineExceeded(), deadline * 1000);
    }
    await this.setUpVolumes();
    this.setCondition("PodReadyToStartContainers", "True", now());
    this.emit();

    for (const c of this.inits) {
      this.check();
      await this.prepareAndStart(c);
      const code = await this.waitFor(c);
      if (code !== 0) {
        this.terminalPhase = "Failed";
        this.setCondition("PodReadyToStartContainers", "False", now());
        this.emit();
        return;
      }
      c.status.ready = true;
      this.emit();
    }
    this.initDone = true;
    for (const c of this.mains) c.status.state = { waiting: { reason: "ContainerCreating" } };
    this.emit();
    const waits: Promise<number>[] = [];
    for (const c of this.mains) {
      this.check();
      await this.prepareAndStart(c);
      waits.push(this.waitFor(c));
    }
    await Promise.all(waits);
    this.emit();
  }

  private async setUpVolumes(): Promise<void> {
    const ctx = {
      pod: this.pod, podDir: this.podDir, claimsDir: join(this.node.stateDir, "claims"), sources: this.sources,
      ...this.facts,
    };
    for (let attempt = 0; ; attempt++) {
      this.check();
      try {
        const vols = new Map<string, HostVolume>();
        for (const v of this.pod.spec?.volumes ?? []) vols.set(v.name, setUpVolume(ctx, v));
        this.volumes = vols;
        return;
      } catch (e) {
        if (!(e instanceof MountError)) throw e;
        this.event("Warning", "FailedMount", `MountVolume.SetUp failed: ${e.message}`);
        await sleep(Math.min(this.delay(attempt), 10_000), this.abort.signal);
      }
    }
  }

  private pullPolicy(c: ContainerRun): string {
    if (c.spec.imagePullPolicy) return c.spec.imagePullPolicy;
    return c.image.endsWith(":latest") && !c.image.includes("@") ? "Always" : "IfNotPresent";
  }

  private async imagePresent(ref: string): Promise<boolean> {
    return (await this.node.podman(["image", "exists", ref], { check: false })).code === 0;
  }

  private authFile(): string | undefined {
    const secrets = this.pod.spec?.imagePullSecrets ?? [];
    const auths: Record<string, unknown> = {};
    for (const s of secrets) {
      const data = this.sources.secret(this.ns, s.name ?? "");
      const raw = data?.[".dockerconfigjson"] ?? data?.[".dockercfg"];
      if (!raw) continue;
      try {
        const j = JSON.parse(raw.toString("utf8"));
        Object.assign(auths, j.auths ?? j);
      } catch {}
    }
    if (!Object.keys(auths).length) return undefined;
    const p = join(this.podDir, "auth.json");
    writeFileSync(p, JSON.stringify({ auths }), { mode: 0o600 });
    return p;
  }

  private async ensureImage(c: ContainerRun): Promise<void> {
    const shown = c.spec.image ?? "";
    if (!normalizeImage(shown)) {
      const msg = `Failed to apply default image tag ${JSON.stringify(shown)}: couldn't parse image name ${JSON.stringify(shown)}: invalid reference format`;
      this.event("Warning", "InspectFailed", msg, c);
      this.event("Warning", "Failed", "Error: InvalidImageName", c);
      this.setState(c, { waiting: { reason: "InvalidImageName", message: msg } });
      // kubelet never retries an unparsable name; the pod waits until deleted.
      await new Promise<void>((resolve) => this.abort.signal.addEventListener("abort", () => resolve(), { once: true }));
      this.check();
    }
    const policy = this.pullPolicy(c);
    if (policy !== "Always" && (await this.imagePresent(c.image))) {
      this.event("Normal", "Pulled", `Container image ${JSON.stringify(shown)} already present on machine`, c);
      return;
    }
    if (policy === "Never") {
      const msg = `Container image ${JSON.stringify(shown)} is not present with pull policy of Never`;
      this.event("Warning", "ErrImageNeverPull", msg, c);
      this.setState(c, { waiting: { reason: "ErrImageNeverPull", message: msg } });
      await new Promise<void>((resolve) => this.abort.signal.addEventListener("abort", () => resolve(), { once: true }));
      this.check();
    }
    for (let attempt = 0; ; attempt++) {
      this.check();
      this.event("Normal", "Pulling", `Pulling image ${JSON.stringify(shown)}`, c);
      const started = Date.now();
      const args = ["pull", "--quiet"];
      if (this.node.isInsecure(c.image)) args.push("--tls-verify=false");
      const auth = this.authFile();
      if (auth) args.push("--authfile", auth);
      args.push(c.image);
      const r = await this.node.podman(args, { check: false, signal: this.abort.signal }).catch((e: Error) => ({
        code: 1, stdout: "", stderr: e.message,
      }));
      this.check();
      if (r.code === 0) {
        const secs = ((Date.now() - started) / 1000).toFixed(3);
        this.event("Normal", "Pulled", `Successfully pulled image ${JSON.stringify(shown)} in ${secs}s`, c);
        return;
      }
      const err = (r.stderr || r.stdout).trim().split("\n").filter(Boolean).pop() ?? `exit code ${r.code}`;
      const msg = `failed to pull and unpack image ${JSON.stringify(c.image)}: ${err.replace(/^Error: /, "")}`;
      this.event("Warning", "Failed", `Failed to pull image ${JSON.stringify(shown)}: ${msg}`, c);
      this.event("Warning", "Failed", "Error: ErrImagePull", c);
      this.setState(c, { waiting: { reason: "ErrImagePull", message: msg } });
      // kubelet shows ErrImagePull until its next sync, then ImagePullBackOff for the rest of the back-off.
      await sleep(Math.min(1000, this.delay(attempt)), this.abort.signal);
      this.check();
      const backMsg = `Back-off pulling image ${JSON.stringify(shown)}: ErrImagePull: ${msg}`;
      this.event("Normal", "BackOff", `Back-off pulling image ${JSON.stringify(shown)}`, c);
      this.event("Warning", "Failed", "Error: ImagePullBackOff", c);
      this.setState(c, { waiting: { reason: "ImagePullBackOff", message: backMsg } });
      await sleep(this.delay(attempt), this.abort.signal);
    }
  }

  private async imageInfo(ref: string): Promise<{ id: string; user: string; repoDigest?: string }> {
    const r = await this.node.podman(["image", "inspect", ref, "--format", "json"], { check: false });
    try {
      const j = JSON.parse(r.stdout)[0];
      const repo = ref.replace(/[:@][^/]*$/, "");
      const digests: string[] = j.RepoDigests ?? [];
      const repoDigest = digests.find((d) => d.startsWith(`${repo}@`)) ?? digests[0];
      return { id: j.Id, user: j.Config?.User ?? j.User ?? "", repoDigest };
    } catch {
      return { id: "", user: "" };
    }
  }

  /** podman create arguments for one container; throws ConfigError for what kubelet would refuse. */
  private async createArgs(c: ContainerRun, imageUser: string): Promise<string[]> {
    const spec = c.spec;
    const podSpec = this.pod.spec!;
    const psc = podSpec.securityContext ?? {};
    const sc = spec.securityContext ?? {};
    const env = resolveEnv(this.pod, spec, this.sources, this.facts, this.node.options.extraEnv);
    const lookup = (n: string) => env.get(n);
    const args = ["create", "--name", c.podmanName, "--pull=never",
      "--label", `buildpod.node=${this.node.instance}`,
      "--label", `buildpod.state=${this.node.pm.cgroupRoot}`,
      "--label", `buildpod.owner-pid=${process.pid}`,
      "--label", `io.kubernetes.pod.uid=${this.uid}`,
      "--label", `io.kubernetes.pod.name=${this.name}`,
      "--label", `io.kubernetes.pod.namespace=${this.ns}`,
      "--label", `io.kubernetes.container.name=${spec.name}`,
      // Host network for every pod: see the note at the top of this file.
      "--network", "host",
      "--log-driver", "k8s-file", "--log-opt", `path=${c.logPath}`,
    ];
    if (!podSpec.hostNetwork) args.push("--hostname", podSpec.hostname ?? this.name);
    if (podSpec.hostPID) args.push("--pid", "host");
    if (podSpec.hostIPC) args.push("--ipc", "host");

    // Resources.
    const limits = spec.resources?.limits ?? {};
    const requests = spec.resources?.requests ?? {};
    const mem = parseMemory(limits.memory);
    const cpuLimit = parseCpuMilli(limits.cpu);
    const cpuRequest = parseCpuMilli(requests.cpu ?? limits.cpu);
    if (this.node.pm.cgroupV1) {
      const parent = `${this.node.cgroupBase}/${this.uid}/${spec.name}`;
      const memDir = join("/sys/fs/cgroup/memory", parent);
      mkdirSync(memDir, { recursive: true });
      if (mem !== undefined) writeFileSync(join(memDir, "memory.limit_in_bytes"), String(mem));
      c.memoryCgroup = memDir;
      c.memoryLimit = mem;
      args.push("--cgroup-parent", parent);
    } else if (mem !== undefined) {
      args.push("--memory", String(mem), "--memory-swap", String(mem));
    }
    if (cpuLimit !== undefined) args.push("--cpus", (cpuLimit / 1000).toFixed(3));
    if (cpuRequest !== undefined) args.push("--cpu-shares", String(Math.max(2, Math.floor((cpuRequest * 1024) / 1000))));

    // Security.
    const runAsUser = sc.runAsUser ?? psc.runAsUser;
    const runAsGroup = sc.runAsGroup ?? psc.runAsGroup;
    const runAsNonRoot = sc.runAsNonRoot ?? psc.runAsNonRoot;
    if (runAsNonRoot) {
      const u = runAsUser ?? (imageUser === "" ? 0 : /^\d+/.test(imageUser) ? Number(imageUser.split(":")[0]) : NaN);
      if (u === 0) throw new ConfigError("container has runAsNonRoot and image will run as root");
      if (Number.isNaN(u)) throw new ConfigError(`container has runAsNonRoot and image has non-numeric user (${imageUser}), cannot verify user is non-root`);
    }
    if (runAsUser !== undefined) args.push("--user", runAsGroup !== undefined ? `${runAsUser}:${runAsGroup}` : String(runAsUser));
    else if (runAsGroup !== undefined) args.push("--user", `${imageUser.split(":")[0] || "0"}:${runAsGroup}`);
    for (const g of [...(psc.supplementalGroups ?? []), ...(psc.fsGroup !== undefined ? [psc.fsGroup] : [])]) {
      args.push("--group-add", String(g));
    }
    if (sc.privileged) args.push("--privileged");
    for (const cap of sc.capabilities?.add ?? []) args.push("--cap-add", cap);
    for (const cap of sc.capabilities?.drop ?? []) args.push("--cap-drop", cap);
    if (sc.readOnlyRootFilesystem) args.push("--read-only", "--read-only-tmpfs=false");
    if (sc.allowPrivilegeEscalation === false) args.push("--security-opt", "no-new-privileges");
    const seccomp = sc.seccompProfile ?? psc.seccompProfile;
    // Unspecified seccomp: podman's default profile (what clusters with SeccompDefault give).
    if (seccomp?.type === "Unconfined") args.push("--security-opt", "seccomp=unconfined");
    else if (seccomp?.type === "Localhost" && seccomp.localhostProfile) {
      args.push("--security-opt", `seccomp=${seccomp.localhostProfile}`);
    }
    const apparmor = sc.appArmorProfile ?? psc.appArmorProfile;
    if (apparmor?.type === "Unconfined") args.push("--security-opt", "apparmor=unconfined");
    for (const s of psc.sysctls ?? []) args.push("--sysctl", `${s.name}=${s.value}`);

    // Environment.
    for (const [k, v] of env) args.push("--env", `${k}=${v}`);

    // Mounts.
    const mount = (src: string, dst: string, ro: boolean) =>
      args.push("--mount", `type=bind,source=${src},destination=${dst}${ro ? ",readonly=true" : ""}`);
    for (const vm of spec.volumeMounts ?? []) {
      const vol = this.volumes.get(vm.name);
      if (!vol) throw new ConfigError(`cannot find volume ${JSON.stringify(vm.name)} to mount into container ${JSON.stringify(spec.name)}`);
      let src = vol.hostPath;
      const sub = vm.subPathExpr ? expand(vm.subPathExpr, lookup) : vm.subPath;
      if (sub) {
        if (sub.startsWith("/") || sub.split("/").includes("..")) throw new ConfigError(`invalid subPath ${JSON.stringify(sub)}`);
        src = join(src, sub);
        if (!existsSync(src)) {
          mkdirSync(src, { recursive: true });
          chmodSync(src, 0o777);
        }
      }
      mount(src, vm.mountPath, vol.readOnly || (vm.readOnly ?? false));
    }
    mkdirSync(join(c.termPath, ".."), { recursive: true });
    writeFileSync(c.termPath, "");
    chmodSync(c.termPath, 0o666);
    mount(c.termPath, spec.terminationMessagePath ?? "/dev/termination-log", false);

    if (spec.workingDir) args.push("--workdir", spec.workingDir);
    if (spec.stdin) args.push("--interactive");
    if (spec.tty) args.push("--tty");
    // Kubernetes semantics: command replaces the image's ENTRYPOINT (and drops its CMD), args replace CMD.
    const command = spec.command?.map((s) => expand(s, lookup));
    const cmdArgs = spec.args?.map((s) => expand(s, lookup));
    if (command && command.length) args.push("--entrypoint", JSON.stringify(command));
    else if (command && !cmdArgs) args.push("--entrypoint", "[]");
    args.push(c.image);
    if (cmdArgs) args.push(...cmdArgs);
    return args;
  }

  private async prepareAndStart(c: ContainerRun): Promise<void> {
    await this.ensureImage(c);
    this.check();
    const info = await this.imageInfo(c.image);
    c.status.imageID = info.repoDigest ?? (info.id ? `sha256:${info.id}` : "");
    let args: string[] | undefined;
    for (let attempt = 0; ; attempt++) {
      this.check();
      try {
        args = await this.createArgs(c, info.user);
      } catch (e) {
        if (!(e instanceof ConfigError)) throw e;
        this.event("Warning", "Failed", `Error: ${e.message}`, c);
        this.setState(c, { waiting: { reason: "CreateContainerConfigError", message: e.message } });
        await sleep(this.delay(attempt), this.abort.signal);
        continue;
      }
      mkdirSync(join(c.logPath, ".."), { recursive: true });
      if (!existsSync(c.logPath)) writeFileSync(c.logPath, "");
      const r = await this.node.podman(args, { check: false });
      this.check();
      if (r.code === 0) {
        c.created = true;
        c.status.containerID = `podman://${r.stdout.trim()}`;
        break;
      }
      await this.node.podman(["rm", "-f", c.podmanName], { check: false });
      const msg = (r.stderr || r.stdout).trim().replace(/^Error: /, "");
      this.event("Warning", "Failed", `Error: ${msg}`, c);
      this.setState(c, { waiting: { reason: "CreateContainerError", message: msg } });
      await sleep(this.delay(attempt), this.abort.signal);
    }
    this.event("Normal", "Created", `Created container ${c.spec.name}`, c);
    this.check();
    const r = await this.node.podman(["start", c.podmanName], { check: false });
    if (r.code !== 0) {
      const msg = (r.stderr || r.stdout).trim().replace(/^Error: /, "");
      this.event("Warning", "Failed", `Error: failed to start container ${JSON.stringify(c.spec.name)}: ${msg}`, c);
      const t = now();
      c.done = true;
      this.setState(c, { terminated: { exitCode: 128, reason: "StartError", message: msg, startedAt: new Date(0), finishedAt: t } });
      return;
    }
    c.running = true;
    const st = await this.inspect(c);
    this.event("Normal", "Started", `Started container ${c.spec.name}`, c);
    c.status.started = true;
    if (!c.init) c.status.ready = true;
    if (!c.done) this.setState(c, { running: { startedAt: st?.startedAt ?? now() } });
  }

  private async inspect(c: ContainerRun): Promise<{ exitCode: number; startedAt?: Date; finishedAt?: Date; oom: boolean; running: boolean } | undefined> {
    const r = await this.node.podman(["container", "inspect", c.podmanName, "--format", "json"], { check: false });
    if (r.code !== 0) return undefined;
    try {
      const s = JSON.parse(r.stdout)[0].State;
      const date = (v: string | undefined) => (v && !v.startsWith("0001-") ? new Date(v) : undefined);
      return { exitCode: s.ExitCode, startedAt: date(s.StartedAt), finishedAt: date(s.FinishedAt), oom: !!s.OOMKilled, running: !!s.Running };
    } catch {
      return undefined;
    }
  }

  /** Wait for a started container to end; record its terminated state. Resolves with the exit code. */
  private async waitFor(c: ContainerRun): Promise<number> {
    if (c.done) return c.status.state?.terminated?.exitCode ?? 128;
    const w = await this.node.podman(["wait", c.podmanName], { check: false });
    const st = await this.inspect(c);
    let exitCode = st?.exitCode ?? (Number(w.stdout.trim()) || 137);
    if (exitCode < 0) exitCode = 137;
    c.running = false;
    c.done = true;
    let oom = st?.oom ?? false;
    if (!oom && c.memoryCgroup && c.memoryLimit !== undefined) {
      // As containerd does, any process of the container killed for memory makes the reason OOMKilled (the
      // exit code stays the container's own: buildah whose RUN step was killed exits 1, say). The kernel log
      // names the memory cgroup whose limit was hit, and that is the per-container cgroup this node owns.
      const fromKernel = kernelOomKills(c.memoryCgroup.slice("/sys/fs/cgroup/memory".length));
      if (fromKernel !== undefined) oom = fromKernel > 0;
      else if (exitCode !== 0 && !this.killing) {
        // No kernel log to read: the cgroup's own counters (oom_kill stays 0 on some v1 kernels because the
        // kill is counted in the victim's cgroup, gone by now), or SIGKILL right after the limit was hit.
        const kills = readOomKills(c.memoryCgroup);
        const failcnt = readCgroupNumber(c.memoryCgroup, "memory.failcnt") ?? 0;
        const maxUsage = readCgroupNumber(c.memoryCgroup, "memory.max_usage_in_bytes") ?? 0;
        oom = kills > 0 || (exitCode === 137 && failcnt > 0 && maxUsage >= c.memoryLimit - 4 * 4096);
      }
    }
    const reason = oom ? "OOMKilled" : exitCode === 0 ? "Completed" : "Error";
    let message = "";
    try {
      const buf = readFileSync(c.termPath);
      message = buf.subarray(0, TERMINATION_MESSAGE_MAX).toString("utf8");
    } catch {}
    if (!message && exitCode !== 0 && c.spec.terminationMessagePolicy === "FallbackToLogsOnError") {
      message = logTail(c.logPath);
    }
    c.status.ready = false;
    c.status.started = false;
    const startedAt = st?.startedAt ?? c.status.state?.running?.startedAt ?? now();
    // podman may record a start a few microseconds after a very short process already ended.
    const finishedAt = new Date(Math.max((st?.finishedAt ?? now()).getTime(), startedAt.getTime()));
    this.setState(c, {
      terminated: {
        exitCode,
        reason,
        ...(message ? { message } : {}),
        startedAt,
        finishedAt,
        containerID: c.status.containerID,
      },
    });
    return exitCode;
  }

  private async deadlineExceeded(): Promise<void> {
    if (this.terminalPhase || this.closed) return;
    this.event("Warning", "DeadlineExceeded", "Pod was active on the node longer than the specified deadline");
    this.podReason = "DeadlineExceeded";
    this.podMessage = "Pod was active on the node longer than the specified deadline";
    await this.stopContainers(this.pod.spec?.terminationGracePeriodSeconds ?? 30, "DeadlineExceeded");
    this.terminalPhase = "Failed";
    this.setCondition("PodReadyToStartContainers", "False", now());
    this.emit();
  }

  private async stopContainers(grace: number, reason?: string): Promise<void> {
    this.killing = true;
    this.abort.abort();
    const running = this.containers.filter((c) => c.created && !c.done);
    const why = reason && reason !== "Killing" ? ` (${reason})` : "";
    for (const c of running) this.event("Normal", "Killing", `Stopping container ${c.spec.name}${why}`, c);
    await Promise.all(running.map((c) => this.node.podman(["stop", "-t", String(Math.max(0, Math.ceil(grace))), c.podmanName], { check: false })));
    if (this.flow) await Promise.race([this.flow, sleep(10_000)]);
    // Containers that never ran end as waiting; the ones stopped now have their terminated state from waitFor.
  }

  logPath(container: string): string | undefined {
    const c = this.containers.find((x) => x.spec.name === container);
    return c && existsSync(c.logPath) ? c.logPath : undefined;
  }

  exec(container: string, command: string[], streams: ExecStreams): Promise<number> {
    const c = this.containers.find((x) => x.spec.name === container);
    if (!c) return Promise.reject(new Error(`container ${container} is not valid for pod ${this.name}`));
    if (!c.running || c.done) return Promise.reject(new Error(`container ${container} is not running`));
    const args = ["exec"];
    if (streams.stdin) args.push("--interactive");
    if (streams.tty) args.push("--tty");
    args.push(c.podmanName, ...command);
    return this.spawnStreams(args, streams);
  }

  attach(container: string, streams: ExecStreams): Promise<void> {
    const c = this.containers.find((x) => x.spec.name === container);
    if (!c) return Promise.reject(new Error(`container ${container} is not valid for pod ${this.name}`));
    if (!c.running || c.done) return Promise.reject(new Error(`container ${container} is not running`));
    const args = ["attach", "--sig-proxy=false"];
    if (!streams.stdin || !c.spec.stdin) args.push("--no-stdin");
    args.push(c.podmanName);
    return this.spawnStreams(args, streams).then(() => undefined);
  }

  private spawnStreams(args: string[], streams: ExecStreams): Promise<number> {
    return new Promise((resolve, reject) => {
      const child = spawn("podman", args, {
        env: this.node.pm.env,
        stdio: [streams.stdin ? "pipe" : "ignore", "pipe", "pipe"],
      });
      child.on("error", reject);
      // Copy by hand rather than pipe(): never write to a channel the caller already closed or destroyed.
      const forward = (from: NodeJS.ReadableStream, to: ExecStreams["stdout"]) =>
        from.on("data", (b: Buffer) => {
          if (to && !to.destroyed && to.writable) to.write(b);
        });
      forward(child.stdout!, streams.stdout);
      forward(child.stderr!, streams.stderr);
      if (streams.stdin) {
        child.stdin!.on("error", () => {});
        streams.stdin.pipe(child.stdin!);
      }
      child.on("close", (code, signal) => {
        if (streams.stdin) streams.stdin.unpipe(child.stdin!);
        resolve(code ?? (signal === "SIGKILL" ? 137 : 143));
      });
    });
  }

  private killing$?: Promise<void>;

  kill(gracePeriodSeconds: number, reason?: string): Promise<void> {
    if (this.killing$) {
      // A second, shorter kill (e.g. a forced deletion during a graceful one) cuts the grace period short.
      if (gracePeriodSeconds === 0) {
        const running = this.containers.filter((c) => c.created && !c.done).map((c) => c.podmanName);
        if (running.length) void this.node.podman(["kill", ...running], { check: false });
      }
      return this.killing$;
    }
    this.killing$ = this.doKill(gracePeriodSeconds, reason);
    return this.killing$;
  }

  private async doKill(gracePeriodSeconds: number, reason?: string): Promise<void> {
    if (this.closed) return;
    if (this.deadlineTimer) clearTimeout(this.deadlineTimer);
    // `reason` says why (Killing for a deletion, DeadlineExceeded, ...); the API server owns the pod's
    // status reason, so it only goes into the Killing events here.
    await this.stopContainers(gracePeriodSeconds, reason);
    if (!this.terminalPhase) {
      const mains = this.mains;
      const ran = mains.filter((c) => c.status.state?.terminated);
      this.terminalPhase = ran.length === mains.length && ran.every((c) => c.status.state?.terminated?.exitCode === 0)
        ? "Succeeded" : "Failed";
    }
    this.setCondition("PodReadyToStartContainers", "False", now());
    this.emit();
    this.closed = true;
    this.resolveFinished();
    const names = this.containers.filter((c) => c.created).map((c) => c.podmanName);
    const ids = (await this.node.podman(["ps", "-a", "-q", "--filter", `label=io.kubernetes.pod.uid=${this.uid}`,
      "--filter", `label=buildpod.node=${this.node.instance}`], { check: false })).stdout.split("\n").filter(Boolean);
    const all = [...new Set([...names, ...ids])];
    if (all.length) await this.node.podman(["rm", "-f", "-t", "0", ...all], { check: false });
    removeCgroupTree(`${this.node.cgroupBase}/${this.uid}`);
    rmSync(this.podDir, { recursive: true, force: true });
    this.node.forget(this);
  }
}

