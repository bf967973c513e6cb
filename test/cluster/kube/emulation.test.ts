// The binfmt_misc line the test cluster registers for linux/arm64, from Debian's own.
import { describe, expect, it } from "vitest";
import { handlerLine } from "./emulation.js";

const DEBIAN = ":qemu-aarch64:M::\\x7f\\x45\\x4c\\x46\\x02\\x01\\x01\\x00\\x00\\x00\\x00\\x00\\x00\\x00\\x00\\x00\\x02\\x00\\xb7\\x00:\\xff\\xff\\xff\\xff\\xff\\xff\\xff\\x00\\xff\\xff\\xff\\xff\\xff\\xff\\xff\\xff\\xfe\\xff\\xff\\xff:/usr/libexec/qemu-binfmt/aarch64-binfmt-P:OPF\n";

describe("the arm64 handler", () => {
  it("keeps Debian's magic and mask, names the static emulator, and fixes it at registration (F)", () => {
    const [, name, type, offset, magic, mask, interpreter, flags] = handlerLine(DEBIAN).split(":");
    expect({ name, type, offset, interpreter, flags }).toEqual({ name: "buildpod-aarch64", type: "M", offset: "", interpreter: "/usr/bin/qemu-aarch64-static", flags: "PF" });
    expect(magic).toBe(DEBIAN.split(":")[4]);
    expect(mask).toBe(DEBIAN.split(":")[5]);
    // e_machine 0xb7 (aarch64) at bytes 18-19 of a 64-bit little-endian ELF header.
    expect(magic.endsWith("\\xb7\\x00")).toBe(true);
  });

  it("refuses a line it does not understand", () => {
    expect(() => handlerLine(":x:E::exe::/bin/x:")).toThrow(/unexpected binfmt.d line/);
  });
});
