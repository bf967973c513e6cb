import { defineConfig } from "vitest/config";

// unit: no cluster. adapters: the Jenkins and Tekton files through their linters and with stand-ins (Java).
// cluster: the test cluster's own tests. e2e: builds on one shared test cluster (the real control plane and
// kubelet of test/cluster/kube) started by the e2e global setup, for the core, the command, the GitHub Action
// and the Jenkins and Tekton scripts, and builds through the fault proxy in front of its second API server
// (test/e2e/faults.test.ts). Builds are heavy on a 2-core machine: e2e files run one at a time.
export default defineConfig({
  test: {
    reporters: ["default", "json"],
    outputFile: { json: "build/test-results.json" },
    projects: [
      { test: { name: "unit", include: ["test/unit/**/*.test.ts"] } },
      {
        test: {
          name: "adapters", include: ["test/adapters/**/*.test.ts"], exclude: ["test/adapters/**/*.cluster.test.ts"],
          testTimeout: 120_000,
        },
      },
      { test: { name: "cluster", include: ["test/cluster/**/*.test.ts"], testTimeout: 120_000, hookTimeout: 900_000 } },
      {
        test: {
          name: "e2e",
          include: ["test/e2e/**/*.test.ts", "test/action/**/*.test.ts", "test/adapters/**/*.cluster.test.ts"],
          globalSetup: ["test/e2e/global-setup.ts"],
          fileParallelism: false, testTimeout: 240_000, hookTimeout: 900_000,
        },
      },
    ],
  },
});
