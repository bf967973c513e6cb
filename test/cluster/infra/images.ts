// Images for the test cluster, all assembled locally (no registry on the internet is reachable):
//  - busybox: a minimal root file system around Debian's static busybox, for test pods and as a FROM for builds;
//    the same for linux/arm64 (Debian's arm64 package), and an index of the two;
//  - builder: Debian minbase with buildah, git, git-lfs, curl, tar, gzip, coreutils and bash, made with debootstrap;
//  - pause: the pod sandbox of the test cluster's kubelet, one static binary (test/cluster/cmd/pause).
// Each image is tagged with a hash of its recipe, so it is built once, cached in the registry's storage dir,
// and rebuilt only when the recipe (or the busybox package version) changes.
import { createHash } from "node:crypto";
import { chmodSync, copyFileSync, mkdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { withLock } from "./lock.js";
import type { PodmanEnv } from "./podman-env.js";
import { run } from "./proc.js";
import { hasImage, type Registry } from "./registry.js";

export interface ClusterImages {
  /** Fully qualified references in the loopback registry. */
  busybox: string;
  /** busybox for linux/arm64 (Debian's arm64 busybox-static), and an index of both busybox images. */
  busyboxArm64: string;
  busyboxMulti: string;
  builder: string;
  /** Only when asked for (a real kubelet's sandbox image); else "". */
  pause: string;
}

export const IMAGE_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

const DEBIAN_SUITE = "bookworm";
const BUILDER_PACKAGES = [
  "buildah", "git", "git-lfs", "ca-certificates", "containernetworking-plugins", "tar", "gzip", "coreutils", "bash",
  "openssh-client", "curl",
];
// Inside a build pod buildah uses vfs (overlay on overlay does not work) and chroot isolation.
const BUILDER_STORAGE_CONF = '[storage]\ndriver = "vfs"\nrunroot = "/run/containers/storage"\ngraphroot = "/var/lib/containers/storage"\n';
const BUILDER_REGISTRIES_CONF = 'unqualified-search-registries = []\nshort-name-mode = "permissive"\n';
const BUILDER_CONTAINERS_CONF = '[containers]\nnetns = "host"\n[engine]\ncgroup_manager = "cgroupfs"\nevents_logger = "file"\n';
const BUILDER_ENV = [`PATH=${IMAGE_PATH}`, "BUILDAH_ISOLATION=chroot", "STORAGE_DRIVER=vfs"];

const BUSYBOX_PASSWD = "root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/nonexistent:/bin/false\n";
const BUSYBOX_GROUP = "root:x:0:\nnogroup:x:65534:\n";
const RECIPE_VERSION = "1";

function hash(parts: unknown[]): string {
  return createHash("sha256").update(JSON.stringify(parts)).digest("hex").slice(0, 16);
}

async function packageVersion(pkg: string): Promise<string> {
  const r = await run("dpkg-query", ["-W", "-f=${Version}", pkg]);
  return r.stdout.trim();
}

export function debianMirror(): string {
  return process.env.BUILDPOD_DEBIAN_MIRROR || "http://deb.debian.org/debian";
}

export async function busyboxTag(): Promise<string> {
  return hash([RECIPE_VERSION, "busybox", await packageVersion("busybox-static"), BUSYBOX_PASSWD, BUSYBOX_GROUP, IMAGE_PATH]);
}

/** Everything the builder image is made from: its tag is their hash, so a changed recipe is rebuilt. */
export const BUILDER_RECIPE = {
  version: RECIPE_VERSION, suite: DEBIAN_SUITE, packages: BUILDER_PACKAGES, storageConf: BUILDER_STORAGE_CONF,
  registriesConf: BUILDER_REGISTRIES_CONF, containersConf: BUILDER_CONTAINERS_CONF, env: BUILDER_ENV,
};

export function builderTag(recipe: typeof BUILDER_RECIPE = BUILDER_RECIPE): string {
  return hash([recipe.version, "builder", recipe.suite, recipe.packages, recipe.storageConf, recipe.registriesConf,
    recipe.containersConf, recipe.env]);
}

/** Reproducible tar of a directory piped into `podman import` (as an image for ARCH), then pushed to the registry. */
async function importAndPush(pm: PodmanEnv, rootfs: string, changes: string[], target: string, log: (s: string) => void, arch?: string) {
  const local = `localhost/${target.split("/").slice(1).join("/")}`;
  const tarFile = `${rootfs}.tar`;
  await run("tar", ["--sort=name", "--mtime=@0", "--numeric-owner", "--xattrs", "-C", rootfs, "-cf", tarFile, "."]);
  const args = ["import", ...(arch ? ["--arch", arch] : [])];
  for (const c of changes) args.push("--change", c);
  args.push(tarFile, local);
  log(`importing ${local}`);
  await pm.podman(args);
  rmSync(tarFile, { force: true });
  log(`pushing ${target}`);
  await pm.podman(["push", "--tls-verify=false", local, `docker://${target}`]);
}

/**
 * Debian's package PKG for ARCH, unpacked into a directory of its own: the mirror's Packages index for that
 * architecture names the file in its pool. For the images of other platforms: no foreign architecture is
 * added to the machine's dpkg.
 */
async function foreignPackage(workDir: string, pkg: string, arch: string, log: (s: string) => void): Promise<string> {
  const mirror = debianMirror();
  const index = `${mirror}/dists/${DEBIAN_SUITE}/main/binary-${arch}/Packages.xz`;
  log(`reading ${index}`);
  const res = await fetch(index);
  if (!res.ok) throw new Error(`${index}: HTTP ${res.status}`);
  const xzFile = join(workDir, `Packages-${arch}.xz`);
  writeFileSync(xzFile, Buffer.from(await res.arrayBuffer()));
  const packages = (await run("xz", ["-dc", xzFile])).stdout;
  rmSync(xzFile, { force: true });
  const stanza = packages.split("\n\n").find((s) => s.startsWith(`Package: ${pkg}\n`));
  const file = stanza?.match(/^Filename: (.+)$/m)?.[1];
  if (!file) throw new Error(`${pkg} is not in ${index}`);
  const deb = join(workDir, `${pkg}_${arch}.deb`);
  const got = await fetch(`${mirror}/${file}`);
  if (!got.ok) throw new Error(`${mirror}/${file}: HTTP ${got.status}`);
  writeFileSync(deb, Buffer.from(await got.arrayBuffer()));
  const dir = join(workDir, `${pkg}-${arch}`);
  rmSync(dir, { recursive: true, force: true });
  await run("dpkg-deb", ["-x", deb, dir]);
  rmSync(deb, { force: true });
  return dir;
}

/** busybox for ARCH (the machine's own by default): a static busybox, its applets and a passwd file. */
async function buildBusybox(pm: PodmanEnv, workDir: string, target: string, log: (s: string) => void, arch?: string) {
  const binary = arch ? join(await foreignPackage(workDir, "busybox-static", arch, log), "bin/busybox") : "/bin/busybox";
  const root = join(workDir, `busybox-rootfs${arch ? `-${arch}` : ""}`);
  rmSync(root, { recursive: true, force: true });
  for (const d of ["bin", "etc", "tmp", "root", "home", "var/tmp", "dev", "proc", "sys", "run", "usr"]) {
    mkdirSync(join(root, d), { recursive: true });
  }
  chmodSync(join(root, "tmp"), 0o1777);
  chmodSync(join(root, "var/tmp"), 0o1777);
  await run("cp", [binary, join(root, "bin/busybox")]);
  // The same package version on every architecture, so the machine's busybox lists the applets.
  const applets = (await run("/bin/busybox", ["--list"])).stdout.split("\n").map((s) => s.trim()).filter(Boolean);
  for (const a of applets) if (a !== "busybox") symlinkSync("busybox", join(root, "bin", a));
  symlinkSync("../bin", join(root, "usr/bin"));
  symlinkSync("bin", join(root, "sbin"));
  symlinkSync("../bin", join(root, "usr/sbin"));
  writeFileSync(join(root, "etc/passwd"), BUSYBOX_PASSWD);
  writeFileSync(join(root, "etc/group"), BUSYBOX_GROUP);
  await importAndPush(pm, root, [`ENV PATH=${IMAGE_PATH}`, 'CMD ["sh"]'], target, log, arch);
  rmSync(root, { recursive: true, force: true });
}

/** An image index of the images PARTS, pushed as TARGET: what a FROM resolves per platform. */
async function buildIndex(pm: PodmanEnv, parts: string[], target: string, log: (s: string) => void) {
  const local = `localhost/${target.split("/").slice(1).join("/")}`;
  await pm.podman(["manifest", "rm", local]).catch(() => undefined);
  await pm.podman(["manifest", "create", local]);
  for (const p of parts) await pm.podman(["manifest", "add", "--tls-verify=false", local, `docker://${p}`]);
  log(`pushing ${target}`);
  await pm.podman(["manifest", "push", "--all", "--format", "oci", "--tls-verify=false", local, `docker://${target}`]);
  await pm.podman(["manifest", "rm", local]).catch(() => undefined);
}

async function buildBuilder(pm: PodmanEnv, workDir: string, target: string, log: (s: string) => void) {
  const root = join(workDir, "builder-rootfs");
  rmSync(root, { recursive: true, force: true });
  log(`debootstrap ${DEBIAN_SUITE} (about a minute)`);
  const started = Date.now();
  await run("debootstrap", ["--variant=minbase", `--include=${BUILDER_PACKAGES.join(",")}`, DEBIAN_SUITE, root, debianMirror()],
    { timeoutMs: 15 * 60_000 });
  log(`debootstrap took ${((Date.now() - started) / 1000).toFixed(0)} s`);
  rmSync(join(root, "var/cache/apt/archives"), { recursive: true, force: true });
  mkdirSync(join(root, "var/cache/apt/archives/partial"), { recursive: true });
  rmSync(join(root, "var/lib/apt/lists"), { recursive: true, force: true });
  mkdirSync(join(root, "var/lib/apt/lists/partial"), { recursive: true });
  mkdirSync(join(root, "etc/containers"), { recursive: true });
  writeFileSync(join(root, "etc/containers/storage.conf"), BUILDER_STORAGE_CONF);
  writeFileSync(join(root, "etc/containers/registries.conf"), BUILDER_REGISTRIES_CONF);
  writeFileSync(join(root, "etc/containers/containers.conf"), BUILDER_CONTAINERS_CONF);
  await importAndPush(pm, root, [...BUILDER_ENV.map((e) => `ENV ${e}`), "WORKDIR /", 'CMD ["/bin/bash"]'], target, log);
  rmSync(root, { recursive: true, force: true });
}

async function buildPause(pm: PodmanEnv, workDir: string, binary: string, target: string, log: (s: string) => void) {
  const root = join(workDir, "pause-rootfs");
  rmSync(root, { recursive: true, force: true });
  mkdirSync(root, { recursive: true });
  copyFileSync(binary, join(root, "pause"));
  chmodSync(join(root, "pause"), 0o755);
  await importAndPush(pm, root, ['ENTRYPOINT ["/pause"]', "USER 65535:65535"], target, log);
  rmSync(root, { recursive: true, force: true });
}

/**
 * Make sure the images are in the registry, building what is missing. Safe to call from parallel workers.
 * `log` receives progress lines (default: stderr).
 */
export async function ensureImages(
  pm: PodmanEnv,
  registry: Registry,
  log: (s: string) => void = (s) => process.stderr.write(`[cluster images] ${s}\n`),
  /** The pause binary, when the pause image is wanted. */
  pauseBinary?: string,
): Promise<ClusterImages> {
  const pauseTag = pauseBinary ? hash([RECIPE_VERSION, "pause", createHash("sha256").update(readFileSync(pauseBinary)).digest("hex")]) : "";
  const images: ClusterImages = {
    busybox: registry.ref(`buildpod/busybox:${await busyboxTag()}`),
    busyboxArm64: registry.ref(`buildpod/busybox:${await busyboxTag()}-arm64`),
    busyboxMulti: registry.ref(`buildpod/busybox-multi:${await busyboxTag()}`),
    builder: registry.ref(`buildpod/builder:${builderTag()}`),
    pause: pauseBinary ? registry.ref(`buildpod/pause:${pauseTag}`) : "",
  };
  const workDir = join(pm.stateDir, "images");
  mkdirSync(workDir, { recursive: true });
  const tagOf = (ref: string) => ref.slice(ref.lastIndexOf(":") + 1);
  const todo: Array<[string, (t: string) => Promise<void>]> = [
    [images.busybox, (t) => buildBusybox(pm, workDir, t, log)],
    [images.busyboxArm64, (t) => buildBusybox(pm, workDir, t, log, "arm64")],
    [images.busyboxMulti, (t) => buildIndex(pm, [images.busybox, images.busyboxArm64], t, log)],
    [images.builder, (t) => buildBuilder(pm, workDir, t, log)],
  ];
  if (pauseBinary) todo.push([images.pause, (t) => buildPause(pm, workDir, pauseBinary, t, log)]);
  for (const [ref, build] of todo) {
    const name = ref.slice(registry.host.length + 1, ref.lastIndexOf(":"));
    if (await hasImage(registry, name, tagOf(ref))) continue;
    await withLock(join(workDir, "lock"), async () => {
      if (await hasImage(registry, name, tagOf(ref))) return;
      log(`building ${ref}`);
      await build(ref);
    });
  }
  return images;
}
