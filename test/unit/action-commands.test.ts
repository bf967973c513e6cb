import * as core from "@actions/core";
import { describe, expect, it, vi } from "vitest";
import { input, maskCommand } from "../../action/commands.js";

describe("the action's first-line commands", () => {
  it("reads an input as @actions/core does: INPUT_<NAME>, spaces as _, upper case, trimmed", () => {
    const env = { "INPUT_KUBE-CONTEXT": "  ctx \n", "INPUT_BUILD ARGS": "no", INPUT_BUILD_ARGS: "a=1" };
    for (const [k, v] of Object.entries(env)) vi.stubEnv(k, v);
    for (const name of ["kube-context", "build args", "missing"]) expect(input(name, env)).toBe(core.getInput(name));
    expect(input("kube-context", env)).toBe("ctx");
    expect(input("build args", env)).toBe("a=1");
    vi.unstubAllEnvs();
  });

  it("escapes a mask's value so the runner reads back the whole secret, newlines included", () => {
    expect(maskCommand("a%b\r\nc")).toBe("::add-mask::a%25b%0D%0Ac\n");
  });
});
