import { fileURLToPath } from "node:url";
import { defineConfig } from "vitest/config";

// The GitHub Action's tests: unit tests of its pure parts, and the bundled action run as the runner runs
// it, against the test cluster the e2e global setup starts. Builds are heavy: files run one at a time.
export default defineConfig({
  test: {
    root: fileURLToPath(new URL("../..", import.meta.url)),
    include: ["test/action/**/*.test.ts"],
    globalSetup: ["test/e2e/global-setup.ts"],
    fileParallelism: false,
    testTimeout: 240_000,
    hookTimeout: 900_000,
  },
});
