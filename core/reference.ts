// Image references, by the grammar of the distribution project's reference package.
const DOMAIN_COMPONENT = "(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])";
const DOMAIN = `(?:${DOMAIN_COMPONENT}(?:\\.${DOMAIN_COMPONENT})*|\\[[a-fA-F0-9:]+\\])(?::[0-9]+)?`;
const PATH_COMPONENT = "[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*";
const TAG = "[\\w][\\w.-]{0,127}";
const DIGEST = "[a-z0-9]+(?:[+._-][a-z0-9]+)*:[0-9a-fA-F]{32,}";

const DOMAIN_RE = new RegExp(`^${DOMAIN}$`);
const PATH_RE = new RegExp(`^${PATH_COMPONENT}(?:/${PATH_COMPONENT})*$`);
const TAG_RE = new RegExp(`^${TAG}$`);
const DIGEST_RE = new RegExp(`^${DIGEST}$`);

export interface ImageReference {
  /** The registry host as written, or "docker.io" when the reference names none. */
  registry: string;
  /** Repository path inside the registry, e.g. "team/app" (or "library/alpine" on Docker Hub). */
  repository: string;
  tag?: string;
  digest?: string;
}

/** Parses a reference, or returns the reason it is not one. */
export function parseReference(text: string): ImageReference | string {
  if (typeof text !== "string" || text.length === 0) return "is empty";
  if (text !== text.trim() || /\s/.test(text)) return "contains white space";
  let rest = text;
  let digest: string | undefined;
  const at = rest.indexOf("@");
  if (at >= 0) {
    digest = rest.slice(at + 1);
    rest = rest.slice(0, at);
    if (!DIGEST_RE.test(digest)) return `has an invalid digest "${digest}" (expected sha256:<64 hex digits>)`;
  }
  let tag: string | undefined;
  const lastSlash = rest.lastIndexOf("/");
  const colon = rest.lastIndexOf(":");
  if (colon > lastSlash) {
    tag = rest.slice(colon + 1);
    rest = rest.slice(0, colon);
    if (!TAG_RE.test(tag)) return `has an invalid tag "${tag}" (letters, digits, _ . -, at most 128, not starting with . or -)`;
  }
  if (rest.length > 255) return "has a name longer than 255 characters";
  const slash = rest.indexOf("/");
  let registry = "docker.io";
  let path = rest;
  if (slash >= 0) {
    const first = rest.slice(0, slash);
    if (first.includes(".") || first.includes(":") || first === "localhost" || first !== first.toLowerCase()) {
      if (!DOMAIN_RE.test(first)) return `has an invalid registry host "${first}"`;
      registry = first;
      path = rest.slice(slash + 1);
    }
  }
  if (!PATH_RE.test(path)) {
    return path !== path.toLowerCase()
      ? `has upper-case letters in the repository "${path}" (repository names are lower case)`
      : `has an invalid repository "${path}" (lower-case letters, digits and separators . _ - /)`;
  }
  if (registry === "docker.io" && !path.includes("/")) path = `library/${path}`;
  return { registry, repository: path, tag, digest };
}

/** Whether the text is an image tag (the part after ':'), for extra tags given without a repository. */
export function isTag(text: string): boolean {
  return TAG_RE.test(text);
}

/** The reference without its tag or digest: what an extra tag is appended to. */
export function repositoryOf(text: string): string {
  const noDigest = text.split("@")[0];
  const lastSlash = noDigest.lastIndexOf("/");
  const colon = noDigest.lastIndexOf(":");
  return colon > lastSlash ? noDigest.slice(0, colon) : noDigest;
}
