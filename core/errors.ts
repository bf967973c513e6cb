/**
 * A problem with what the user asked for. `field` is the dotted path in the build file (or the flag that
 * set it), so every message can name what to fix.
 */
export class InputError extends Error {
  constructor(
    readonly field: string,
    readonly problem: string,
  ) {
    super(field ? `${field}: ${problem}` : problem);
    this.name = "InputError";
  }
}

/** A call to the cluster failed in a way buildpod cannot fix by retrying. */
export class ClusterError extends Error {
  constructor(
    message: string,
    readonly code?: number,
    readonly reason?: string,
  ) {
    super(message);
    this.name = "ClusterError";
  }
}
