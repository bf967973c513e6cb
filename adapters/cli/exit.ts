// Exit codes: CI scripts branch on them, so each kind of outcome has its own.
export const EXIT = {
  ok: 0,
  /** The build ran and failed (a step failed, OOMKilled, deadline exceeded). */
  buildFailed: 1,
  /** The request was invalid: bad flag, bad build file, refused option. */
  invalidInput: 2,
  /** The build pod never started (image pull, scheduling, configuration). */
  startFailed: 3,
  /** The build was cancelled (signal or `buildpod cancel`). */
  cancelled: 4,
  /** buildpod or the cluster failed: no access, API errors, lost track of the build. */
  error: 5,
} as const;
