// Other platforms on the test cluster's node: QEMU's user-mode emulator for arm64 (Debian's qemu-user-static,
// installed by test/cluster/infra/install.sh), registered with the kernel's binfmt_misc so that an arm64
// binary run in any container of the node (a pod's, or a RUN step of a build for linux/arm64) runs under it.
// The handler is registered with the F flag: the kernel opens the emulator once, at registration, and uses
// that file in every mount namespace, so containers need no emulator of their own. Debian's own
// registration (binfmt-support or systemd-binfmt, neither installed) is not used: it names a path that only
// its postinst creates. The handler is the kernel's, shared by everything on the machine; it stays after
// the cluster stops (`echo -1 > /proc/sys/fs/binfmt_misc/buildpod-aarch64` removes it).
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { run } from "../infra/proc.js";

const BINFMT = "/proc/sys/fs/binfmt_misc";
/** Debian's handler for arm64 ELF binaries: its magic and mask are what we register. */
const DEBIAN_CONF = "/usr/lib/binfmt.d/qemu-aarch64.conf";
const EMULATOR = "/usr/bin/qemu-aarch64-static";
const NAME = "buildpod-aarch64";

/** What the node can run besides its own platform, or why not. */
export interface Emulation {
  platforms: string[];
  /** Why linux/arm64 is not emulated, where it is not. */
  problem?: string;
}

/** The handler line: Debian's magic and mask, our name, the static emulator, flags P (keep argv[0]) and F. */
export function handlerLine(debianConf: string, emulator = EMULATOR): string {
  const fields = debianConf.trim().split(":");
  // :name:type:offset:magic:mask:interpreter:flags
  if (fields.length !== 8 || fields[2] !== "M") throw new Error(`unexpected binfmt.d line: ${debianConf.trim()}`);
  return [ "", NAME, "M", fields[3], fields[4], fields[5], emulator, "PF"].join(":");
}

/** Registers the arm64 handler unless one with the F flag is there already. */
export async function registerArm64(log: (s: string) => void): Promise<Emulation> {
  if (!existsSync(EMULATOR) || !existsSync(DEBIAN_CONF)) {
    return { platforms: [], problem: `${EMULATOR} is not installed (qemu-user-static; bash test/cluster/infra/install.sh)` };
  }
  if (!existsSync(`${BINFMT}/register`)) {
    const m = await run("mount", ["-t", "binfmt_misc", "binfmt_misc", BINFMT], { check: false });
    if (m.code !== 0) return { platforms: [], problem: `binfmt_misc is not mounted and could not be: ${m.stderr.trim()}` };
  }
  if (existsSync(`${BINFMT}/${NAME}`)) {
    const state = readFileSync(`${BINFMT}/${NAME}`, "utf8");
    if (/^enabled/m.test(state) && /^flags: .*F/m.test(state)) return { platforms: ["linux/arm64"] };
    writeFileSync(`${BINFMT}/${NAME}`, "-1");
  }
  try {
    writeFileSync(`${BINFMT}/register`, handlerLine(readFileSync(DEBIAN_CONF, "utf8")));
  } catch (err) {
    return { platforms: [], problem: `registering ${NAME} with binfmt_misc failed: ${(err as Error).message}` };
  }
  log(`registered ${EMULATOR} for linux/arm64 binaries (binfmt_misc ${NAME})`);
  return { platforms: ["linux/arm64"] };
}
