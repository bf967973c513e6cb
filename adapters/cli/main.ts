// The `buildpod` command line: what Jenkins stages, Tekton steps and people call.
import { Command, CommanderError, Option } from "commander";
import { stringify as toYaml } from "yaml";
import { InputError, newRunId, parseRequest, render, VERSION } from "../../core/index.js";
import { EXIT } from "./exit.js";
import { addRequestOptions, nameTheFlag, requestInput } from "./options.js";

const EXIT_CODES_HELP = `
Exit codes:
  0  the build succeeded          3  the build pod never started
  1  the build failed             4  the build was cancelled
  2  invalid input                5  buildpod or cluster error`;

function program(out: (s: string) => void): Command {
  const cli = new Command("buildpod")
    .description("Build container images on your Kubernetes cluster, driven from the CI you already use.")
    .version(VERSION, "-V, --version")
    .addHelpText("after", EXIT_CODES_HELP)
    .showHelpAfterError("(run with --help for usage)")
    .exitOverride();

  const renderCmd = cli
    .command("render")
    .description("print the Job (or Pod) a build would create, without a cluster")
    .addOption(new Option("-o, --output <format>", "output format").choices(["yaml", "json"]).default("yaml"))
    .option("--id <id>", "run id appended to the build name (default: random)")
    .addHelpText("after", `
Examples:
  buildpod render --git https://github.com/org/app --ref main -t registry.example.com/org/app:1.0
  buildpod render --from-dir . --builder kaniko -t registry.example.com/org/app:dev -o json
  buildpod render --strategy source --builder-image registry.example.com/s2i/python:3.12 --incremental \\
    --git https://github.com/org/app -t registry.example.com/org/app:latest
  buildpod render -f buildpod.yaml --tag latest --build-arg VERSION=1.2.3 | kubectl apply -f -`)
    .exitOverride()
    .action((opts: Record<string, unknown>) => {
      const { raw, flagFor } = requestInput(opts);
      let req;
      try {
        req = parseRequest(raw);
      } catch (err) {
        throw err instanceof InputError ? nameTheFlag(err, flagFor) : err;
      }
      const id = (opts.id as string | undefined) ?? newRunId();
      if (!/^[a-z0-9]{1,12}$/.test(id)) throw new InputError("--id", `"${id}" must be 1 to 12 lower-case letters or digits`);
      const obj = render(req, { id });
      out(opts.output === "json" ? JSON.stringify(obj, null, 2) + "\n" : toYaml(obj, { lineWidth: 0 }));
    });
  addRequestOptions(renderCmd);
  return cli;
}

/** Runs the command line; resolves with the exit code. Never throws. */
export async function main(argv: string[], io = { out: (s: string) => process.stdout.write(s), err: (s: string) => process.stderr.write(s) }): Promise<number> {
  const cli = program(io.out);
  cli.configureOutput({ writeOut: io.out, writeErr: io.err });
  try {
    await cli.parseAsync(argv, { from: "user" });
    return EXIT.ok;
  } catch (err) {
    if (err instanceof CommanderError) {
      return err.exitCode === 0 ? EXIT.ok : EXIT.invalidInput;
    }
    if (err instanceof InputError) {
      io.err(`buildpod: error: ${err.message}\n`);
      return EXIT.invalidInput;
    }
    const message = err instanceof Error ? err.message : String(err);
    io.err(`buildpod: internal error: ${message}\n`);
    if (process.env.BUILDPOD_DEBUG && err instanceof Error) io.err(`${err.stack}\n`);
    return EXIT.error;
  }
}
