// The strategy section: docker (and its builder), source-to-image, custom.
import { BUILDERS as BUILDER_RECORDS, buildersWhere, DEFAULT_BUILDER } from "../builders/index.js";
import { InputError } from "../errors.js";
import { envNameProblem } from "../names.js";
import { boolean, image, object, oneOf, type Raw, relativePath, required, secretName, string, stringMap } from "./read.js";
import { BUILDERS, type BuildSecret, type Source, STRATEGIES, type Strategy, type StrategyType } from "./types.js";

const STRATEGY_FIELDS: Record<StrategyType, readonly string[]> = {
  docker: ["type", "builder", "dockerfile", "target", "buildArgs", "builderImage", "allowDockerSocket", "secrets", "pullSecret"],
  source: ["type", "builderImage", "incremental", "scriptsUrl", "env", "pullSecret"],
  custom: ["type", "builderImage", "env", "exposeDockerSocket", "allowDockerSocket"],
};

/**
 * What the custom strategy sets in the builder's environment besides BUILDPOD_*: OpenShift's custom build
 * contract. These come after the user's env, so a user's value would be silently replaced.
 */
export const CUSTOM_CONTRACT_ENV = [
  "BUILD", "OUTPUT_REGISTRY", "OUTPUT_IMAGE", "SOURCE_REPOSITORY", "SOURCE_URI", "SOURCE_REF", "SOURCE_CONTEXT_DIR",
  "PUSH_DOCKERCFG_PATH", "DOCKER_CONFIG", "DOCKER_SOCKET",
] as const;

function userEnv(value: unknown, path: string): Record<string, string> {
  return stringMap(value, path, (key) =>
    envNameProblem(key) ?? (key.startsWith("BUILDPOD_") ? `"${key}": names starting with BUILDPOD_ are reserved` : undefined),
  );
}


const SECRET_FIELDS = ["id", "secret", "key"];

/** strategy.secrets: items "id=ID,secret=NAME[,key=KEY]" or mappings of the same fields. */
export function buildSecrets(value: unknown): BuildSecret[] {
  if (value === undefined || value === null) return [];
  if (!Array.isArray(value)) throw new InputError("strategy.secrets", "must be a list of id=ID,secret=NAME[,key=KEY]");
  const out: BuildSecret[] = [];
  value.forEach((item, i) => {
    const path = `strategy.secrets[${i}]`;
    let fields: Record<string, unknown>;
    if (typeof item === "string") {
      fields = {};
      for (const part of item.split(",").map((p) => p.trim()).filter(Boolean)) {
        const eq = part.indexOf("=");
        if (eq <= 0) throw new InputError(path, `"${part}" is not KEY=VALUE; write id=ID,secret=NAME[,key=KEY]`);
        fields[part.slice(0, eq)] = part.slice(eq + 1);
      }
    } else if (item && typeof item === "object" && !Array.isArray(item)) {
      fields = item as Record<string, unknown>;
    } else {
      throw new InputError(path, "must be id=ID,secret=NAME[,key=KEY] or a mapping of id, secret and key");
    }
    for (const key of Object.keys(fields)) {
      if (!SECRET_FIELDS.includes(key)) throw new InputError(`${path}.${key}`, `unknown field; a build secret has ${SECRET_FIELDS.join(", ")}`);
    }
    const id = required(string(fields.id, `${path}.id`), `${path}.id`, "the name RUN --mount=type=secret,id=ID uses");
    if (!/^[A-Za-z0-9._-]+$/.test(id)) throw new InputError(`${path}.id`, `"${id}" may hold only letters, digits, ".", "_" and "-"`);
    if (out.some((s) => s.id === id)) throw new InputError(`${path}.id`, `"${id}" is given twice`);
    const secret = required(secretName(fields.secret, `${path}.secret`), `${path}.secret`, "the Kubernetes Secret that holds it, in the build's namespace");
    const key = string(fields.key, `${path}.key`) || id;
    if (!/^[-._a-zA-Z0-9]+$/.test(key)) throw new InputError(`${path}.key`, `"${key}" is not a valid Secret key`);
    out.push({ id, secret, key });
  });
  return out;
}

export function parseStrategy(raw: Raw | undefined, source: Source): Strategy {
  const s = object(raw ?? {}, "strategy")!;
  const type = oneOf(s.type, "strategy.type", STRATEGIES) ?? "docker";
  for (const key of Object.keys(s)) {
    if (s[key] !== undefined && !STRATEGY_FIELDS[type].includes(key)) {
      const owners = STRATEGIES.filter((t) => STRATEGY_FIELDS[t].includes(key));
      throw new InputError(`strategy.${key}`, `does not apply to the ${type} strategy (it is for ${owners.join(" and ")})`);
    }
  }
  const builderImage = string(s.builderImage, "strategy.builderImage") || undefined;
  if (builderImage) image(builderImage, "strategy.builderImage", { allowDigest: true });
  if (type === "docker") {
    const builder = oneOf(s.builder, "strategy.builder", BUILDERS) ?? DEFAULT_BUILDER;
    const allowDockerSocket = boolean(s.allowDockerSocket, "strategy.allowDockerSocket") ?? false;
    if (BUILDER_RECORDS[builder].nodeDaemon && !allowDockerSocket) {
      throw new InputError("strategy.builder", `the ${builder} builder uses the node's Docker socket, which is root on that node; set strategy.allowDockerSocket (--allow-docker-socket) to accept that, or use ${DEFAULT_BUILDER}`);
    }
    const dockerfileDefault = source.contextDir === "." ? "Dockerfile" : `${source.contextDir}/Dockerfile`;
    const dockerfile = relativePath(string(s.dockerfile, "strategy.dockerfile") || dockerfileDefault, "strategy.dockerfile");
    const target = string(s.target, "strategy.target") || undefined;
    if (target !== undefined && !/^[A-Za-z0-9][A-Za-z0-9_.-]*$/.test(target)) {
      throw new InputError("strategy.target", `"${target}" is not a build stage name`);
    }
    const buildArgs = stringMap(s.buildArgs, "strategy.buildArgs", (k) => (/^[A-Za-z_][A-Za-z0-9_]*$/.test(k) ? undefined : `"${k}" is not a valid build argument name`));
    const secrets = buildSecrets(s.secrets);
    if (secrets.length && !BUILDER_RECORDS[builder].supports.secrets) {
      throw new InputError("strategy.secrets", `the ${builder} builder cannot mount build secrets into RUN steps; use ${buildersWhere((b) => b.supports.secrets).join(", ")}`);
    }
    const pullSecret = secretName(s.pullSecret, "strategy.pullSecret");
    return { type, builder, dockerfile, target, buildArgs, builderImage, allowDockerSocket, secrets, ...(pullSecret ? { pullSecret } : {}) };
  }
  if (type === "source") {
    const img = required(builderImage, "strategy.builderImage", "the S2I builder image (--builder-image)");
    const scriptsUrl = string(s.scriptsUrl, "strategy.scriptsUrl") || undefined;
    if (scriptsUrl !== undefined && !/^image:\/\/\/\S+$/.test(scriptsUrl)) {
      throw new InputError("strategy.scriptsUrl", `"${scriptsUrl}" is not supported: give the scripts' directory inside the builder image as image:///path`);
    }
    for (const [k, v] of Object.entries(s.env && typeof s.env === "object" && !Array.isArray(s.env) ? s.env : {})) {
      if (typeof v === "string" && /[\r\n]/.test(v)) throw new InputError(`strategy.env.${k}`, "must be a single line");
    }
    const pullSecret = secretName(s.pullSecret, "strategy.pullSecret");
    return {
      type, builderImage: img, scriptsUrl, env: userEnv(s.env, "strategy.env"),
      incremental: boolean(s.incremental, "strategy.incremental") ?? false,
      ...(pullSecret ? { pullSecret } : {}),
    };
  }
  const img = required(builderImage, "strategy.builderImage", "the custom builder image (--builder-image)");
  const exposeDockerSocket = boolean(s.exposeDockerSocket, "strategy.exposeDockerSocket") ?? false;
  const allowDockerSocket = boolean(s.allowDockerSocket, "strategy.allowDockerSocket") ?? false;
  if (exposeDockerSocket && !allowDockerSocket) {
    throw new InputError("strategy.exposeDockerSocket", "exposes the node's Docker socket, which is root on that node; set strategy.allowDockerSocket (--allow-docker-socket) to accept that");
  }
  const env = userEnv(s.env, "strategy.env");
  for (const name of Object.keys(env)) {
    if ((CUSTOM_CONTRACT_ENV as readonly string[]).includes(name)) {
      throw new InputError(`strategy.env.${name}`, `"${name}" is set by buildpod for the custom builder (OpenShift's custom build contract), so your value would be replaced; use another name`);
    }
  }
  return { type, builderImage: img, env, exposeDockerSocket, allowDockerSocket };
}
