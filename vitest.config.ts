import { defineConfig } from "vitest/config";

// Three suites: unit (no cluster), the test cluster own tests, and end-to-end builds on one shared test
// cluster started by the e2e global setup. Builds are heavy on a 2-core machine: e2e files run one at a time.
export default defineConfig({
  test: {
    reporters: ["default", "json"],
    outputFile: { json: "build/test-results.json" },
    projects: [
      { test: { name: "unit", include: ["test/unit/**/*.test.ts"] } },
      { test: { name: "cluster", include: ["test/cluster/**/*.test.ts"], testTimeout: 120_000, hookTimeout: 900_000 } },
      {
        test: {
          name: "e2e", include: ["test/e2e/**/*.test.ts", "test/action/**/*.test.ts"], globalSetup: ["test/e2e/global-setup.ts"],
          fileParallelism: false, testTimeout: 240_000, hookTimeout: 900_000,
        },
      },
    ],
  },
});
