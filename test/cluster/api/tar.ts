// A small ustar reader and writer, enough for the emulated node's `tar -c` and `tar -x` (kubectl cp, binary inputs).
// Emulated node support code, for API tests only.

export interface TarEntry {
  path: string;
  type: "file" | "dir";
  mode: number;
  data: Buffer;
}

function octal(b: Buffer): number {
  const s = b.toString("latin1").replace(/\0.*$/s, "").trim();
  return s ? parseInt(s, 8) : 0;
}

function str(b: Buffer): string {
  const z = b.indexOf(0);
  return b.subarray(0, z < 0 ? b.length : z).toString("utf8");
}

export function readTar(buf: Buffer): TarEntry[] {
  const out: TarEntry[] = [];
  let off = 0;
  let longName: string | undefined;
  let paxPath: string | undefined;
  while (off + 512 <= buf.length) {
    const h = buf.subarray(off, off + 512);
    if (h.every((b) => b === 0)) break;
    const size = octal(h.subarray(124, 136));
    const type = String.fromCharCode(h[156] || 48);
    const prefix = str(h.subarray(345, 500));
    let name = str(h.subarray(0, 100));
    if (prefix && h.subarray(257, 262).toString() === "ustar") name = `${prefix}/${name}`;
    const data = buf.subarray(off + 512, off + 512 + size);
    off += 512 + Math.ceil(size / 512) * 512;
    if (type === "L") {
      longName = str(data);
      continue;
    }
    if (type === "x") {
      const m = /\d+ path=([^\n]*)\n/.exec(data.toString("utf8"));
      if (m) paxPath = m[1];
      continue;
    }
    if (type === "g") continue;
    const path = (paxPath ?? longName ?? name).replace(/^\.\//, "").replace(/\/$/, "");
    longName = undefined;
    paxPath = undefined;
    if (!path || path === ".") continue;
    if (type === "5") out.push({ path, type: "dir", mode: octal(h.subarray(100, 108)), data: Buffer.alloc(0) });
    else if (type === "0" || type === "\0" || type === "7") out.push({ path, type: "file", mode: octal(h.subarray(100, 108)), data: Buffer.from(data) });
  }
  return out;
}

function header(path: string, type: "0" | "5", mode: number, size: number, mtime: number): Buffer {
  const h = Buffer.alloc(512);
  let name = path;
  let prefix = "";
  if (Buffer.byteLength(name) > 100) {
    const cut = name.lastIndexOf("/", 155);
    prefix = name.slice(0, cut);
    name = name.slice(cut + 1);
  }
  h.write(name, 0, 100, "utf8");
  h.write(mode.toString(8).padStart(7, "0") + "\0", 100, "latin1");
  h.write("0000000\0", 108, "latin1");
  h.write("0000000\0", 116, "latin1");
  h.write(size.toString(8).padStart(11, "0") + "\0", 124, "latin1");
  h.write(Math.floor(mtime / 1000).toString(8).padStart(11, "0") + "\0", 136, "latin1");
  h.write("        ", 148, "latin1");
  h.write(type, 156, "latin1");
  h.write("ustar\0", 257, "latin1");
  h.write("00", 263, "latin1");
  h.write("root", 265, "latin1");
  h.write("root", 297, "latin1");
  h.write(prefix, 345, 155, "utf8");
  let sum = 0;
  for (const b of h) sum += b;
  h.write(sum.toString(8).padStart(6, "0") + "\0 ", 148, "latin1");
  return h;
}

export function writeTar(entries: TarEntry[]): Buffer {
  const parts: Buffer[] = [];
  const now = Date.now();
  for (const e of entries) {
    if (e.type === "dir") parts.push(header(e.path.endsWith("/") ? e.path : `${e.path}/`, "5", e.mode || 0o755, 0, now));
    else {
      parts.push(header(e.path, "0", e.mode || 0o644, e.data.length, now), e.data);
      const pad = (512 - (e.data.length % 512)) % 512;
      if (pad) parts.push(Buffer.alloc(pad));
    }
  }
  parts.push(Buffer.alloc(1024));
  const total = parts.reduce((n, b) => n + b.length, 0);
  const rec = (10240 - (total % 10240)) % 10240;
  if (rec) parts.push(Buffer.alloc(rec));
  return Buffer.concat(parts);
}
