// The follow state of one build, held for its driver (build.ts): each input steps follower.ts's machine and
// returns what the driver must do; the rest reads the latest state.
import type { V1ContainerStatus, V1Pod } from "@kubernetes/client-node";
import { elapsed, initial, step, type ClusterEvent, type FollowEvent, type FollowInput, type FollowOptions, type FollowPhase, type FollowState } from "./follower.js";

/** A container's status in the latest pod snapshot. */
function containerStatus(s: FollowState, name: string): V1ContainerStatus | undefined {
  return [...(s.pod?.status?.initContainerStatuses ?? []), ...(s.pod?.status?.containerStatuses ?? [])].find((c) => c.name === name);
}

/** Holds a build's follow state for a driver: feed() steps it; the rest reads it. */
export class PodTracker {
  private s: FollowState;

  constructor(opts: FollowOptions) {
    this.s = initial(opts);
  }

  get state(): FollowPhase {
    return this.s.phase;
  }

  get pod(): V1Pod | undefined {
    return this.s.pod;
  }

  /** Which of the Job's pods is followed: 1, then one more for each retry. */
  get attempt(): number {
    return this.s.attempt;
  }

  feed(input: FollowInput): FollowEvent[] {
    const [next, out] = step(this.s, input);
    this.s = next;
    return out;
  }

  observe(pod: V1Pod, now: number): FollowEvent[] {
    return this.feed({ type: "pod", pod, now });
  }

  tick(now: number): FollowEvent[] {
    return this.feed({ type: "tick", now });
  }

  deleted(now: number): FollowEvent[] {
    return this.feed({ type: "deleted", now });
  }

  jobEvents(events: ClusterEvent[], now: number): FollowEvent[] {
    return this.feed({ type: "jobEvents", events, now });
  }

  podEvents(events: ClusterEvent[]): FollowEvent[] {
    return this.feed({ type: "podEvents", events });
  }

  elapsed(now: number): string {
    return elapsed(this.s, now);
  }

  /** Whether the container has terminated in the latest snapshot. */
  terminated(container: string): boolean {
    return !!containerStatus(this.s, container)?.state?.terminated;
  }

  container(name: string): V1ContainerStatus | undefined {
    return containerStatus(this.s, name);
  }
}
