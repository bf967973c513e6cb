// Preflight against a stand-in cluster that counts the questions asked: builds started together share
// one run of the same checks; a finished check is asked again; different checks are not shared.
import { describe, expect, it } from "vitest";
import { parseRequest, preflight, type Cluster } from "../../core/index.js";

function countingCluster(allowed = true) {
  const asked = { namespaces: 0, reviews: 0 };
  const fake = {
    async readNamespace(name: string) {
      asked.namespaces++;
      await new Promise((r) => setTimeout(r, 10));
      return { metadata: { name } };
    },
    async mayI() {
      asked.reviews++;
      await new Promise((r) => setTimeout(r, 10));
      return allowed;
    },
  };
  return { cluster: fake as unknown as Cluster, asked };
}

const request = (namespace = "builds") =>
  parseRequest({ name: "app", namespace, source: { git: { url: "https://git.example.com/app" } }, output: { image: "registry.example.com/app:1" } });

describe("preflight shared by builds started together", () => {
  it("ten builds at once ask the questions of one", async () => {
    const { cluster, asked } = countingCluster();
    await preflight(cluster, request());
    const one = { ...asked };
    asked.namespaces = asked.reviews = 0;
    await Promise.all(Array.from({ length: 10 }, () => preflight(cluster, request())));
    expect(asked).toEqual(one);
  });

  it("a check that has finished is asked again, and another namespace is checked on its own", async () => {
    const { cluster, asked } = countingCluster();
    await preflight(cluster, request());
    await preflight(cluster, request());
    await Promise.all([preflight(cluster, request()), preflight(cluster, request("other"))]);
    expect(asked.namespaces).toBe(4);
  });

  it("builds sharing a failed check all get its error", async () => {
    const { cluster } = countingCluster(false);
    const results = await Promise.allSettled([preflight(cluster, request()), preflight(cluster, request())]);
    expect(results.map((r) => r.status)).toEqual(["rejected", "rejected"]);
    expect(String((results[1] as PromiseRejectedResult).reason)).toMatch(/you may not create jobs\.batch/);
  });
});
