// The source section: Git, a binary input, an inline Dockerfile.
import { InputError } from "../errors.js";
import { object, type Raw, relativePath, required, secretName, string, wholeNumber } from "./read.js";
import { type BinarySource, DEFAULTS, type GitSource, type Source } from "./types.js";

export function parseSource(raw: Raw | undefined): Source {
  const src = object(raw ?? {}, "source")!;
  const gitRaw = object(src.git, "source.git");
  const binRaw = object(src.binary, "source.binary");
  const dockerfile = string(src.dockerfile, "source.dockerfile");
  const contextDir = relativePath(string(src.contextDir, "source.contextDir") ?? DEFAULTS.contextDir, "source.contextDir");
  let git: GitSource | undefined;
  let binary: BinarySource | undefined;
  if (gitRaw) {
    const url = required(string(gitRaw.url, "source.git.url"), "source.git.url", "the repository to clone");
    if (!/^(https?:\/\/|git:\/\/|ssh:\/\/|file:\/\/)\S+$/.test(url) && !/^[\w.-]+@[\w.-]+:\S+$/.test(url)) {
      throw new InputError("source.git.url", `"${url}" is not a Git URL (https://, ssh://, git:// or user@host:path)`);
    }
    if (/^https?:\/\/[^/@]*:[^/@]*@/.test(url)) {
      throw new InputError("source.git.url", "must not carry a password; put credentials in a Secret and name it in source.git.secret");
    }
    const ref = string(gitRaw.ref, "source.git.ref") || undefined;
    if (ref !== undefined && (/\s/.test(ref) || ref.startsWith("-") || ref.includes(".."))) {
      throw new InputError("source.git.ref", `"${ref}" is not a valid branch, tag or commit`);
    }
    const depth = wholeNumber(gitRaw.depth, "source.git.depth", 0, 2 ** 31 - 1, "a number of commits, or 0 for the full history") ?? 1;
    git = { url, ref, secret: secretName(gitRaw.secret, "source.git.secret"), depth };
  }
  if (binRaw) {
    const dir = string(binRaw.dir, "source.binary.dir");
    const archive = string(binRaw.archive, "source.binary.archive");
    if (dir && archive) throw new InputError("source.binary", "give either dir or archive, not both");
    if (!dir && !archive) throw new InputError("source.binary", "give dir (a local directory) or archive (a .tar or .tar.gz file)");
    binary = dir ? { path: dir, format: "directory" } : { path: archive!, format: "archive" };
  }
  if (git && binary) throw new InputError("source", "give either a Git repository or a binary input, not both");
  if (!git && !binary && dockerfile === undefined) {
    throw new InputError("source", "is required: a Git repository (source.git.url, --git), a local directory or archive (--from-dir, --from-archive), or an inline Dockerfile");
  }
  // Builders read SOURCE_DATE_EPOCH as a decimal integer: no exponents, and no dates past year 9999.
  const sourceDateEpoch = wholeNumber(src.sourceDateEpoch, "source.sourceDateEpoch", 0, 253402300799, "a whole number of seconds since 1970, at most 253402300799 (the end of year 9999)");
  return { git, binary, dockerfile, contextDir, sourceDateEpoch };
}
