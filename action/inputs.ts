// The action's inputs -> core's one request model. Pure: inputs, environment and the event come in as
// arguments, so the mapping is tested without a runner. Names follow `buildpod run`'s options.
import type { context } from "@actions/github";
import {
  FIELDS, imagesFromEnv, inputName, InputError, keyValues, layFields, parseBuildFile, parseGiven, parseMapping,
  type BuildRequest, type GivenField, type RequestField,
} from "../core/model.js";

/** The inputs that name a source: without any of them (and no build file's source), this repository at this commit. */
const SOURCE_INPUTS = ["git", "from-dir", "from-archive", "inline-dockerfile"];

/** What the action reads of the GitHub context. */
export interface GitHubContext {
  serverUrl?: string;
  repository?: string;
  sha?: string;
  /** The pushed head commit's time (ISO 8601), when the event says it and it is the commit at GITHUB_SHA. */
  commitTime?: string;
}

/** The parts of @actions/github's context the action reads (its `repo` throws outside a repository). */
export type RunContext = Pick<typeof context, "serverUrl" | "sha" | "payload">;

export function githubContext(ctx: RunContext, repository = process.env.GITHUB_REPOSITORY): GitHubContext {
  const head = ctx.payload.head_commit as { id?: unknown; timestamp?: unknown } | undefined;
  const commitTime = head && head.id === ctx.sha && typeof head.timestamp === "string" && !Number.isNaN(Date.parse(head.timestamp))
    ? new Date(head.timestamp).toISOString() : undefined;
  return { serverUrl: ctx.serverUrl, repository: repository || undefined, sha: ctx.sha || undefined, commitTime };
}

function lines(text: string): string[] {
  return text.split(/\r?\n/).map((l) => l.trim()).filter(Boolean);
}

function read(field: Pick<RequestField, "kind" | "lines">, text: string, input: string): unknown {
  switch (field.kind) {
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
      return lines(text).flatMap((l) => (field.lines ? [l] : l.split(","))).map((s) => s.trim()).filter(Boolean);
    case "map":
      return keyValues(lines(text).map((l) => l.replace(/^\s*([^=]*?)\s*=/, "$1=")), input, " (one per line)");
  }
}

/** The fields the inputs set (`get` returns "" for an input not given). A boolean false sets no fixed value. */
export function givenInputs(get: (name: string) => string): GivenField[] {
  const given: GivenField[] = [];
  for (const field of FIELDS) {
    const input = inputName(field);
    const text = get(input);
    if (text === "") continue;
    const value = read(field, text, input);
    if (field.value !== undefined && value === false) continue;
    given.push({ field, value: field.value !== undefined ? field.value : value, name: `input ${input}` });
  }
  return given;
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
  const given = givenInputs(get);

  const repoUrl = ctx.serverUrl && ctx.repository ? `${ctx.serverUrl.replace(/\/+$/, "")}/${ctx.repository}` : undefined;
  const fileSource = (base.source ?? {}) as Record<string, unknown>;
  const named = SOURCE_INPUTS.some((i) => get(i) !== "") || fileSource.git !== undefined || fileSource.binary !== undefined || fileSource.dockerfile !== undefined;
  const defaults: Record<string, unknown> = {};
  const labels: Record<string, string> = {};
  if (!named && repoUrl) {
    // This repository at this commit (or at the `ref` input).
    defaults.source = { git: { url: repoUrl, ref: ctx.sha } };
    labels["org.opencontainers.image.source"] = repoUrl;
    if (get("ref") === "" && ctx.sha) labels["org.opencontainers.image.revision"] = ctx.sha;
  } else if (get("from-dir") !== "" || get("from-archive") !== "") {
    // The workspace: this repository's checkout, as far as the action can tell.
    if (repoUrl) labels["org.opencontainers.image.source"] = repoUrl;
    if (ctx.sha) labels["org.opencontainers.image.revision"] = ctx.sha;
    if (ctx.commitTime) defaults.source = { sourceDateEpoch: Math.floor(Date.parse(ctx.commitTime) / 1000) };
  } else if (get("git") !== "") {
    labels["org.opencontainers.image.source"] = get("git");
    if (/^[0-9a-f]{40}$/.test(get("ref"))) labels["org.opencontainers.image.revision"] = get("ref");
  }
  // org.opencontainers.image.created comes from the build itself: the built commit's time (or the
  // upload's SOURCE_DATE_EPOCH), whatever the event; never the clock.
  if (Object.keys(labels).length) defaults.output = { labels };

  const raw = layFields([imagesFromEnv(env), defaults, base], given);
  return { req: parseGiven(raw, given, env), raw };
}
