// The Jenkins and Tekton adapter tests on their own: npx vitest run --config test/adapters/vitest.config.ts
// adapters: linters and the adapters' scripts with stand-ins (no cluster); adapters-cluster: the scripts
// against the test cluster that the e2e global setup starts (or a real one, see test/e2e/global-setup.ts).
import { fileURLToPath } from "node:url";
import { defineConfig } from "vitest/config";

export default defineConfig({
  root: fileURLToPath(new URL("../..", import.meta.url)),
  test: {
    projects: [
      {
        test: {
          name: "adapters", include: ["test/adapters/**/*.test.ts"], exclude: ["test/adapters/**/*.cluster.test.ts"],
          testTimeout: 120_000,
        },
      },
      {
        test: {
          name: "adapters-cluster", include: ["test/adapters/**/*.cluster.test.ts"], globalSetup: ["test/e2e/global-setup.ts"],
          fileParallelism: false, testTimeout: 240_000, hookTimeout: 900_000,
        },
      },
    ],
  },
});
