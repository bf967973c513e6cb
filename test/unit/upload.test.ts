import { execFileSync } from "node:child_process";
import { chmodSync, existsSync, lstatSync, mkdirSync, mkdtempSync, readFileSync, readlinkSync, statSync, symlinkSync, truncateSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Writable } from "node:stream";
import { pipeline } from "node:stream/promises";
import { describe, expect, it } from "vitest";
import { pack, packParts, selectFiles } from "../../core/index.js";

function tree(files: Record<string, string>): string {
  const dir = mkdtempSync(join(tmpdir(), "buildpod-upload-"));
  for (const [path, content] of Object.entries(files)) {
    mkdirSync(join(dir, path, ".."), { recursive: true });
    writeFileSync(join(dir, path), content);
  }
  return dir;
}

describe("selectFiles", () => {
  it("leaves out .git and what the context's .dockerignore names, keeps the Dockerfile and .dockerignore", () => {
    const dir = tree({
      "Dockerfile": "FROM x", ".dockerignore": "*.log\nsecrets/\nDockerfile\n!keep.log\n", "app.js": "", "debug.log": "", "keep.log": "",
      "secrets/key": "", ".git/HEAD": "", "sub/.git/config": "", "sub/x.js": "",
    });
    expect(selectFiles(dir, ".", "Dockerfile").files.sort()).toEqual([".dockerignore", "Dockerfile", "app.js", "keep.log", "sub/x.js"]);
  });

  it("sends the context directory with its .dockerignore applied, and the Dockerfile from outside it", () => {
    const dir = tree({ "build/app.Dockerfile": "", "build/other": "", "app/.dockerignore": "tmp\n", "app/main.go": "", "app/tmp/a": "", "docs/tmp": "", "services/api/x.go": "" });
    expect(selectFiles(dir, "app", "build/app.Dockerfile").files.sort()).toEqual(["app/.dockerignore", "app/main.go", "build/app.Dockerfile"]);
    expect(selectFiles(dir, "services/api").files).toEqual(["services/api/x.go"]);
  });

  it("takes symbolic links as links, without following them", () => {
    const dir = tree({ "a/file": "x" });
    symlinkSync("..", join(dir, "a", "loop"));
    symlinkSync("file", join(dir, "a", "alias"));
    expect(selectFiles(dir, ".").files.sort()).toEqual(["a/alias", "a/file", "a/loop"]);
  });
});

async function read(stream: NodeJS.ReadableStream): Promise<Buffer> {
  const parts: Buffer[] = [];
  await pipeline(stream, new Writable({ write: (c: Buffer, _e, cb) => (parts.push(c), cb()) }));
  return Buffer.concat(parts);
}

const packed = (dir: string) => read(pack({ path: dir, format: "directory" }, ".").stream);

describe("pack", () => {
  // Random bytes that gzip cannot shrink (stored), and text that it can, both spanning several batches.
  const noise = (n: number) => {
    const b = Buffer.alloc(n);
    let x = 2463534242;
    for (let i = 0; i < n; i++) {
      x ^= x << 13;
      x ^= x >>> 17;
      x ^= x << 5;
      b[i] = x & 0xff;
    }
    return b;
  };

  it("gives GNU tar back every file, mode and link, long and non-ASCII names included", async () => {
    const long = `${"d".repeat(90)}/${"f".repeat(95)}.txt`; // ustar: prefix + name
    const veryLong = `${"g".repeat(150)}/${"h".repeat(120)}.txt`; // a pax record
    const dir = tree({
      "small.txt": "hello\n", "empty": "", [long]: "in a long path\n", [veryLong]: "past ustar\n",
      "ünïcødé/файл.txt": "unicode\n", "text.js": "const x = 1;\n".repeat(200_000),
    });
    writeFileSync(join(dir, "noise.bin"), noise(3 * 1024 * 1024 + 17));
    chmodSync(join(dir, "small.txt"), 0o755);
    symlinkSync("small.txt", join(dir, "link"));
    symlinkSync(`${"t".repeat(150)}/target`, join(dir, "longlink"));
    const archive = join(mkdtempSync(join(tmpdir(), "buildpod-pack-")), "ctx.tar.gz");
    writeFileSync(archive, await packed(dir));
    const out = mkdtempSync(join(tmpdir(), "buildpod-unpack-"));
    execFileSync("tar", ["-xzf", archive, "-C", out]);
    for (const f of selectFiles(dir, ".").files) {
      const [a, b] = [join(dir, f), join(out, f)];
      if (lstatSync(a).isSymbolicLink()) expect(readlinkSync(b), f).toBe(readlinkSync(a));
      else {
        expect(readFileSync(b).equals(readFileSync(a)), f).toBe(true);
        expect(statSync(b).mode & 0o777, f).toBe(statSync(a).mode & 0o777);
      }
    }
    expect(statSync(join(out, "text.js")).mtimeMs).toBe(0);
    // The same tree gives the same bytes.
    expect((await packed(dir)).equals(readFileSync(archive))).toBe(true);
  });

  it("compresses text and stores what is already compressed", async () => {
    const dir = tree({ "text.js": "const x = 1;\n".repeat(100_000) });
    writeFileSync(join(dir, "noise.bin"), noise(1024 * 1024));
    const size = (await packed(dir)).length;
    expect(size).toBeGreaterThan(1024 * 1024);
    expect(size).toBeLessThan(1024 * 1024 + 100_000);
  });

  it("fails, rather than send a wrong archive, when a file shrinks while it is packed", async () => {
    const dir = tree({ "b.txt": "b".repeat(100_000) });
    // Packing reads ahead of the reader by a few batches at most: a.bin comes first and is bigger than that.
    writeFileSync(join(dir, "a.bin"), noise(3 * 1024 * 1024));
    const p = pack({ path: dir, format: "directory" }, ".");
    truncateSync(join(dir, "b.txt"), 10);
    await expect(pipeline(p.stream, new Writable({ write: (_c, _e, cb) => cb() }))).rejects.toThrow(/b\.txt changed while it was being uploaded/);
  });

  it("splits a directory into parts that unpack into the same place, one part for a small one", async () => {
    const files = Object.fromEntries(Array.from({ length: 40 }, (_, i) => [`d${i % 7}/f${i}.txt`, `file ${i}\n`.repeat(i * 100)]));
    const dir = tree(files);
    expect(packParts({ path: dir, format: "directory" }, ".").parts).toHaveLength(1);
    const { directories, parts } = packParts({ path: dir, format: "directory" }, ".", undefined, 2);
    expect(parts).toHaveLength(2);
    expect(directories?.files).toBe(0);
    expect(parts[0].files + parts[1].files).toBe(40);
    expect(parts[0].inputBytes + parts[1].inputBytes).toBe(selectFiles(dir, ".").bytes);
    const out = mkdtempSync(join(tmpdir(), "buildpod-unpack-"));
    for (const p of [directories!, ...parts]) {
      const archive = join(mkdtempSync(join(tmpdir(), "buildpod-part-")), "part.tar.gz");
      writeFileSync(archive, await read(p.stream));
      execFileSync("tar", ["-xzf", archive, "-C", out]);
    }
    for (const [f, content] of Object.entries(files)) expect(readFileSync(join(out, f), "utf8"), f).toBe(content);
  });

  it("holds the context's directories as docker's context does: empty ones and modes, read-only ones too", async () => {
    const dir = tree({ "ro/file.txt": "in a read-only directory\n", "private/x": "x\n", "ignored/y": "y\n", ".dockerignore": "ignored\n" });
    mkdirSync(join(dir, "empty/nested"), { recursive: true });
    chmodSync(join(dir, "private"), 0o700);
    chmodSync(join(dir, "empty/nested"), 0o750);
    chmodSync(join(dir, "ro"), 0o555);
    const dirs = selectFiles(dir, ".").entries.filter((e) => e.type === "directory").map((e) => e.path);
    expect(dirs.sort()).toEqual(["empty", "empty/nested", "private", "ro"]);
    for (const parts of [1, 2]) {
      for (const tar of [["tar"], ["busybox", "tar"]]) {
        // Unpacked as the source container does: by a user who owns nothing but the target directory.
        const out = mkdtempSync(join(tmpdir(), "buildpod-unpack-"));
        chmodSync(out, 0o777);
        const input = packParts({ path: dir, format: "directory" }, ".", undefined, parts);
        // The directories' archive first, then the parts, then the modes, as the upload sends them.
        for (const p of [...(input.directories ? [input.directories] : []), ...input.parts]) {
          const archive = join(mkdtempSync(join(tmpdir(), "buildpod-part-")), "part.tar.gz");
          writeFileSync(archive, await read(p.stream));
          chmodSync(join(archive, ".."), 0o755);
          execFileSync("setpriv", ["--reuid=65534", "--regid=65534", "--clear-groups", ...tar, "-xzf", archive, "-C", out]);
        }
        expect(input.modes).toEqual([["555", "ro"]]);
        for (const [mode, path] of input.modes) execFileSync("setpriv", ["--reuid=65534", "--regid=65534", "--clear-groups", "chmod", mode, join(out, path)]);
        const what = `${tar.join(" ")}, ${parts} part(s)`;
        expect(readFileSync(join(out, "ro/file.txt"), "utf8"), what).toBe("in a read-only directory\n");
        expect(statSync(join(out, "ro")).mode & 0o777, what).toBe(0o555);
        expect(statSync(join(out, "private")).mode & 0o777, what).toBe(0o700);
        expect(statSync(join(out, "empty/nested")).mode & 0o777, what).toBe(0o750);
        expect(existsSync(join(out, "ignored")), what).toBe(false);
      }
    }
  });
});
