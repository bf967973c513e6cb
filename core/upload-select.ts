// What of a directory goes into a binary input: `.git` left out and the context's .dockerignore honoured
// (the Dockerfile and .dockerignore themselves always go, as docker build sends them).
import dockerignoreModule from "@balena/dockerignore";
import { existsSync, lstatSync, readdirSync, readFileSync } from "node:fs";
import { join, posix } from "node:path";

// A CommonJS module whose typings describe an ES default export: take the factory either way.
const dockerignore = ((dockerignoreModule as unknown as { default?: unknown }).default ?? dockerignoreModule) as typeof dockerignoreModule.default;

/** What goes into the upload, with what its lstat said at selection time. */
export interface SelectedFile {
  path: string;
  size: number;
  mode: number;
  type: "file" | "symlink" | "directory";
}

/**
 * Lists what goes into the upload of a directory, as paths relative to it: the context directory, and the
 * Dockerfile wherever it is. The context's directories are entries too, as in docker's context (empty
 * ones, and their modes), each before what it holds. `files` lists files and links.
 */
export function selectFiles(dir: string, contextDir: string, dockerfile?: string): { files: string[]; bytes: number; entries: SelectedFile[] } {
  const ignoreFile = join(dir, contextDir, ".dockerignore");
  const rules = existsSync(ignoreFile) ? readFileSync(ignoreFile, "utf8") : "";
  const ig = dockerignore({ ignorecase: false }).add(rules);
  const prefix = contextDir === "." ? "" : `${contextDir}/`;
  const always = new Set([dockerfile, `${prefix}.dockerignore`].filter(Boolean) as string[]);
  const entries: SelectedFile[] = [];
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
      if (st.isDirectory()) {
        // A directory walked only for what a "!" rule re-includes is not itself in the context.
        const ignored = inContext && ig.ignores(posix.relative(prefix || ".", path) || ".");
        if ((inContext && !ignored) || path === contextDir) entries.push({ path, size: 0, mode: st.mode & 0o7777, type: "directory" });
        walk(path);
      } else if (st.isFile() || st.isSymbolicLink()) {
        // Sockets, pipes and devices have no content a build could use.
        entries.push({ path, size: st.isFile() ? st.size : 0, mode: st.mode & 0o7777, type: st.isFile() ? "file" : "symlink" });
        bytes += st.size;
      }
    }
  };
  walk("");
  return { files: entries.filter((e) => e.type !== "directory").map((e) => e.path), bytes, entries };
}

function readdirSorted(dir: string): string[] {
  // Sorted, so the same tree always gives the same tar.
  return readdirSync(dir).sort();
}
