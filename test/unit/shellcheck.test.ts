// Every .sh file of the project passes shellcheck (Debian's package, installed by
// test/cluster/infra/install.sh) with no finding of any severity; the linter really runs (a known mistake
// fails); and what it checks in core/scripts/ is what the build pods get.
import { spawnSync } from "node:child_process";
import { cpSync, existsSync, mkdtempSync, readdirSync, readFileSync, appendFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, describe, expect, it } from "vitest";
import { ALL_SCRIPTS } from "../../core/scripts.js";

const ROOT = fileURLToPath(new URL("../../", import.meta.url));
const SCRIPTS = join(ROOT, "core/scripts");

/** shellcheck's findings on `files`, one a line ("file:line:col: severity: message [SCnnnn]"); "" for none. */
function lint(files: string[]): string {
  const r = spawnSync("shellcheck", ["--format=gcc", ...files], { cwd: ROOT, encoding: "utf8" });
  if (r.error) throw new Error(`shellcheck did not run (${r.error.message}); install it: bash test/cluster/infra/install.sh`);
  const out = `${r.stdout}${r.stderr}`.trim();
  if (r.status !== 0 && !out) throw new Error(`shellcheck exited with ${r.status} and said nothing`);
  return out;
}

/**
 * The project's .sh files as git sees them, new ones too; not dist/, where ncc puts copies of core/scripts
 * without their .shellcheckrc.
 */
function projectScripts(): string[] {
  const r = spawnSync("git", ["ls-files", "--cached", "--others", "--exclude-standard", "*.sh"], { cwd: ROOT, encoding: "utf8" });
  if (r.status !== 0) throw new Error(`git ls-files failed: ${r.stderr}`);
  return r.stdout.split("\n").filter((f) => f && !f.startsWith("dist/") && existsSync(join(ROOT, f)));
}

describe("shellcheck", () => {
  const temp = mkdtempSync(join(tmpdir(), "buildpod-shellcheck-"));
  afterAll(() => rmSync(temp, { recursive: true, force: true }));

  it("finds nothing in any .sh file", () => {
    const files = projectScripts();
    expect(files).toEqual(expect.arrayContaining(["core/scripts/source.sh", "core/scripts/buildah.sh", "test/cluster/infra/install.sh"]));
    expect(lint(files)).toBe("");
  });

  it("fails on a mistake, in a script that includes a fragment as core/scripts' do", () => {
    // A copy of core/scripts with its .shellcheckrc: a misspelt variable, unquoted, after the prelude.
    cpSync(SCRIPTS, temp, { recursive: true });
    appendFileSync(join(temp, "buildah.sh"), "echo $epohc\n");
    const findings = lint([join(temp, "buildah.sh")]);
    expect(findings).toMatch(/buildah\.sh:\d+:\d+: warning: epohc is referenced but not assigned.* \[SC2154\]/);
    expect(findings).toMatch(/\[SC2086\]/);
    // ...and $epoch, set in the included prelude, is not reported: shellcheck followed the include.
    expect(findings).not.toMatch(/epoch is referenced/);
  });
});

describe("what shellcheck checks is what the pods get", () => {
  const files = readdirSync(SCRIPTS).filter((f) => f.endsWith(".sh"));

  it("every line of every core/scripts file but its header and includes is in a script", () => {
    for (const file of files) {
      const lines = readFileSync(join(SCRIPTS, file), "utf8").replace(/^(?:#.*\n)+/, "").split("\n").filter((l) => l && !/^\. \.\//.test(l));
      for (const line of lines) expect(ALL_SCRIPTS.some((s) => s.split("\n").includes(line)), `${file}: ${line}`).toBe(true);
    }
  });

  it("no script keeps a header or an include line", () => {
    for (const script of ALL_SCRIPTS) {
      expect(script.startsWith("set -eu\n")).toBe(true);
      expect(script).not.toMatch(/^\. \.\//m);
      expect(script).not.toMatch(/shellcheck shell=/);
    }
  });
});
