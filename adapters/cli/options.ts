// The request options every build command takes, as data: flag, help, and the build-file field it
// sets. Flags are laid over the build file, then the result is validated by core's parseRequest.
import { readFileSync } from "node:fs";
import { Option, type Command } from "commander";
import { imagesFromEnv, InputError, mergeInput, parseBuildFile, parseMapping, parseRequest, setPath, type BuildRequest } from "../../core/model.js";

/** object: a JSON or YAML mapping given whole, which replaces the build file's (no merge key by key). */
type Kind = "string" | "boolean" | "map" | "list" | "object";

interface RequestOption {
  flags: string;
  help: string;
  /** Dotted build-file path the option sets. */
  path: string;
  kind: Kind;
  /** A fixed value to set (for flags such as --pod). */
  value?: unknown;
  group: string;
}

const opt = (group: string, flags: string, path: string, kind: Kind, help: string, value?: unknown): RequestOption =>
  ({ group, flags, path, kind, help, value });

export const REQUEST_OPTIONS: RequestOption[] = [
  opt("Build", "--name <name>", "name", "string", "build name, shared by its runs (default: the image's repository name)"),
  opt("Build", "-n, --namespace <namespace>", "namespace", "string", "namespace to build in (default: default)"),
  opt("Build", "--pod", "workload", "boolean", "create a bare Pod instead of a Job", "pod"),
  opt("Build", "--build-label <key=value>", "labels", "map", "Kubernetes label on the build's Job and Pod (repeatable)"),
  opt("Source", "--git <url>", "source.git.url", "string", "Git repository to build"),
  opt("Source", "--ref <ref>", "source.git.ref", "string", "branch, tag or commit to build (default: the default branch)"),
  opt("Source", "--source-secret <secret>", "source.git.secret", "string", "Secret with Git credentials (basic-auth or ssh-auth)"),
  opt("Source", "--from-dir <dir>", "source.binary.dir", "string", "upload a local directory as the source"),
  opt("Source", "--from-archive <file>", "source.binary.archive", "string", "upload a .tar or .tar.gz file as the source"),
  opt("Source", "--context <dir>", "source.contextDir", "string", "directory in the source to build (default: .)"),
  opt("Source", "--inline-dockerfile <text>", "source.dockerfile", "string", "Dockerfile content to use instead of a file"),
  opt("Source", "--source-date-epoch <seconds>", "source.sourceDateEpoch", "string", "fixed SOURCE_DATE_EPOCH (default: the commit time; 0 for uploads)"),
  opt("Strategy", "--strategy <type>", "strategy.type", "string", "docker, source (S2I) or custom (default: docker)"),
  opt("Strategy", "--builder <name>", "strategy.builder", "string", "docker strategy builder: buildah, buildkit, kaniko or docker (default: buildah)"),
  opt("Strategy", "-d, --dockerfile <path>", "strategy.dockerfile", "string", "Dockerfile path from the source root (default: <context>/Dockerfile)"),
  opt("Strategy", "--target <stage>", "strategy.target", "string", "Dockerfile stage to build"),
  opt("Strategy", "--build-arg <key=value>", "strategy.buildArgs", "map", "build argument (repeatable)"),
  opt("Strategy", "--builder-image <image>", "strategy.builderImage", "string", "S2I builder image, custom builder image, or a replacement for the docker builder's image"),
  opt("Strategy", "--allow-docker-socket", "strategy.allowDockerSocket", "boolean", "accept using the node's Docker socket (root on the node)"),
  opt("Strategy", "--incremental", "strategy.incremental", "boolean", "S2I: restore the artifacts saved by the previous image"),
  opt("Strategy", "--scripts-url <url>", "strategy.scriptsUrl", "string", "S2I: scripts location (image:///path; default: the builder image's label)"),
  opt("Strategy", "-e, --env <key=value>", "strategy.env", "map", "environment for S2I or custom builds (repeatable)"),
  opt("Strategy", "--expose-docker-socket", "strategy.exposeDockerSocket", "boolean", "custom: mount the node's Docker socket (needs --allow-docker-socket)"),
  opt("Output", "-t, --image <image>", "output.image", "string", "image to push, e.g. registry.example.com/team/app:1.0"),
  opt("Output", "--tag <tag>", "output.tags", "list", "extra tag or full reference to push too (repeatable)"),
  opt("Output", "--push-secret <secret>", "output.pushSecret", "string", "kubernetes.io/dockerconfigjson Secret to push with"),
  opt("Output", "--insecure-registry", "output.insecure", "boolean", "the registry is plain HTTP or has an unverifiable certificate"),
  opt("Output", "--label <key=value>", "output.labels", "map", "image label (repeatable)"),
  opt("Output", "--cache <repository>", "cache.repository", "string", "registry repository for the layer cache (docker strategy; reached like the image: --insecure-registry, --push-secret)"),
  opt("Output", "--cache-mode <mode>", "cache.mode", "string", "read-write: reuse and update the cache; read: reuse only (default: read-write)"),
  opt("Resources", "--cpu-request <cpu>", "resources.requests.cpu", "string", "CPU request, e.g. 500m"),
  opt("Resources", "--cpu-limit <cpu>", "resources.limits.cpu", "string", "CPU limit, e.g. 2"),
  opt("Resources", "--memory-request <memory>", "resources.requests.memory", "string", "memory request, e.g. 1Gi"),
  opt("Resources", "--memory-limit <memory>", "resources.limits.memory", "string", "memory limit, e.g. 4Gi"),
  opt("Resources", "--timeout <duration>", "timeout", "string", "how long the build may run, e.g. 30m (default: 1h)"),
  opt("Resources", "--start-timeout <duration>", "startTimeout", "string", "how long the pod may take to start (default: 5m)"),
  opt("Resources", "--upload-timeout <duration>", "uploadTimeout", "string", "how long uploading --from-dir or --from-archive may take (default: 10m)"),
  opt("Resources", "--delete-after <duration>", "deleteAfter", "string", "delete the finished build after this long (default: 1h)"),
  opt("Scheduling", "--node-selector <key=value>", "scheduling.nodeSelector", "map", "node label the build must run on (repeatable)"),
  opt("Scheduling", "--toleration <key[=value][:effect]>", "scheduling.tolerations", "list", "taint the build tolerates (repeatable)"),
  opt("Scheduling", "--service-account <name>", "scheduling.serviceAccountName", "string", "service account of the build pod"),
  opt("Scheduling", "--priority-class <name>", "scheduling.priorityClassName", "string", "priority class of the build pod"),
  opt("Scheduling", "--runtime-class <name>", "scheduling.runtimeClassName", "string", "runtime class of the build pod"),
  opt("Scheduling", "--affinity <json>", "scheduling.affinity", "object", "node and pod affinity: a Kubernetes Affinity as JSON or YAML (replaces the build file's scheduling.affinity)"),
  opt("Images", "--source-image <image>", "images.source", "string", "image with git, tar and a shell for the source container (env BUILDPOD_IMAGE_SOURCE)"),
  opt("Images", "--buildah-image <image>", "images.buildah", "string", "buildah image, for docker and S2I builds (env BUILDPOD_IMAGE_BUILDAH)"),
  opt("Images", "--buildkit-image <image>", "images.buildkit", "string", "rootless BuildKit image (env BUILDPOD_IMAGE_BUILDKIT)"),
  opt("Images", "--kaniko-image <image>", "images.kaniko", "string", "kaniko executor image (env BUILDPOD_IMAGE_KANIKO)"),
  opt("Images", "--docker-image <image>", "images.docker", "string", "docker CLI image (env BUILDPOD_IMAGE_DOCKER)"),
];

/**
 * Build-file fields with no flag, each with the reason. A field in neither REQUEST_OPTIONS nor here fails
 * the flags test: a new model field needs a flag or a reason.
 */
export const FILE_ONLY: Record<string, string> = {};

function collect(value: string, previous: string[] | undefined): string[] {
  return [...(previous ?? []), value];
}

export function addRequestOptions(cmd: Command): Command {
  cmd.addOption(new Option("-f, --file <path>", "build file (YAML or JSON); flags override it").helpGroup("Build:"));
  for (const o of REQUEST_OPTIONS) {
    const option = new Option(o.flags, o.help).helpGroup(`${o.group}:`);
    if (o.kind === "map" || o.kind === "list") option.argParser(collect);
    cmd.addOption(option);
  }
  return cmd;
}

/** The option's key in commander's parsed object: "--build-arg" -> "buildArg". */
function attribute(o: RequestOption): string {
  const long = /--([a-z0-9-]+)/.exec(o.flags)![1];
  return long.replace(/-([a-z0-9])/g, (_, c: string) => c.toUpperCase());
}

function flagName(o: RequestOption): string {
  return /--[a-z0-9-]+/.exec(o.flags)![0];
}



function keyValues(items: string[], flag: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const item of items) {
    const eq = item.indexOf("=");
    if (eq <= 0) throw new InputError(flag, `"${item}" is not KEY=VALUE`);
    out[item.slice(0, eq)] = item.slice(eq + 1);
  }
  return out;
}

export interface RequestInput {
  raw: Record<string, unknown>;
  /** Build-file paths set by flags, with the flag that set them: to name the flag in errors. */
  flagFor: Map<string, string>;
}

/** Reads the build file (if any) and lays the flags over it. */
export function requestInput(parsed: Record<string, unknown>): RequestInput {
  let base: Record<string, unknown> = {};
  const file = parsed.file as string | undefined;
  if (file) {
    let text: string;
    try {
      text = readFileSync(file, "utf8");
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      throw new InputError("--file", code === "ENOENT" ? `${file} does not exist` : `cannot read ${file} (${code ?? String(err)})`);
    }
    base = parseBuildFile(text, file);
  }
  const over: Record<string, unknown> = {};
  const whole: [string, unknown][] = [];
  const flagFor = new Map<string, string>();
  for (const o of REQUEST_OPTIONS) {
    const v = parsed[attribute(o)];
    if (v === undefined) continue;
    const value = o.kind === "map" ? keyValues(v as string[], flagName(o))
      : o.kind === "object" ? parseMapping(v as string, flagName(o))
      : o.value !== undefined ? o.value : v;
    setPath(over, o.path, value);
    if (o.kind === "object") whole.push([o.path, value]);
    flagFor.set(o.path, flagName(o));
  }
  const raw = mergeInput(mergeInput(imagesFromEnv(process.env), base), over);
  for (const [path, value] of whole) setPath(raw, path, value);
  return { raw, flagFor };
}

/** Rewrites an error about a field set by a flag so that it names the flag the user typed. */
export function nameTheFlag(err: InputError, flagFor: Map<string, string>): InputError {
  for (const [path, flag] of flagFor) {
    if (err.field === path || err.field.startsWith(`${path}.`) || err.field.startsWith(`${path}[`)) {
      return new InputError(`${flag} (${err.field})`, err.problem);
    }
  }
  return err;
}

/** The validated request from the build file and flags; errors name the flag that set the field. */
export function requestFromFlags(parsed: Record<string, unknown>): { req: BuildRequest; raw: Record<string, unknown> } {
  const { raw, flagFor } = requestInput(parsed);
  try {
    return { req: parseRequest(raw), raw };
  } catch (err) {
    throw err instanceof InputError ? nameTheFlag(err, flagFor) : err;
  }
}
