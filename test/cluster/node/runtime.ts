// The contract between the emulated control plane (test/cluster/api) and the node that runs pods
// (test/cluster/node). The API server owns objects, scheduling, the job controller and events; the node
// owns containers. Logs cross the boundary as files in the CRI log format kubelet writes
// ("2026-01-02T03:04:05.123456789Z stdout F text"), so the API server serves pods/log exactly as a
// kubelet would, including after a container is gone.
import type { V1Pod, V1PodStatus } from "@kubernetes/client-node";
import type { Duplex, Readable, Writable } from "node:stream";

export interface NodeInfo {
  name: string;
  labels: Record<string, string>;
  /** What the scheduler may hand out: cpu in millicores, memory in bytes. */
  allocatable: { cpuMilli: number; memoryBytes: number };
}

/** Data the API server resolves for the node: Secret and ConfigMap contents, decoded to bytes. */
export interface VolumeSources {
  secret(namespace: string, name: string): Record<string, Buffer> | undefined;
  configMap(namespace: string, name: string): Record<string, Buffer> | undefined;
}

export interface NodeEvent {
  type: "Normal" | "Warning";
  reason: string; // Pulling, Pulled, Created, Started, Failed, BackOff, Killing, ...
  message: string;
  /** fieldPath such as spec.initContainers{clone} or spec.containers{build}, when about one container. */
  fieldPath?: string;
}

export interface ExecStreams {
  stdin?: Readable;
  stdout?: Writable;
  stderr?: Writable;
  tty?: boolean;
}

export interface RunningPod {
  /** Absolute path of the CRI-format log file of a container (exists from the container's start on). */
  logPath(container: string): string | undefined;
  /** Run a command in a running container; resolves with its exit code. */
  exec(container: string, command: string[], streams: ExecStreams): Promise<number>;
  /** Attach to a running container's stdin/stdout. */
  attach?(container: string, streams: ExecStreams): Promise<void>;
  /** Stop every container (SIGTERM, then SIGKILL after the grace period) and remove them. */
  kill(gracePeriodSeconds: number, reason?: string): Promise<void>;
}

export interface NodeRuntime {
  info(): NodeInfo;
  /**
   * Start a scheduled pod: pull images, run init containers in order, then the main containers.
   * Every change of status (phase, conditions, init/container statuses with states, exit codes, reasons
   * such as OOMKilled/Error/Completed/ErrImagePull/ImagePullBackOff/CreateContainerConfigError, termination
   * messages, timestamps) is reported through onStatus with the whole new status; events through onEvent.
   */
  runPod(
    pod: V1Pod,
    sources: VolumeSources,
    onStatus: (status: V1PodStatus) => void,
    onEvent: (event: NodeEvent) => void,
  ): RunningPod;
  /** Stop everything this node runs and release its storage. */
  shutdown(): Promise<void>;
}

/** Duplex streams are what exec/attach hand over from WebSocket channels. */
export type ExecChannel = Duplex;
