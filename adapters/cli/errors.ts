// How any failure reaches the user: one line, the right exit code, no stack trace.
import { ClusterError, InputError } from "../../core/errors.js";
import { EXIT } from "./exit.js";

export function reportError(err: unknown, write: (s: string) => void): number {
  if (err instanceof InputError) {
    write(`buildpod: error: ${err.message}\n`);
    return EXIT.invalidInput;
  }
  if (err instanceof ClusterError) {
    write(`buildpod: error: ${err.message}\n`);
    return EXIT.error;
  }
  const message = err instanceof Error ? err.message : String(err);
  write(`buildpod: internal error: ${message}\n`);
  if (process.env.BUILDPOD_DEBUG && err instanceof Error) write(`${err.stack}\n`);
  return EXIT.error;
}
