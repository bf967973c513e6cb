// Entry of the `buildpod` bundle.
import { main } from "./main.js";

// A closed pipe (`buildpod render | head`) is the reader saying it has enough.
process.stdout.on("error", (err: NodeJS.ErrnoException) => {
  if (err.code === "EPIPE") process.exit(process.exitCode ?? 0);
  throw err;
});

process.exitCode = await main(process.argv.slice(2));
