// The upload row's input: a deterministic source-like tree of 20,000 files and 200 MB, written once under
// /tmp and reused. Mostly text that reads like code (compressible, sizes from a few hundred bytes to tens of
// kilobytes) in nested directories, plus some incompressible binary files (images, archives).
import { existsSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";

export interface TreeSpec {
  files: number;
  bytes: number;
  binaryFiles: number;
  binaryBytes: number;
  dirs: number;
  /** Text and binary file sizes are drawn log-uniformly between these bounds, in bytes. */
  textSizes: [number, number];
  binarySizes: [number, number];
  seed: number;
}

export const TREE: TreeSpec = { files: 20_000, bytes: 200_000_000, binaryFiles: 400, binaryBytes: 40_000_000, dirs: 500,
  textSizes: [300, 40_000], binarySizes: [4_000, 500_000], seed: 6,
};

export interface Tree extends TreeSpec {
  path: string;
  /** Seconds spent writing it now, or 0 when it was already there. */
  generatedSeconds: number;
  description: string;
}

/** A small, fast, seeded generator (mulberry32): the same seed gives the same tree on every machine. */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Sizes drawn log-uniformly between lo and hi, then scaled so that they add up to total exactly. */
function sizes(n: number, total: number, lo: number, hi: number, rnd: () => number): number[] {
  const raw = Array.from({ length: n }, () => lo * Math.pow(hi / lo, rnd()));
  const k = total / raw.reduce((a, b) => a + b, 0);
  const out = raw.map((x) => Math.max(1, Math.floor(x * k)));
  out[0] += total - out.reduce((a, b) => a + b, 0);
  return out;
}

const KEYWORDS = ["const", "let", "return", "if", "else", "for", "while", "function", "import", "export", "from", "new", "await", "async", "class", "interface", "type", "null", "true", "false", "this", "throw", "try", "catch"];
const SYLLABLES = ["get", "set", "build", "pod", "log", "stream", "name", "value", "count", "item", "list", "map", "key", "node", "tree", "path", "file", "read", "write", "close", "open", "user", "config", "image", "tag", "push", "pull", "layer", "cache", "state"];

/** Text that looks like source code: indented lines of keywords, identifiers, literals and punctuation. */
function codeText(bytes: number, rnd: () => number, words: string[]): string {
  const parts: string[] = [];
  let n = 0;
  let depth = 0;
  // Identifiers recur unevenly in real code: a few are everywhere, most are rare.
  const word = () => words[Math.floor(words.length * rnd() ** 3)];
  while (n < bytes) {
    const indent = "  ".repeat(depth);
    const len = 2 + Math.floor(rnd() * 9);
    let line = indent;
    for (let i = 0; i < len; i++) {
      const r = rnd();
      line += r < 0.25 ? KEYWORDS[Math.floor(rnd() * KEYWORDS.length)] : r < 0.9 ? word() : r < 0.95 ? String(Math.floor(rnd() * 1000)) : `"${word()}"`;
      line += i === len - 1 ? "" : rnd() < 0.7 ? " " : rnd() < 0.5 ? "(" : ", ";
    }
    const end = rnd();
    if (end < 0.15 && depth < 6) {
      line += " {";
      depth++;
    } else if (end < 0.3 && depth > 0) {
      line += ";\n" + "  ".repeat(depth - 1) + "}";
      depth--;
    } else line += ";";
    parts.push(line, "\n");
    n += line.length + 1;
  }
  return parts.join("").slice(0, bytes);
}

/** Pseudo-random bytes: stands for images, fonts and archives, which gzip cannot shrink. */
function binary(bytes: number, rnd: () => number): Buffer {
  const words = new Uint32Array(Math.ceil(bytes / 4));
  let x = (rnd() * 4294967296) >>> 0 || 1;
  for (let i = 0; i < words.length; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    words[i] = x >>> 0;
  }
  return Buffer.from(words.buffer, 0, bytes);
}

const kb = ([lo, hi]: [number, number]) => `${lo / 1e3}-${hi / 1e3}`;

/** Writes the tree under root unless a complete one with the same spec is there already. */
export function ensureTree(root: string, spec: TreeSpec = TREE): Tree {
  const path = join(root, "tree");
  const stamp = join(root, "spec.json");
  const description = `${spec.files} files, ${spec.bytes / 1e6} MB in ${spec.dirs} nested directories (depth 1-4): ` +
    `${spec.files - spec.binaryFiles} code-like text files (${(spec.bytes - spec.binaryBytes) / 1e6} MB, sizes log-uniform ${kb(spec.textSizes)} kB) ` +
    `and ${spec.binaryFiles} incompressible binary files (${spec.binaryBytes / 1e6} MB, ${kb(spec.binarySizes)} kB); seeded, the same every time`;
  if (existsSync(stamp) && readFileSync(stamp, "utf8") === JSON.stringify(spec)) return { ...spec, path, generatedSeconds: 0, description };
  const t0 = performance.now();
  rmSync(root, { recursive: true, force: true });
  const tmp = join(root, "tree.partial");
  mkdirSync(tmp, { recursive: true });
  const rnd = prng(spec.seed);
  const words = Array.from({ length: 400 }, () => {
    const n = 1 + Math.floor(rnd() * 3);
    let w = SYLLABLES[Math.floor(rnd() * SYLLABLES.length)];
    for (let i = 1; i < n; i++) {
      const s = SYLLABLES[Math.floor(rnd() * SYLLABLES.length)];
      w += s[0].toUpperCase() + s.slice(1);
    }
    return w;
  });
  const tops = ["src", "lib", "test", "docs", "assets", "vendor", "internal", "cmd", "web", "tools"];
  const dirs = Array.from({ length: spec.dirs }, (_, i) => {
    const depth = 1 + Math.floor(rnd() * 4);
    const parts = [tops[i % tops.length]];
    for (let d = 1; d < depth; d++) parts.push(`${words[Math.floor(rnd() * words.length)]}${d === depth - 1 ? i : ""}`);
    return parts.join("/");
  });
  for (const d of dirs) mkdirSync(join(tmp, d), { recursive: true });
  const textExt = [".ts", ".js", ".go", ".py", ".java", ".md", ".json", ".css", ".html", ".yaml"];
  const binExt = [".png", ".jpg", ".woff2", ".jar", ".gz"];
  const textSizes = sizes(spec.files - spec.binaryFiles, spec.bytes - spec.binaryBytes, ...spec.textSizes, rnd);
  const binSizes = sizes(spec.binaryFiles, spec.binaryBytes, ...spec.binarySizes, rnd);
  // Binary files are spread among the text ones rather than written last, as in a real tree.
  const every = Math.floor(spec.files / spec.binaryFiles);
  let t = 0;
  let b = 0;
  for (let i = 0; i < spec.files; i++) {
    const dir = dirs[Math.floor(rnd() * dirs.length)];
    const stem = `${words[Math.floor(rnd() * words.length)]}-${i}`;
    if (i % every === every - 1 && b < binSizes.length) {
      writeFileSync(join(tmp, dir, stem + binExt[b % binExt.length]), binary(binSizes[b++], rnd));
    } else {
      writeFileSync(join(tmp, dir, stem + textExt[t % textExt.length]), codeText(textSizes[t++], rnd, words));
    }
  }
  renameSync(tmp, path);
  writeFileSync(stamp, JSON.stringify(spec));
  return { ...spec, path, generatedSeconds: (performance.now() - t0) / 1000, description };
}
