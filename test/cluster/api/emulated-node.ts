// EMULATED NODE, FOR API TESTS ONLY. It runs no containers: each "container" is a small script chosen by its
// image name that writes CRI log lines and exits, with status reports and events timed like a kubelet's, so that
// every behaviour of the emulated API server can be tested fast without podman. The real node that runs pods as
// podman containers lives in test/cluster/node/.
//
// Images (registry and tag are ignored; only names under test/ exist, anything else fails to pull):
//   test/echo ARGS...          prints each argument as a line (or "hello from test/echo"), exits 0
//   test/lines [N] [MS]        prints "line 1".."line N" (default 5), one every MS ms (default 20), exits 0
//   test/sleep [SECONDS]       prints "sleeping", waits (default 3600 s), exits 0; exits 143 on SIGTERM
//   test/fail-exit-N           prints "failing with exit code N" to stderr, exits N (reason Error)
//   test/oom                   prints "allocating memory", exits 137 with reason OOMKilled
//   test/termination [MSG]     writes MSG to its termination message path, exits 0
//   test/env                   prints its environment (sorted) and the files of its volume mounts
//   test/partial               writes a line in two CRI entries (P then F)
// exec understands: cat [FILE...], echo, env, ls, true, false, sleep N, sh -c 'exit N', tar -c/-x [-f -] [-C DIR].
import * as fsMod from "node:fs";
import { appendFileSync, mkdirSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { V1Container, V1Pod, V1PodStatus } from "@kubernetes/client-node";
import type { ExecStreams, NodeEvent, NodeInfo, NodeRuntime, RunningPod, VolumeSources } from "../node/runtime.js";
import { readTar, writeTar } from "./tar.js";

export interface EmulatedNodeOptions {
  /** Where the CRI log files go. */
  dir: string;
  name?: string;
  labels?: Record<string, string>;
  allocatable?: { cpuMilli: number; memoryBytes: number };
  /** Milliseconds per lifecycle step (pull, create, start); default 15. */
  stepMs?: number;
}

type State =
  | { waiting: { reason: string; message?: string } }
  | { running: { startedAt: string } }
  | { terminated: { exitCode: number; reason: string; message?: string; startedAt: string; finishedAt: string; containerID: string; signal?: number } };

interface Ctr {
  spec: V1Container;
  init: boolean;
  state: State;
  lastState?: State;
  restartCount: number;
  containerID: string;
  logPath?: string;
  started: boolean;
  /** Resolves the running script early (SIGTERM). */
  term?: () => void;
  env: Record<string, string>;
  done?: Promise<number>;
}

let seq = 0;

function ts(): string {
  const d = new Date();
  const sub = String(Number(process.hrtime.bigint() % 1_000_000n)).padStart(6, "0");
  return `${d.toISOString().slice(0, 23)}${sub}Z`;
}

function secs(): string {
  return new Date().toISOString().replace(/\.\d+Z$/, "Z");
}

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

function imageName(image: string): string {
  let ref = image.split("@")[0];
  const slash = ref.lastIndexOf("/");
  const colon = ref.lastIndexOf(":");
  if (colon > slash) ref = ref.slice(0, colon);
  const parts = ref.split("/");
  if (parts.length > 2 && (parts[0].includes(".") || parts[0].includes(":") || parts[0] === "localhost")) parts.shift();
  return parts.join("/");
}

export class EmulatedNode implements NodeRuntime {
  private pods = new Set<EmulatedPod>();
  constructor(private opts: EmulatedNodeOptions) {
    mkdirSync(opts.dir, { recursive: true });
  }

  info(): NodeInfo {
    return {
      name: this.opts.name ?? "emulated-node",
      labels: this.opts.labels ?? { "buildpod.dev/test-node": "true" },
      allocatable: this.opts.allocatable ?? { cpuMilli: 4000, memoryBytes: 8 * 2 ** 30 },
    };
  }

  runPod(pod: V1Pod, sources: VolumeSources, onStatus: (s: V1PodStatus) => void, onEvent: (e: NodeEvent) => void): RunningPod {
    const p = new EmulatedPod(pod, sources, onStatus, onEvent, this.opts.dir, this.opts.stepMs ?? 15, this.info().name);
    this.pods.add(p);
    void p.run().finally(() => this.pods.delete(p));
    return p;
  }

  async shutdown(): Promise<void> {
    await Promise.all([...this.pods].map((p) => p.kill(0)));
    rmSync(this.opts.dir, { recursive: true, force: true });
  }
}

class EmulatedPod implements RunningPod {
  private ctrs: Ctr[];
  private phase = "Pending";
  private podIP = `10.88.0.${(++seq % 250) + 2}`;
  private fs = new Map<string, Buffer>();
  private killed = false;
  private initialized = false;
  private sandboxReady = false;
  private finishedPromise?: Promise<void>;
  private dir: string;
  private startTime = secs();

  constructor(
    private pod: V1Pod,
    private sources: VolumeSources,
    private onStatus: (s: V1PodStatus) => void,
    private onEvent: (e: NodeEvent) => void,
    root: string,
    private step: number,
    private nodeName: string,
  ) {
    const md = pod.metadata!;
    this.dir = join(root, `${md.namespace}_${md.name}_${md.uid}`);
    const mk = (c: V1Container, init: boolean): Ctr => ({
      spec: c,
      init,
      state: { waiting: { reason: init ? "PodInitializing" : (pod.spec!.initContainers?.length ? "PodInitializing" : "ContainerCreating") } },
      restartCount: 0,
      containerID: "",
      started: false,
      env: {},
    });
    this.ctrs = [...(pod.spec!.initContainers ?? []).map((c) => mk(c, true)), ...pod.spec!.containers.map((c) => mk(c, false))];
    for (const c of this.ctrs) if (c.init) c.state = { waiting: { reason: "PodInitializing" } };
    if (this.ctrs[0]?.init) this.ctrs[0].state = { waiting: { reason: "PodInitializing" } };
  }

  private event(type: NodeEvent["type"], reason: string, message: string, c?: Ctr): void {
    if (this.killed && reason !== "Killing") return;
    const fieldPath = c ? `spec.${c.init ? "initContainers" : "containers"}{${c.spec.name}}` : undefined;
    this.onEvent(fieldPath ? { type, reason, message, fieldPath } : { type, reason, message });
  }

  private status(): V1PodStatus {
    const mains = this.ctrs.filter((c) => !c.init);
    const inits = this.ctrs.filter((c) => c.init);
    const allReady = mains.every((c) => "running" in c.state);
    const done = this.phase === "Succeeded" || this.phase === "Failed";
    const t = secs();
    const cond = (type: string, ok: boolean, reason?: string) => {
      const c: Record<string, unknown> = { type, status: ok ? "True" : "False", lastProbeTime: null, lastTransitionTime: t };
      if (!ok && reason) c.reason = reason;
      return c;
    };
    const notReady = mains.filter((c) => !("running" in c.state)).map((c) => c.spec.name);
    const readyReason = done ? "PodCompleted" : "ContainersNotReady";
    const conds = [
      cond("PodReadyToStartContainers", this.sandboxReady && !done),
      cond("Initialized", this.initialized || inits.length === 0, inits.length ? "ContainersNotInitialized" : undefined),
      { ...cond("Ready", allReady && !done, readyReason), ...(allReady && !done ? {} : { message: `containers with unready status: [${notReady.join(" ")}]` }) },
      { ...cond("ContainersReady", allReady && !done, readyReason), ...(allReady && !done ? {} : { message: `containers with unready status: [${notReady.join(" ")}]` }) },
    ];
    const cs = (c: Ctr) => ({
      name: c.spec.name,
      image: c.spec.image,
      imageID: c.started ? `${c.spec.image}@sha256:${"0".repeat(64)}` : "",
      containerID: c.containerID || undefined,
      ready: "running" in c.state,
      started: "running" in c.state,
      restartCount: c.restartCount,
      state: structuredClone(c.state),
      lastState: c.lastState ? structuredClone(c.lastState) : {},
    });
    const s: Record<string, unknown> = {
      phase: this.phase,
      conditions: conds,
      hostIP: "127.0.0.1",
      hostIPs: [{ ip: "127.0.0.1" }],
      startTime: this.startTime,
      containerStatuses: mains.map(cs),
    };
    if (this.sandboxReady) {
      s.podIP = this.podIP;
      s.podIPs = [{ ip: this.podIP }];
    }
    if (inits.length) s.initContainerStatuses = inits.map(cs);
    return JSON.parse(JSON.stringify(s)) as V1PodStatus;
  }

  private publish(): void {
    this.onStatus(this.status());
  }

  /** Resolve env and volumes; the name of a missing Secret/ConfigMap when there is one. */
  private prepare(c: Ctr): { envError?: string; mountError?: string } {
    const ns = this.pod.metadata!.namespace!;
    const env: Record<string, string> = { HOSTNAME: this.pod.metadata!.name!, KUBERNETES_SERVICE_HOST: "10.96.0.1" };
    for (const from of c.spec.envFrom ?? []) {
      if (from.secretRef) {
        const s = this.sources.secret(ns, from.secretRef.name!);
        if (!s) return { envError: `secret "${from.secretRef.name}" not found` };
        for (const [k, v] of Object.entries(s)) env[(from.prefix ?? "") + k] = v.toString();
      }
      if (from.configMapRef) {
        const s = this.sources.configMap(ns, from.configMapRef.name!);
        if (!s) return { envError: `configmap "${from.configMapRef.name}" not found` };
        for (const [k, v] of Object.entries(s)) env[(from.prefix ?? "") + k] = v.toString();
      }
    }
    for (const e of c.spec.env ?? []) {
      if (e.value !== undefined) env[e.name] = e.value.replace(/\$\(([A-Za-z_][A-Za-z0-9_]*)\)/g, (m, n: string) => env[n] ?? m);
      else if (e.valueFrom?.secretKeyRef) {
        const r = e.valueFrom.secretKeyRef;
        const s = this.sources.secret(ns, r.name!);
        if (!s) {
          if (r.optional) continue;
          return { envError: `secret "${r.name}" not found` };
        }
        if (!(r.key in s)) return { envError: `couldn't find key ${r.key} in Secret ${ns}/${r.name}` };
        env[e.name] = s[r.key].toString();
      } else if (e.valueFrom?.configMapKeyRef) {
        const r = e.valueFrom.configMapKeyRef;
        const s = this.sources.configMap(ns, r.name!);
        if (!s) {
          if (r.optional) continue;
          return { envError: `configmap "${r.name}" not found` };
        }
        if (!(r.key in s)) return { envError: `couldn't find key ${r.key} in ConfigMap ${ns}/${r.name}` };
        env[e.name] = s[r.key].toString();
      } else if (e.valueFrom?.fieldRef) {
        const path = e.valueFrom.fieldRef.fieldPath;
        const v: Record<string, string | undefined> = {
          "metadata.name": this.pod.metadata!.name,
          "metadata.namespace": ns,
          "metadata.uid": this.pod.metadata!.uid,
          "spec.nodeName": this.nodeName,
          "status.podIP": this.podIP,
        };
        env[e.name] = v[path] ?? "";
      } else env[e.name] = "";
    }
    c.env = env;
    for (const m of c.spec.volumeMounts ?? []) {
      const vol = (this.pod.spec!.volumes ?? []).find((v) => v.name === m.name);
      if (!vol) continue;
      let files: Record<string, Buffer> | undefined;
      if (vol.secret) {
        files = this.sources.secret(ns, vol.secret.secretName!);
        if (!files && !vol.secret.optional) return { mountError: `MountVolume.SetUp failed for volume "${vol.name}" : secret "${vol.secret.secretName}" not found` };
      } else if (vol.configMap) {
        files = this.sources.configMap(ns, vol.configMap.name!);
        if (!files && !vol.configMap.optional) return { mountError: `MountVolume.SetUp failed for volume "${vol.name}" : configmap "${vol.configMap.name}" not found` };
      }
      const items = vol.secret?.items ?? vol.configMap?.items;
      for (const [k, v] of Object.entries(files ?? {})) {
        const item = items?.find((i) => i.key === k);
        if (items && !item) continue;
        this.fs.set(`${m.mountPath.replace(/\/$/, "")}/${item?.path ?? k}`, v);
      }
      this.fs.set(m.mountPath.replace(/\/$/, ""), Buffer.alloc(0));
    }
    return {};
  }

  async run(): Promise<void> {
    this.finishedPromise = this.lifecycle();
    await this.finishedPromise;
  }

  private async lifecycle(): Promise<void> {
    this.publish();
    await sleep(this.step);
    if (this.killed) return;
    this.sandboxReady = true;
    mkdirSync(this.dir, { recursive: true });
    // Volumes are set up once for the pod; a missing Secret or ConfigMap holds it in ContainerCreating.
    for (;;) {
      const errs = this.ctrs.map((c) => this.prepare(c).mountError).filter(Boolean);
      if (errs.length === 0) break;
      this.event("Warning", "FailedMount", errs[0]!);
      this.publish();
      await sleep(Math.max(100, this.step * 10));
      if (this.killed) return;
    }
    this.publish();
    for (const c of this.ctrs.filter((x) => x.init)) {
      const code = await this.runContainer(c);
      if (this.killed) return this.finish();
      if (code === undefined) return; // stuck (image pull, config error)
      if (code !== 0 && this.pod.spec!.restartPolicy === "Never") {
        this.phase = "Failed";
        for (const m of this.ctrs.filter((x) => !x.init)) m.state = { waiting: { reason: "PodInitializing" } };
        return this.finish();
      }
    }
    this.initialized = true;
    for (const m of this.ctrs.filter((x) => !x.init)) m.state = { waiting: { reason: "ContainerCreating" } };
    this.publish();
    const codes = await Promise.all(this.ctrs.filter((x) => !x.init).map((c) => this.runContainer(c)));
    if (codes.some((c) => c === undefined) && !this.killed) return;
    this.finish();
  }

  private finish(): void {
    const mains = this.ctrs.filter((c) => !c.init);
    if (this.phase !== "Failed") {
      const failed = mains.some((c) => !("terminated" in c.state) || c.state.terminated.exitCode !== 0);
      this.phase = failed ? "Failed" : "Succeeded";
    }
    this.publish();
  }

  /** Run one container to its end (with restarts per restartPolicy); undefined when it never starts. */
  private async runContainer(c: Ctr): Promise<number | undefined> {
    const image = c.spec.image ?? "";
    const name = imageName(image);
    const name2 = name.replace(/^docker\.io\//, "").replace(/^library\//, "");
    const policy = this.pod.spec!.restartPolicy ?? "Always";
    for (;;) {
      if (this.killed) return 143;
      if (!name2.startsWith("test/") || !knownImage(name2)) {
        this.event("Normal", "Pulling", `Pulling image "${image}"`, c);
        await sleep(this.step);
        if (this.killed) return undefined;
        const msg = `Failed to pull image "${image}": initializing source docker://${image}: reading manifest latest in ${image}: manifest unknown`;
        this.event("Warning", "Failed", msg, c);
        this.event("Warning", "Failed", "Error: ErrImagePull", c);
        c.state = { waiting: { reason: "ErrImagePull", message: msg } };
        this.publish();
        await sleep(this.step * 3);
        if (this.killed) return undefined;
        this.event("Normal", "BackOff", `Back-off pulling image "${image}"`, c);
        this.event("Warning", "Failed", "Error: ImagePullBackOff", c);
        c.state = { waiting: { reason: "ImagePullBackOff", message: `Back-off pulling image "${image}"` } };
        this.publish();
        return undefined;
      }
      if (c.restartCount === 0) {
        this.event("Normal", "Pulling", `Pulling image "${image}"`, c);
        await sleep(this.step);
        this.event("Normal", "Pulled", `Successfully pulled image "${image}" in ${this.step}ms (${this.step}ms including waiting). Image size: 1048576 bytes.`, c);
      }
      const prep = this.prepare(c);
      if (prep.envError) {
        this.event("Warning", "Failed", `Error: ${prep.envError}`, c);
        c.state = { waiting: { reason: "CreateContainerConfigError", message: prep.envError } };
        this.publish();
        // The kubelet retries: the pod starts once the Secret or ConfigMap exists.
        await sleep(Math.max(100, this.step * 10));
        if (this.killed) return undefined;
        continue;
      }
      if (this.killed) return 143;
      c.containerID = `emulated://${c.spec.name}-${(++seq).toString(16).padStart(12, "0")}`;
      c.logPath = join(this.dir, c.spec.name, `${c.restartCount}.log`);
      mkdirSync(join(this.dir, c.spec.name), { recursive: true });
      writeFileSync(c.logPath, "");
      this.event("Normal", "Created", `Created container: ${c.spec.name}`, c);
      const startedAt = secs();
      c.state = { running: { startedAt } };
      c.started = true;
      if (!c.init) this.phase = "Running";
      this.event("Normal", "Started", `Started container ${c.spec.name}`, c);
      this.publish();
      const { code, reason, message } = await this.script(c, name2);
      const term: State = { terminated: { exitCode: code, reason, startedAt, finishedAt: secs(), containerID: c.containerID } };
      const tmsg = message ?? this.fallbackMessage(c, code);
      if (tmsg) (term as { terminated: { message?: string } }).terminated.message = tmsg;
      c.state = term;
      c.term = undefined;
      const again = !this.killed && !c.init && (policy === "Always" || (policy === "OnFailure" && code !== 0));
      const againInit = !this.killed && c.init && policy !== "Never" && code !== 0;
      if (again || againInit) {
        this.publish();
        await sleep(this.step * 2);
        c.lastState = c.state;
        c.restartCount++;
        if (this.killed) return code;
        continue;
      }
      this.publish();
      return code;
    }
  }

  private fallbackMessage(c: Ctr, code: number): string | undefined {
    if (c.spec.terminationMessagePolicy !== "FallbackToLogsOnError" || code === 0 || !c.logPath) return undefined;
    return this.logTail(c, 80);
  }

  private logTail(c: Ctr, lines: number): string {
    const text = this.readLog(c);
    return text.split("\n").filter(Boolean).slice(-lines).join("\n");
  }

  private readLog(c: Ctr): string {
    try {
      return fsMod.readFileSync(c.logPath!, "utf8")
        .split("\n")
        .filter(Boolean)
        .map((l: string) => l.split(" ").slice(3).join(" "))
        .join("\n");
    } catch {
      return "";
    }
  }

  private write(c: Ctr, stream: "stdout" | "stderr", text: string, partial = false): void {
    appendFileSync(c.logPath!, `${ts()} ${stream} ${partial ? "P" : "F"} ${text}\n`);
  }

  /** The image's behaviour. Resolves with the exit code when the "process" ends. */
  private async script(c: Ctr, image: string): Promise<{ code: number; reason: string; message?: string }> {
    const args = [...(c.spec.command ?? []).slice(1), ...(c.spec.args ?? [])];
    const argv = c.spec.args ?? [];
    let terminated = false;
    const termed = new Promise<void>((r) => {
      c.term = () => {
        terminated = true;
        r();
      };
    });
    const wait = (ms: number) => Promise.race([sleep(ms), termed]);
    const ok = (code: number) => ({ code, reason: code === 0 ? "Completed" : "Error" });
    if (this.killed) return { code: 143, reason: "Error" };
    const kind = image.slice("test/".length);
    if (kind === "echo") {
      for (const a of argv.length ? argv : args.length ? args : ["hello from test/echo"]) this.write(c, "stdout", a);
      await wait(this.step);
      return ok(0);
    }
    if (kind === "lines") {
      const n = Number(argv[0] ?? 5);
      const every = Number(argv[1] ?? 20);
      for (let i = 1; i <= n; i++) {
        if (terminated) return { code: 143, reason: "Error" };
        this.write(c, "stdout", `line ${i}`);
        await wait(every);
      }
      return terminated ? { code: 143, reason: "Error" } : ok(0);
    }
    if (kind === "sleep") {
      this.write(c, "stdout", "sleeping");
      await wait(Number(argv[0] ?? 3600) * 1000);
      return terminated ? { code: 143, reason: "Error" } : ok(0);
    }
    const fail = /^fail-exit-(\d+)$/.exec(kind);
    if (fail) {
      this.write(c, "stderr", `failing with exit code ${fail[1]}`);
      await wait(this.step);
      return ok(Number(fail[1]));
    }
    if (kind === "oom") {
      this.write(c, "stdout", "allocating memory");
      await wait(this.step);
      return { code: 137, reason: "OOMKilled" };
    }
    if (kind === "termination") {
      this.write(c, "stdout", "writing termination message");
      await wait(this.step);
      return { ...ok(0), message: argv[0] ?? "done" };
    }
    if (kind === "env") {
      for (const k of Object.keys(c.env).sort()) this.write(c, "stdout", `${k}=${c.env[k]}`);
      for (const [p, v] of [...this.fs.entries()].sort()) if (v.length) this.write(c, "stdout", `${p}: ${v.toString()}`);
      await wait(this.step);
      return ok(0);
    }
    if (kind === "partial") {
      this.write(c, "stdout", "hello ", true);
      await wait(this.step);
      this.write(c, "stdout", "world");
      return ok(0);
    }
    return ok(0);
  }

  logPath(container: string): string | undefined {
    return this.ctrs.find((c) => c.spec.name === container)?.logPath;
  }

  async exec(container: string, command: string[], streams: ExecStreams): Promise<number> {
    const c = this.ctrs.find((x) => x.spec.name === container);
    if (!c || !("running" in c.state)) throw new Error(`container not found ("${container}")`);
    return runCommand(command, streams, this.fs, c.env);
  }

  async attach(container: string, streams: ExecStreams): Promise<void> {
    const c = this.ctrs.find((x) => x.spec.name === container);
    if (!c?.logPath) throw new Error(`container not found ("${container}")`);
    // Attach replays nothing and streams the container's new output until it ends.
    const fs = fsMod;
    let offset = fs.statSync(c.logPath).size;
    for (;;) {
      const size = fs.statSync(c.logPath).size;
      if (size > offset) {
        const buf = Buffer.alloc(size - offset);
        const fd = fs.openSync(c.logPath, "r");
        fs.readSync(fd, buf, 0, buf.length, offset);
        fs.closeSync(fd);
        offset = size;
        for (const line of buf.toString().split("\n").filter(Boolean)) {
          const [, stream, tag, ...rest] = line.split(" ");
          const out = stream === "stderr" && streams.stderr ? streams.stderr : streams.stdout;
          out?.write(rest.join(" ") + (tag === "F" ? "\n" : ""));
        }
      }
      if (!("running" in c.state)) return;
      await sleep(20);
    }
  }

  async kill(gracePeriodSeconds: number, reason?: string): Promise<void> {
    const wasKilled = this.killed;
    for (const c of this.ctrs) {
      if ("running" in c.state) this.event("Normal", "Killing", `Stopping container ${c.spec.name}`, c);
    }
    this.killed = true;
    void reason;
    // Stopping takes a moment (a process handling SIGTERM); a zero grace period kills at once.
    if (gracePeriodSeconds > 0) await sleep(this.step * 3);
    for (const c of this.ctrs) c.term?.();
    if (!wasKilled) await this.finishedPromise?.catch(() => {});
    if (this.phase === "Pending" || this.phase === "Running") {
      this.phase = "Failed";
      this.publish();
    }
  }
}

function knownImage(name: string): boolean {
  return /^test\/(echo|lines|sleep|fail-exit-\d+|oom|termination|env|partial)$/.test(name);
}


async function readAll(s: NodeJS.ReadableStream | undefined): Promise<Buffer> {
  if (!s) return Buffer.alloc(0);
  const chunks: Buffer[] = [];
  for await (const c of s) chunks.push(Buffer.from(c as Buffer));
  return Buffer.concat(chunks);
}

function norm(p: string, cwd = "/"): string {
  const abs = p.startsWith("/") ? p : `${cwd.replace(/\/$/, "")}/${p}`;
  const out: string[] = [];
  for (const part of abs.split("/")) {
    if (!part || part === ".") continue;
    if (part === "..") out.pop();
    else out.push(part);
  }
  return "/" + out.join("/");
}

/** A tiny shell for exec: enough of cat, echo, tar and friends for the API tests. */
async function runCommand(argv: string[], s: ExecStreams, fs: Map<string, Buffer>, env: Record<string, string>): Promise<number> {
  const out = (t: string | Buffer) => s.stdout?.write(t);
  const err = (t: string) => (s.stderr ?? s.stdout)?.write(t);
  const [cmd, ...args] = argv;
  switch (cmd) {
    case "true":
      return 0;
    case "false":
      return 1;
    case "echo":
      out(args.join(" ") + "\n");
      return 0;
    case "env":
      for (const k of Object.keys(env).sort()) out(`${k}=${env[k]}\n`);
      return 0;
    case "sleep":
      await sleep(Number(args[0] ?? 0) * 1000);
      return 0;
    case "sh":
    case "/bin/sh": {
      const script = args[0] === "-c" ? (args[1] ?? "") : "";
      const m = /^\s*exit\s+(\d+)\s*$/.exec(script);
      if (m) return Number(m[1]);
      const e = /^\s*echo\s+(.*)$/.exec(script);
      if (e) {
        out(e[1].replace(/^['"]|['"]$/g, "") + "\n");
        return 0;
      }
      err(`sh: unsupported in the emulated node: ${script}\n`);
      return 2;
    }
    case "cat": {
      if (args.length === 0) {
        out(await readAll(s.stdin));
        return 0;
      }
      let code = 0;
      for (const a of args) {
        const f = fs.get(norm(a));
        if (f === undefined) {
          err(`cat: ${a}: No such file or directory\n`);
          code = 1;
        } else out(f);
      }
      return code;
    }
    case "ls": {
      const dir = norm(args.find((a) => !a.startsWith("-")) ?? "/");
      const names = new Set<string>();
      for (const p of fs.keys()) if (p.startsWith(dir + "/")) names.add(p.slice(dir.length + 1).split("/")[0]);
      if (names.size === 0 && !fs.has(dir)) {
        err(`ls: cannot access '${dir}': No such file or directory\n`);
        return 2;
      }
      for (const n of [...names].sort()) out(n + "\n");
      return 0;
    }
    case "tar":
      return tar(args, s, fs, out, err);
    default:
      err(`OCI runtime exec failed: exec failed: unable to start container process: exec: "${cmd}": executable file not found in $PATH: unknown\n`);
      return 126;
  }
}

async function tar(args: string[], s: ExecStreams, fs: Map<string, Buffer>, out: (b: Buffer | string) => void, err: (t: string) => void): Promise<number> {
  let mode: "c" | "x" | "t" | undefined;
  let dir = "/";
  let file = "-";
  const paths: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const a = args[i];
    if (a === "-C" || a === "--directory") dir = norm(args[++i], dir);
    else if (a.startsWith("--directory=")) dir = norm(a.slice(12), dir);
    else if (a === "-f" || a === "--file") file = args[++i];
    else if (/^-?[cxtvfmzpo]+$/.test(a) && (i === 0 || a.startsWith("-"))) {
      const letters = a.replace(/^-/, "");
      for (const l of letters) if (l === "c" || l === "x" || l === "t") mode = l;
      if (letters.includes("f")) file = args[++i] ?? "-";
    } else if (a.startsWith("--")) continue;
    else paths.push(a);
  }
  if (file !== "-") {
    err("tar: the emulated node reads and writes archives on stdin/stdout only\n");
    return 2;
  }
  if (mode === "x" || mode === "t") {
    const entries = readTar(await readAll(s.stdin));
    for (const e of entries) {
      if (mode === "t") out(e.path + "\n");
      else fs.set(norm(e.path, dir), e.data);
    }
    return 0;
  }
  if (mode === "c") {
    const roots = paths.length ? paths : ["."];
    const entries = [];
    for (const r of roots) {
      const base = norm(r, dir);
      const rel = (p: string) => (r === "." ? p.slice(dir === "/" ? 1 : dir.length + 1) : `${r.replace(/\/$/, "")}${p.slice(base.length)}`);
      let found = false;
      for (const [p, data] of [...fs.entries()].sort()) {
        if (p === base || p.startsWith(base === "/" ? "/" : base + "/")) {
          found = true;
          const name = rel(p);
          if (!name) continue;
          const isDir = data.length === 0 && [...fs.keys()].some((k) => k.startsWith(p + "/"));
          entries.push({ path: name, type: isDir ? ("dir" as const) : ("file" as const), mode: isDir ? 0o755 : 0o644, data });
        }
      }
      if (!found) {
        err(`tar: ${r}: Cannot stat: No such file or directory\n`);
        return 2;
      }
    }
    out(writeTar(entries));
    return 0;
  }
  err("tar: You must specify one of the '-Acdtrux', '--delete' or '--test-label' options\n");
  return 2;
}
