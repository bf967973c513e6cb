// Tar headers for the upload (POSIX ustar, with a pax record for what ustar cannot hold). Written by hand
// rather than through a tar library: the upload packs every file itself, in large batches, and needs only
// regular files, directories and symbolic links with fixed owner and time.

export interface TarEntry {
  /** Path in the archive, "/"-separated, relative. */
  path: string;
  type: "file" | "symlink" | "directory";
  /** Permission bits. */
  mode: number;
  /** Bytes of content (0 for a link or a directory). */
  size: number;
  linkname?: string;
}

const BLOCK = 512;
/** Two zero blocks end an archive. */
export const END = Buffer.alloc(2 * BLOCK);
/** The largest size the 11 octal digits of a ustar size field hold. */
const MAX_OCTAL_SIZE = 8 ** 11 - 1;

/** Zero bytes after `size` bytes of content, up to the next block. */
export const padding = (size: number) => (BLOCK - (size % BLOCK)) % BLOCK;

function octal(buf: Buffer, offset: number, width: number, value: number): void {
  buf.write(value.toString(8).padStart(width - 1, "0"), offset, width - 1, "ascii");
}

/** ustar keeps a path as name (100 bytes) or as prefix (155) + "/" + name (100). */
function splitPath(path: string): { name: string; prefix: string } | undefined {
  if (Buffer.byteLength(path) <= 100) return { name: path, prefix: "" };
  for (let i = path.indexOf("/"); i > 0; i = path.indexOf("/", i + 1)) {
    const prefix = path.slice(0, i);
    const name = path.slice(i + 1);
    if (Buffer.byteLength(prefix) > 155) return undefined;
    if (name && Buffer.byteLength(name) <= 100) return { name, prefix };
  }
  return undefined;
}

function block(name: string, prefix: string, type: string, mode: number, size: number, linkname: string): Buffer {
  const h = Buffer.alloc(BLOCK);
  h.write(name, 0, 100, "utf8");
  octal(h, 100, 8, mode & 0o7777);
  octal(h, 108, 8, 0); // uid: the receiving tar runs unprivileged, owners mean nothing there
  octal(h, 116, 8, 0); // gid
  octal(h, 124, 12, size);
  octal(h, 136, 12, 0); // mtime: fixed, so that the same tree gives the same archive
  h.write(type, 156, 1, "ascii");
  h.write(linkname, 157, 100, "utf8");
  h.write("ustar\u000000", 257, 8, "ascii");
  h.write(prefix, 345, 155, "utf8");
  // The checksum is the byte sum with its own field counted as spaces.
  h.fill(0x20, 148, 156);
  let sum = 0;
  for (let i = 0; i < BLOCK; i++) sum += h[i];
  h.write(sum.toString(8).padStart(6, "0") + "\u0000 ", 148, 8, "ascii");
  return h;
}

/** A pax record: "<length> key=value\n", the length counting itself. */
function record(key: string, value: string): string {
  const body = ` ${key}=${value}\n`;
  const n = Buffer.byteLength(body);
  let len = n + String(n).length;
  if (String(len).length !== String(n).length) len = n + String(len).length;
  return `${len}${body}`;
}

/** The header block(s) of an entry: a pax header first when the path, link or size does not fit ustar. */
export function header(e: TarEntry): Buffer {
  const split = splitPath(e.path);
  const linkname = e.linkname ?? "";
  const longLink = Buffer.byteLength(linkname) > 100;
  const bigSize = e.size > MAX_OCTAL_SIZE;
  const type = { file: "0", symlink: "2", directory: "5" }[e.type];
  const main = block(split?.name ?? e.path.slice(-100), split?.prefix ?? "", type, e.mode, bigSize ? 0 : e.size, longLink ? "" : linkname);
  if (split && !longLink && !bigSize) return main;
  const pax = Buffer.from((split ? "" : record("path", e.path)) + (longLink ? record("linkpath", linkname) : "") + (bigSize ? record("size", String(e.size)) : ""));
  const paxName = `PaxHeaders/${(split?.name ?? e.path).slice(-80)}`;
  return Buffer.concat([block(paxName, "", "x", 0o644, pax.length, ""), pax, Buffer.alloc(padding(pax.length)), main]);
}
