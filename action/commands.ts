// The three workflow commands the main step needs before its first line: read an input, mask a secret,
// print a line. @actions/core has them, but loading its bundle (0.49 MB, with the HTTP client it carries
// for OIDC tokens) took 64 ms after Node's own 32 ms start, and @actions/github's as much again, so these
// few lines let the first line out at once and the libraries load after it (action/step.ts).

/** An input as @actions/core's getInput reads it: INPUT_<NAME> (spaces as _, upper case), trimmed. */
export function input(name: string, env: NodeJS.ProcessEnv = process.env): string {
  return (env[`INPUT_${name.replace(/ /g, "_").toUpperCase()}`] ?? "").trim();
}

/** A command's data, escaped as the runner reads it back (%, CR and LF). */
function escapeData(s: string): string {
  return s.replace(/%/g, "%25").replace(/\r/g, "%0D").replace(/\n/g, "%0A");
}

/** The ::add-mask:: command: the runner blanks the value wherever it appears in the log from now on. */
export function maskCommand(secret: string): string {
  return `::add-mask::${escapeData(secret)}\n`;
}

/**
 * Writes lines to the log, as one write, and resolves once they are out. Node writes to a pipe (the
 * runner's) asynchronously: a write followed by loading the libraries left the line waiting for the load
 * (85-125 ms to the first line instead of 36 ms).
 */
export function print(text: string): Promise<void> {
  return new Promise((resolve) => process.stdout.write(text, () => resolve()));
}
