// Entry of the `buildpod` bundle.
import { enableCompileCache } from "node:module";
import { main } from "./main.js";

// Part of a cluster command's start-up is V8 compiling its bundle; where the command runs again (CI
// agents, a developer's machine) the compiled code is reused from the temp dir.
// NODE_DISABLE_COMPILE_CACHE=1 turns this off.
enableCompileCache?.();

// A closed pipe (`buildpod render | head`) is the reader saying it has enough.
process.stdout.on("error", (err: NodeJS.ErrnoException) => {
  if (err.code === "EPIPE") process.exit(process.exitCode ?? 0);
  throw err;
});

process.exitCode = await main(process.argv.slice(2));
