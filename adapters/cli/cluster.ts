// Entry of the second bundle: the commands that talk to a cluster, loaded only when one of them runs, so
// that render, help and --version start without loading the cluster client.
import * as commands from "./commands.js";
import type { IO } from "./commands.js";
import { reportError } from "./errors.js";

type Command = "runCommand" | "logsCommand" | "cancelCommand" | "pruneCommand";

export async function runClusterCommand(name: Command, args: unknown[], io: IO): Promise<number> {
  try {
    return await (commands[name] as (...a: unknown[]) => Promise<number>)(...args, io);
  } catch (err) {
    return reportError(err, io.err);
  }
}
