// The `buildpod` command line: what Jenkins stages, Tekton steps and people call.
import { once } from "node:events";
import { Command, CommanderError, Option } from "commander";
import { VERSION } from "../../core/version.js";
import { importPart } from "../../core/lazy.js";
import type { IO } from "./commands.js";
import type { runClusterCommand } from "./cluster.js";
import { reportError } from "./errors.js";
import { EXIT } from "./exit.js";
import { addRequestOptions } from "./options.js";

/**
 * This module declares the commands; what they do is loaded when one runs. The cluster commands live in
 * their own bundle (dist/cli-cluster): render, help and --version start without parsing the cluster
 * client. Run from compiled sources, they are a sibling. `render` (the renderer, YAML) is a chunk of this
 * bundle, loaded by its action.
 */
async function clusterCommand(...a: Parameters<typeof runClusterCommand>): Promise<number> {
  const mod = await importPart<typeof import("./cluster.js")>(import.meta.url, "/dist/cli/index.js", "../cli-cluster/index.js", "./cluster.js");
  return mod.runClusterCommand(...a);
}

const EXIT_CODES_HELP = `
Exit codes:
  0  the build succeeded          3  the build pod never started
  1  the build failed             4  the build was cancelled
  2  invalid input                5  buildpod or cluster error`;

function clusterOptions(cmd: Command): Command {
  return cmd
    .addOption(new Option("--kubeconfig <file>", "kubeconfig to use (default: KUBECONFIG, ~/.kube/config, or the in-cluster service account)").helpGroup("Cluster:"))
    .addOption(new Option("--kube-context <name>", "kubeconfig context to use").helpGroup("Cluster:"));
}

function program(io: IO, setExit: (code: number) => void): Command {
  const out = io.out;
  const cli = new Command("buildpod")
    .description("Build container images on your Kubernetes cluster, driven from the CI you already use.")
    .version(VERSION, "-V, --version")
    .addHelpText("after", EXIT_CODES_HELP)
    .exitOverride();

  const renderCmd = cli
    .command("render")
    .description("print the Job (or Pod) a build would create, without a cluster (for several platforms, each Job)")
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
    .action(async (opts: Record<string, unknown>) => (await import("./render.js")).renderCommand(opts, io));
  addRequestOptions(renderCmd);

  const runCmd = cli
    .command("run")
    .description("run a build on the cluster, follow it live, and report the pushed image and digest")
    .addOption(new Option("-o, --output <format>", "text: logs on stdout; json: the result as JSON on stdout, logs on stderr").choices(["text", "json"]).default("text"))
    .option("--result-file <file>", "write the result as JSON to this file (also when the build fails)")
    // Not --env-file: node takes that flag for itself wherever it appears on the command line.
    .option("--result-env-file <file>", "write the result as KEY=VALUE lines to this file (for readProperties or shell)")
    .option("--no-logs", "do not print the containers' logs")
    .option("--no-preflight", "skip the checks of access, namespace, secrets and Pod Security")
    .addHelpText("after", `
Examples:
  buildpod run --from-dir . -t registry.example.com/org/app:dev
  buildpod run --git https://github.com/org/app --ref main -t registry.example.com/org/app:1.0 --result-file result.json
${EXIT_CODES_HELP}`)
    .exitOverride()
    .action(async (opts: Record<string, unknown>) => setExit(await clusterCommand("runCommand", [opts], io)));
  clusterOptions(addRequestOptions(runCmd));

  const logsCmd = cli
    .command("logs <build>")
    .description("print the logs of a build (the Job or Pod name that run printed)")
    .option("-f, --follow", "follow the build live until it ends")
    .option("-n, --namespace <namespace>", "namespace of the build")
    .exitOverride()
    .action(async (name: string, opts: Record<string, unknown>) => setExit(await clusterCommand("logsCommand", [name, opts], io)));
  clusterOptions(logsCmd);

  const cancelCmd = cli
    .command("cancel <build>")
    .description("stop a build and delete its Job and pod")
    .option("-n, --namespace <namespace>", "namespace of the build")
    .exitOverride()
    .action(async (name: string, opts: Record<string, unknown>) => setExit(await clusterCommand("cancelCommand", [name, opts], io)));
  clusterOptions(cancelCmd);

  const pruneCmd = cli
    .command("prune")
    .description("delete finished builds beyond the newest of each build name, and orphaned ones")
    .option("-n, --namespace <namespace>", "namespace of the builds")
    .option("--keep-successful <n>", "successful builds to keep per build name", "5")
    .option("--keep-failed <n>", "failed builds to keep per build name", "5")
    .option("--older-than <duration>", "only delete builds that finished at least this long ago", "0s")
    .option("--orphans", "also delete running builds whose buildpod process on this machine has exited")
    .option("--dry-run", "say what would be deleted, delete nothing")
    .exitOverride()
    .action(async (opts: Record<string, unknown>) => setExit(await clusterCommand("pruneCommand", [opts], io)));
  clusterOptions(pruneCmd);
  return cli;
}

const stdio: IO = {
  out: (s) => void process.stdout.write(s),
  err: (s) => void process.stderr.write(s),
  drained: (name) => {
    const stream = name === "out" ? process.stdout : process.stderr;
    return stream.writableNeedDrain ? once(stream, "drain").then(() => undefined) : undefined;
  },
};

const ARGUMENT_ERRORS = new Set([
  "commander.unknownOption", "commander.unknownCommand", "commander.optionMissingArgument", "commander.invalidArgument",
  "commander.missingArgument", "commander.excessArguments", "commander.missingMandatoryOptionValue", "commander.conflictingOption",
  "commander.error",
]);

/** "--output" from "-o, --output <format>". */
function longFlag(flags: string): string {
  return /--[\w-]+/.exec(flags)?.[0] ?? flags.split(/[ ,]/)[0];
}

/**
 * Commander's parse error as buildpod's one line, "<what>: <problem>", from its message: commander's
 * own text is the fallback when a message has a form this does not know.
 */
function parseErrorLine(err: CommanderError, cmd: Command): string {
  const [first, ...rest] = err.message.replace(/^error: /, "").split("\n");
  const suggestion = /^\(Did you mean (.+)\?\)$/.exec(rest.join(" ").trim())?.[1];
  const didYouMean = suggestion ? ` (did you mean ${suggestion}?)` : "";
  const usage = `usage: ${[cmd.parent ? "buildpod" : "", cmd.name(), cmd.usage()].filter(Boolean).join(" ")}`;
  let m: RegExpExecArray | null;
  switch (err.code) {
    case "commander.unknownOption":
      if ((m = /unknown option '(.+)'$/.exec(first))) return `${m[1]}: unknown option${didYouMean}`;
      break;
    case "commander.unknownCommand":
      // All five commands say more than commander's guess, which can be far off ("bogus": logs?).
      if ((m = /unknown command '(.+)'$/.exec(first))) return `${m[1]}: unknown command; the commands are ${cmd.commands.map((c) => c.name()).join(", ")}`;
      break;
    case "commander.optionMissingArgument":
      if ((m = /option '(.+)' argument missing$/.exec(first))) return `${longFlag(m[1])}: needs a value, as in ${m[1].replace(/^-\w, /, "")}`;
      break;
    case "commander.invalidArgument":
      if ((m = /option '(.+)' argument '(.*)' is invalid\. Allowed choices are (.+)\.$/.exec(first))) {
        return `${longFlag(m[1])}: unknown value ${JSON.stringify(m[2])}; choose one of ${m[3]}`;
      }
      break;
    case "commander.missingArgument":
      if ((m = /missing required argument '(.+)'$/.exec(first))) return `${cmd.name()}: the argument <${m[1]}> is missing; ${usage}`;
      break;
    case "commander.excessArguments":
      if ((m = /got \d+: (.+)\.$/.exec(first))) return `${cmd.name()}: too many arguments (${m[1]}); ${usage}`;
      break;
  }
  return `${first}${didYouMean}`;
}

/** Runs the command line; resolves with the exit code. Never throws. */
export async function main(argv: string[], io: IO = stdio): Promise<number> {
  let code: number = EXIT.ok;
  const cli = program(io, (c) => (code = c));
  // Commander prints its parse errors itself; each command instead records that it failed, and the
  // error is reported below in buildpod's form.
  let failed = cli;
  for (const cmd of [cli, ...cli.commands]) {
    cmd.configureOutput({ writeOut: io.out, writeErr: io.err, outputError: () => void (failed = cmd) });
  }
  try {
    await cli.parseAsync(argv, { from: "user" });
    return code;
  } catch (err) {
    if (err instanceof CommanderError) {
      if (ARGUMENT_ERRORS.has(err.code)) {
        const name = failed.parent ? `buildpod ${failed.name()}` : "buildpod";
        io.err(`buildpod: error: ${parseErrorLine(err, failed)}\n(see ${name} --help)\n`);
      }
      return err.exitCode === 0 ? EXIT.ok : EXIT.invalidInput;
    }
    return reportError(err, io.err);
  }
}
