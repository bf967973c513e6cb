// The action's inputs -> core's one request model. Pure: inputs, environment and the event come in as
// arguments, so the mapping is tested without a runner. Names follow `buildpod run`'s options.
import { imagesFromEnv, InputError, mergeInput, parseBuildFile, parseMapping, parseRequest, setPath, type BuildRequest } from "../core/model.js";

/** object: a JSON or YAML mapping given whole, which replaces the build file's (no merge key by key). */
type Kind = "string" | "boolean" | "map" | "list" | "object";

/** Input name -> build-file path it sets, and how its text is read. */
export const REQUEST_INPUTS: [input: string, path: string, kind: Kind][] = [
  ["name", "name", "string"],
  ["namespace", "namespace", "string"],
  ["build-labels", "labels", "map"],
  ["git", "source.git.url", "string"],
  ["ref", "source.git.ref", "string"],
  ["source-secret", "source.git.secret", "string"],
  ["from-dir", "source.binary.dir", "string"],
  ["from-archive", "source.binary.archive", "string"],
  ["context", "source.contextDir", "string"],
  ["inline-dockerfile", "source.dockerfile", "string"],
  ["source-date-epoch", "source.sourceDateEpoch", "string"],
  ["strategy", "strategy.type", "string"],
  ["builder", "strategy.builder", "string"],
  ["dockerfile", "strategy.dockerfile", "string"],
  ["target", "strategy.target", "string"],
  ["build-args", "strategy.buildArgs", "map"],
  ["builder-image", "strategy.builderImage", "string"],
  ["allow-docker-socket", "strategy.allowDockerSocket", "boolean"],
  ["incremental", "strategy.incremental", "boolean"],
  ["scripts-url", "strategy.scriptsUrl", "string"],
  ["env", "strategy.env", "map"],
  ["expose-docker-socket", "strategy.exposeDockerSocket", "boolean"],
  ["image", "output.image", "string"],
  ["tags", "output.tags", "list"],
  ["push-secret", "output.pushSecret", "string"],
  ["insecure-registry", "output.insecure", "boolean"],
  ["labels", "output.labels", "map"],
  ["cache", "cache.repository", "string"],
  ["cache-mode", "cache.mode", "string"],
  ["cpu-request", "resources.requests.cpu", "string"],
  ["cpu-limit", "resources.limits.cpu", "string"],
  ["memory-request", "resources.requests.memory", "string"],
  ["memory-limit", "resources.limits.memory", "string"],
  ["timeout", "timeout", "string"],
  ["start-timeout", "startTimeout", "string"],
  ["upload-timeout", "uploadTimeout", "string"],
  ["delete-after", "deleteAfter", "string"],
  ["node-selector", "scheduling.nodeSelector", "map"],
  ["tolerations", "scheduling.tolerations", "list"],
  ["service-account", "scheduling.serviceAccountName", "string"],
  ["priority-class", "scheduling.priorityClassName", "string"],
  ["runtime-class", "scheduling.runtimeClassName", "string"],
  ["affinity", "scheduling.affinity", "object"],
  ["source-image", "images.source", "string"],
  ["buildah-image", "images.buildah", "string"],
  ["buildkit-image", "images.buildkit", "string"],
  ["kaniko-image", "images.kaniko", "string"],
  ["docker-image", "images.docker", "string"],
];

/** The inputs that name a source: without any of them (and no build file's source), this repository at this commit. */
const SOURCE_INPUTS = ["git", "from-dir", "from-archive", "inline-dockerfile"];

/** What the action reads of the GitHub context: the environment and the event payload. */
export interface GitHubContext {
  serverUrl?: string;
  repository?: string;
  sha?: string;
  /** The pushed head commit's time (ISO 8601), when the event says it and it is the commit at GITHUB_SHA. */
  commitTime?: string;
}

export function githubContext(env: NodeJS.ProcessEnv, event: unknown): GitHubContext {
  const head = (event as { head_commit?: { id?: unknown; timestamp?: unknown } } | undefined)?.head_commit;
  const commitTime = head && head.id === env.GITHUB_SHA && typeof head.timestamp === "string" && !Number.isNaN(Date.parse(head.timestamp))
    ? new Date(head.timestamp).toISOString() : undefined;
  return { serverUrl: env.GITHUB_SERVER_URL, repository: env.GITHUB_REPOSITORY, sha: env.GITHUB_SHA, commitTime };
}


function lines(text: string): string[] {
  return text.split(/\r?\n/).map((l) => l.trim()).filter(Boolean);
}

function read(kind: Kind, text: string, input: string): unknown {
  switch (kind) {
    case "string":
      return text;
    case "boolean": {
      const v = text.toLowerCase();
      if (v === "true" || v === "false") return v === "true";
      throw new InputError(input, `must be true or false, not "${text}"`);
    }
    case "object":
      return parseMapping(text, input);
    case "list":
      return lines(text).flatMap((l) => l.split(",")).map((s) => s.trim()).filter(Boolean);
    case "map": {
      const out: Record<string, string> = {};
      for (const l of lines(text)) {
        const eq = l.indexOf("=");
        if (eq <= 0) throw new InputError(input, `"${l}" is not KEY=VALUE (one per line)`);
        out[l.slice(0, eq).trim()] = l.slice(eq + 1);
      }
      return out;
    }
  }
}

export interface ActionRequest {
  req: BuildRequest;
  /** The build-file-shaped object parseRequest validated. */
  raw: Record<string, unknown>;
}

/**
 * The request from the inputs (`get` returns "" for an input not given), over a build file (input
 * `file`, read with `readFile`), over defaults from the GitHub context. Errors name the input.
 */
export function requestFromInputs(
  get: (name: string) => string,
  ctx: GitHubContext,
  env: NodeJS.ProcessEnv = {},
  readFile: (path: string) => string = () => "",
): ActionRequest {
  const file = get("file");
  const base = file ? parseBuildFile(readFile(file), file) : {};
  const over: Record<string, unknown> = {};
  const inputFor = new Map<string, string>();
  for (const [input, path, kind] of REQUEST_INPUTS) {
    const text = get(input);
    if (text === "") continue;
    setPath(over, path, read(kind, text, input));
    inputFor.set(path, input);
  }
  if (get("pod") !== "") {
    if (read("boolean", get("pod"), "pod")) setPath(over, "workload", "pod");
    inputFor.set("workload", "pod");
  }

  const repoUrl = ctx.serverUrl && ctx.repository ? `${ctx.serverUrl.replace(/\/+$/, "")}/${ctx.repository}` : undefined;
  const fileSource = (base.source ?? {}) as Record<string, unknown>;
  const named = SOURCE_INPUTS.some((i) => get(i) !== "") || fileSource.git !== undefined || fileSource.binary !== undefined || fileSource.dockerfile !== undefined;
  const defaults: Record<string, unknown> = {};
  const labels: Record<string, string> = {};
  if (!named && repoUrl) {
    // This repository at this commit (or at the `ref` input).
    setPath(defaults, "source.git", { url: repoUrl, ref: ctx.sha });
    labels["org.opencontainers.image.source"] = repoUrl;
    if (get("ref") === "" && ctx.sha) labels["org.opencontainers.image.revision"] = ctx.sha;
  } else if (get("from-dir") !== "" || get("from-archive") !== "") {
    // The workspace: this repository's checkout, as far as the action can tell.
    if (repoUrl) labels["org.opencontainers.image.source"] = repoUrl;
    if (ctx.sha) labels["org.opencontainers.image.revision"] = ctx.sha;
    if (ctx.commitTime) setPath(defaults, "source.sourceDateEpoch", Math.floor(Date.parse(ctx.commitTime) / 1000));
  } else if (get("git") !== "") {
    labels["org.opencontainers.image.source"] = get("git");
    if (/^[0-9a-f]{40}$/.test(get("ref"))) labels["org.opencontainers.image.revision"] = get("ref");
  }
  // org.opencontainers.image.created comes from the build itself: the built commit's time (or the
  // upload's SOURCE_DATE_EPOCH), whatever the event; never the clock.
  if (Object.keys(labels).length) setPath(defaults, "output.labels", labels);

  const raw = mergeInput(mergeInput(mergeInput(imagesFromEnv(env), defaults), base), over);
  for (const [input, path, kind] of REQUEST_INPUTS) if (kind === "object" && get(input) !== "") setPath(raw, path, read(kind, get(input), input));
  try {
    return { req: parseRequest(raw), raw };
  } catch (err) {
    if (!(err instanceof InputError)) throw err;
    for (const [path, input] of inputFor) {
      if (err.field === path || err.field.startsWith(`${path}.`) || err.field.startsWith(`${path}[`)) {
        throw new InputError(`input ${input} (${err.field})`, err.problem);
      }
    }
    throw err;
  }
}
