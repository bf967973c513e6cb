// Binary input: the source from the CI workspace, as gzipped tar streams. A directory is packed as
// upload-select.ts chooses; an archive goes as it is, gzipped on the way if it is not.
import { closeSync, createReadStream, existsSync, openSync, readlinkSync, readSync, statSync } from "node:fs";
import { join } from "node:path";
import type { Readable } from "node:stream";
import { constants, createGzip, type Gzip, type ZlibOptions, type ZlibParams } from "node:zlib";
import { InputError } from "./errors.js";
import type { BinarySource } from "./request/index.js";
import { END, header, padding } from "./tar.js";
import { selectFiles, type SelectedFile } from "./upload-select.js";

export { selectFiles, type SelectedFile } from "./upload-select.js";

export interface Packed {
  stream: Readable;
  /** Bytes of input to read (files, or the archive), for progress. */
  inputBytes: number;
  files: number;
}

/**
 * A directory's upload. The directories' entries come first (tar gives a directory its mode only as it
 * makes it: busybox's, the default source image's, never changes an existing one), in an archive of their
 * own before the parts when there are several, since a part could make a directory another one holds.
 * A directory's entry keeps it writable by its owner, so that the unprivileged tar can fill it; `modes`
 * then gives those that should not be writable their own.
 */
export interface PackedInput {
  directories?: Packed;
  parts: Packed[];
  /** [octal mode, path] to set once everything is unpacked. */
  modes: [string, string][];
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

// How the tar reaches gzip. zlib compresses on the thread pool, one write at a time, so the tar is assembled
// in large batches: headers and file contents are read straight into a batch buffer (no copies, nothing for
// the garbage collector), and a few batches rotate, one filling while others are compressed. Reads are
// synchronous: for 20,000 small files, asynchronous open/read/close took 1.4 s of main-thread time and 1 s
// of garbage collection, synchronous ones 0.4 s; the event loop waits at most while the free batches
// (2 MB) are read.
const BATCH = 512 * 1024;
const BATCHES = 4;
const GZIP_LEVEL = 1;
/** Above this many bits per byte a sample is taken for already compressed data (text is about 4.5-5.5). */
const INCOMPRESSIBLE_BITS = 7.5;
const SAMPLE = 4096;

/**
 * Whether a file holds already compressed data (images, archives, fonts): order-0 entropy of a sample from
 * its middle near 8 bits per byte. Deflate would spend most of its time on such data for nothing, so it
 * goes stored instead. Small files are not worth a switch.
 */
function incompressible(fd: number, size: number, scratch: Buffer): boolean {
  if (size < 16384) return false;
  const n = readSync(fd, scratch, 0, SAMPLE, Math.floor(size / 2) - SAMPLE / 2);
  if (n < SAMPLE) return false;
  const counts = new Uint32Array(256);
  for (let i = 0; i < SAMPLE; i++) counts[scratch[i]]++;
  let bits = 0;
  for (const c of counts) if (c) bits -= (c / SAMPLE) * Math.log2(c / SAMPLE);
  return bits > INCOMPRESSIBLE_BITS;
}

/**
 * Where the tar goes: batch buffers written to `gz` in turn, at the gzip level or stored. Filling is
 * synchronous and only a full batch waits (for a free buffer): no promise per header or file.
 */
class Sink {
  private buf: Buffer;
  private used = 0;
  private readonly free: Buffer[] = [];
  private waiting?: () => void;
  private failed?: Error;
  /** Whether what is written now goes stored (level 0) rather than compressed. */
  stored = false;

  constructor(private readonly gz: Gzip) {
    this.buf = Buffer.allocUnsafe(BATCH);
    for (let i = 1; i < BATCHES; i++) this.free.push(Buffer.allocUnsafe(BATCH));
    gz.once("error", (err) => this.fail(err)).once("close", () => this.fail(new Error("the upload stream closed")));
  }

  private fail(err: Error) {
    this.failed ??= err;
    this.waiting?.();
  }

  get full(): boolean {
    return this.used === BATCH;
  }

  /** Copies what fits of `bytes` from `from` on; returns the bytes taken. */
  copy(bytes: Buffer, from: number): number {
    const n = bytes.copy(this.buf, this.used, from, Math.min(bytes.length, from + BATCH - this.used));
    this.used += n;
    return n;
  }

  /** Adds what fits of `count` zero bytes; returns the count taken. */
  zeros(count: number): number {
    const n = Math.min(count, BATCH - this.used);
    this.buf.fill(0, this.used, this.used + n);
    this.used += n;
    return n;
  }

  /** Reads what fits of `length` bytes at `position` of an open file; returns the bytes read (0 at its end). */
  read(fd: number, length: number, position: number): number {
    const n = readSync(fd, this.buf, this.used, Math.min(length, BATCH - this.used), position);
    this.used += n;
    return n;
  }

  /** Level 0 for already compressed content, the gzip level otherwise. */
  async level(store: boolean): Promise<void> {
    // The new level applies from the switch on: what came before is handed over first, and nothing is
    // written until the switch is done. (Gzip has params at run time, as every zlib stream; the typings
    // give it only to Deflate.)
    await this.flush();
    await new Promise<void>((resolve) => (this.gz as unknown as ZlibParams).params(store ? 0 : GZIP_LEVEL, constants.Z_DEFAULT_STRATEGY, () => resolve()));
    this.stored = store;
  }

  /** Hands the current batch to gzip and takes a free one, waiting for one if all are being compressed. */
  async flush(): Promise<void> {
    if (this.failed) throw this.failed;
    if (!this.used) return;
    const full = this.buf;
    this.gz.write(full.subarray(0, this.used), () => {
      // zlib has consumed the batch: the buffer can be filled again.
      this.free.push(full);
      this.waiting?.();
    });
    this.used = 0;
    while (!this.free.length && !this.failed) await new Promise<void>((r) => (this.waiting = r));
    this.waiting = undefined;
    if (this.failed) throw this.failed;
    this.buf = this.free.pop()!;
  }
}

const OWNER_ALL = 0o700;

/** Feeds the tar of `entries` into `gz`, then ends it. */
async function packInto(gz: Gzip, root: string, entries: SelectedFile[]): Promise<void> {
  const sink = new Sink(gz);
  const scratch = Buffer.allocUnsafe(SAMPLE);
  // Each step takes what fits in the batch; a full batch is handed over (the only wait) before the next.
  const put = async (bytes: Buffer, from = 0) => {
    for (let at = from; at < bytes.length; at += sink.copy(bytes, at)) if (sink.full) await sink.flush();
  };
  for (const e of entries) {
    const abs = join(root, e.path);
    if (e.type === "directory") {
      await put(header({ path: e.path, type: "directory", mode: e.mode | OWNER_ALL, size: 0 }));
      continue;
    }
    if (e.type === "symlink") {
      await put(header({ path: e.path, type: "symlink", mode: e.mode, size: 0, linkname: readlinkSync(abs) }));
      continue;
    }
    const fd = openSync(abs, "r");
    try {
      const store = incompressible(fd, e.size, scratch);
      if (store !== sink.stored) await sink.level(store);
      const h = header({ path: e.path, type: "file", mode: e.mode, size: e.size });
      const taken = sink.copy(h, 0);
      if (taken < h.length) await put(h, taken);
      for (let at = 0; at < e.size; ) {
        if (sink.full) await sink.flush();
        const n = sink.read(fd, e.size - at, at);
        if (n === 0) throw new Error(`${e.path} changed while it was being uploaded`);
        at += n;
      }
    } finally {
      closeSync(fd);
    }
    for (let pad = padding(e.size); pad > 0; pad -= sink.zeros(pad)) if (sink.full) await sink.flush();
  }
  await put(END);
  await sink.flush();
  gz.end();
}

// A big input goes as two archives side by side, each packed, compressed, sent and unpacked on its own: one
// gzip stream keeps one core busy on each side, and unpacking many small files is bound by file creation in
// the pod, which a second tar runs alongside. (On the 2-core test machine two parts took about two thirds of
// the time of one; four did no better than two.) Parts are contiguous runs of the sorted list, so whole
// directories mostly stay together, of about equal cost: a file costs its bytes plus a fixed amount for its
// creation.
const PART_COST = 64 * 1024 * 1024;
const FILE_COST = 16 * 1024;
const MAX_PARTS = 2;

function split(entries: SelectedFile[], parts: number): SelectedFile[][] {
  const cost = (e: SelectedFile) => e.size + FILE_COST;
  const total = entries.reduce((n, e) => n + cost(e), 0);
  const out: SelectedFile[][] = [[]];
  let acc = 0;
  for (const e of entries) {
    if (acc >= (total * out.length) / parts && out.length < parts) out.push([]);
    out[out.length - 1].push(e);
    acc += cost(e);
  }
  return out;
}

function packed(root: string, entries: SelectedFile[]): Packed {
  // Large output chunks: each becomes one message on the exec stream.
  const gz = createGzip({ level: GZIP_LEVEL, chunkSize: 128 * 1024, writableHighWaterMark: 2 * BATCH, readableHighWaterMark: 1024 * 1024 } as ZlibOptions);
  packInto(gz, root, entries).catch((err: Error) => gz.destroy(err));
  return { stream: gz, inputBytes: entries.reduce((n, e) => n + e.size, 0), files: entries.filter((e) => e.type !== "directory").length };
}

/**
 * Packs the binary input for upload: one gzipped tar, or for a big directory two (see above) and the
 * directories' entries, to be unpacked into the same place; `parts` asks for a number. Throws InputError when the path is not what it
 * claims to be.
 */
export function packParts(source: BinarySource, contextDir: string, dockerfile?: string, parts?: number): PackedInput {
  const st = statSync(source.path, { throwIfNoEntry: false });
  if (source.format === "directory") {
    if (!st?.isDirectory()) throw new InputError("source.binary.dir", `${source.path} is not a directory`);
    if (!existsSync(join(source.path, contextDir))) throw new InputError("source.contextDir", `${contextDir} is not a directory in ${source.path}`);
    const { entries } = selectFiles(source.path, contextDir, dockerfile);
    const files = entries.filter((e) => e.type !== "directory");
    const cost = files.reduce((n, e) => n + e.size + FILE_COST, 0);
    const n = Math.max(1, Math.min(files.length, parts ?? Math.min(MAX_PARTS, Math.ceil(cost / PART_COST))));
    const directories = entries.filter((e) => e.type === "directory");
    const modes = directories.filter((d) => (d.mode & OWNER_ALL) !== OWNER_ALL).map((d): [string, string] => [d.mode.toString(8), d.path]);
    if (n === 1) return { parts: [packed(source.path, entries)], modes };
    return { directories: packed(source.path, directories), parts: split(files, n).map((part) => packed(source.path, part)), modes };
  }
  if (!st?.isFile()) throw new InputError("source.binary.archive", `${source.path} is not a file`);
  const file = createReadStream(source.path, { highWaterMark: BATCH });
  const stream = isGzip(source.path) ? file : file.pipe(createGzip({ level: GZIP_LEVEL, chunkSize: 128 * 1024 }));
  return { parts: [{ stream, inputBytes: st.size, files: 1 }], modes: [] };
}

/**
 * The binary input as one gzipped tar (directories writable by their owner; see PackedInput). Throws
 * InputError when the path is not what it claims to be.
 */
export function pack(source: BinarySource, contextDir: string, dockerfile?: string): Packed {
  return packParts(source, contextDir, dockerfile, 1).parts[0];
}
