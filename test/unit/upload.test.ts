import { mkdirSync, mkdtempSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { selectFiles } from "../../core/index.js";

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
