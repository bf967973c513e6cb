// Binary input: the source from the CI workspace, as a gzipped tar stream. A directory is packed with
// `.git` left out and the context's .dockerignore honoured (the Dockerfile and .dockerignore themselves
// always go, as docker build sends them); an archive goes as it is, gzipped on the way if it is not.
import dockerignoreModule from "@balena/dockerignore";
import { closeSync, createReadStream, existsSync, lstatSync, openSync, readdirSync, readFileSync, readSync, statSync } from "node:fs";
import { join, posix } from "node:path";
import type { Readable } from "node:stream";
import { createGzip } from "node:zlib";
import { create as createTar } from "tar";
import { InputError } from "./errors.js";
import type { BinarySource } from "./request.js";

// A CommonJS module whose typings describe an ES default export: take the factory either way.
const dockerignore = ((dockerignoreModule as unknown as { default?: unknown }).default ?? dockerignoreModule) as typeof dockerignoreModule.default;

export interface Packed {
  stream: Readable;
  /** Bytes of input to read (files, or the archive), for progress. */
  inputBytes: number;
  files: number;
}

/** Lists what goes into the upload of a directory, as paths relative to it: the context directory, and the
 * Dockerfile wherever it is. */
export function selectFiles(dir: string, contextDir: string, dockerfile?: string): { files: string[]; bytes: number } {
  const ignoreFile = join(dir, contextDir, ".dockerignore");
  const rules = existsSync(ignoreFile) ? readFileSync(ignoreFile, "utf8") : "";
  const ig = dockerignore({ ignorecase: false }).add(rules);
  const prefix = contextDir === "." ? "" : `${contextDir}/`;
  const always = new Set([dockerfile, `${prefix}.dockerignore`].filter(Boolean) as string[]);
  const files: string[] = [];
  let bytes = 0;
  const walk = (rel: string) => {
    const abs = rel ? join(dir, rel) : dir;
    for (const entry of readdirSorted(abs)) {
      const path = rel ? `${rel}/${entry}` : entry;
      if (entry === ".git") continue;
      const inContext = prefix === "" || path.startsWith(prefix);
      // lstat: a symbolic link goes into the tar as a link, never followed (a link to a parent would loop).
      const st = lstatSync(join(dir, path), { throwIfNoEntry: false });
      if (!st) continue;
      if (!inContext) {
        // Outside the context only the Dockerfile goes, and the directories that lead to it or to the context.
        const leads = (target: string | undefined) => !!target && target.startsWith(`${path}/`);
        if (st.isDirectory() ? !leads(prefix) && !leads(dockerfile) : path !== dockerfile) continue;
      } else if (!always.has(path)) {
        const relToContext = posix.relative(prefix || ".", path) || ".";
        // A directory is skipped whole only when nothing under it can be re-included by a "!" rule.
        if (ig.ignores(relToContext) && (!st.isDirectory() || !rules.includes("!"))) continue;
      }
      if (st.isDirectory()) walk(path);
      else {
        files.push(path);
        bytes += st.size;
      }
    }
  };
  walk("");
  return { files, bytes };
}

function readdirSorted(dir: string): string[] {
  // Sorted, so the same tree always gives the same tar.
  return readdirSync(dir).sort();
}

function isGzip(path: string): boolean {
  const fd = openSync(path, "r");
  try {
    const head = Buffer.alloc(2);
    return readSync(fd, head, 0, 2, 0) === 2 && head[0] === 0x1f && head[1] === 0x8b;
  } finally {
    closeSync(fd);
  }
}

/** Packs the binary input for upload. Throws InputError when the path is not what it claims to be. */
export function pack(source: BinarySource, contextDir: string, dockerfile?: string): Packed {
  const st = statSync(source.path, { throwIfNoEntry: false });
  if (source.format === "directory") {
    if (!st?.isDirectory()) throw new InputError("source.binary.dir", `${source.path} is not a directory`);
    if (!existsSync(join(source.path, contextDir))) throw new InputError("source.contextDir", `${contextDir} is not a directory in ${source.path}`);
    const { files, bytes } = selectFiles(source.path, contextDir, dockerfile);
    const tar = createTar({ gzip: { level: 1 }, cwd: source.path, portable: true, noDirRecurse: true, mtime: new Date(0) }, files);
    return { stream: tar as unknown as Readable, inputBytes: bytes, files: files.length };
  }
  if (!st?.isFile()) throw new InputError("source.binary.archive", `${source.path} is not a file`);
  const file = createReadStream(source.path);
  const stream = isGzip(source.path) ? file : file.pipe(createGzip({ level: 1 }));
  return { stream, inputBytes: st.size, files: 1 };
}
