// The command's request options from source (the bundle-level tests are in cli.test.ts): flags -> request.
import { Command } from "commander";
import { describe, expect, it } from "vitest";
import { addRequestOptions, requestFromFlags } from "../../adapters/cli/options.js";

function fromFlags(...args: string[]) {
  const cmd = addRequestOptions(new Command("render").exitOverride());
  cmd.parse(args, { from: "user" });
  return requestFromFlags(cmd.opts());
}

const GIT = ["--git", "https://git.example.com/team/app.git", "-t", "registry.example.com/team/app:1.0"];

describe("layer cache flags", () => {
  it("--cache and --cache-mode set the request's cache", () => {
    expect(fromFlags(...GIT, "--cache", "registry.example.com/team/app-cache").req.cache)
      .toEqual({ repository: "registry.example.com/team/app-cache", registry: "registry.example.com", mode: "read-write" });
    expect(fromFlags(...GIT, "--builder", "kaniko", "--cache", "registry.example.com/c", "--cache-mode", "read").req.cache?.mode).toBe("read");
  });

  it("errors name the flag", () => {
    expect(() => fromFlags(...GIT, "--cache", "registry.example.com/c:tag")).toThrow(/^--cache \(cache\.repository\): .*names a tag/);
    expect(() => fromFlags(...GIT, "--cache", "registry.example.com/c", "--cache-mode", "sometimes")).toThrow(/^--cache-mode \(cache\.mode\): unknown value "sometimes"/);
    expect(() => fromFlags(...GIT, "--cache-mode", "read")).toThrow(/^cache\.repository: is required: .*\(--cache\)$/);
  });
});
