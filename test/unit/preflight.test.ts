// Preflight against a stand-in cluster that counts the questions asked: builds started together share
// one run of the same checks; a finished check is asked again; different checks are not shared.
import { describe, expect, it } from "vitest";
import { ClusterError, parseRequest, preflight, PreflightError, render, type Cluster } from "../../core/index.js";
import { dryRunPod } from "../../core/preflight.js";

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

describe("the pod in a server-side dry run", () => {
  const job = render(request(), { id: "x1y2z" });
  const refusing = (code: number | undefined, message: string) => {
    const tried: unknown[] = [];
    const fake = {
      async dryRunPod(pod: unknown) {
        tried.push(pod);
        throw new ClusterError(`trying the build pod in namespace builds (dry run): ${message}`, code);
      },
    };
    return { cluster: fake as unknown as Cluster, tried };
  };

  it("is the pod the Job's template makes, in the build's namespace", async () => {
    const { cluster, tried } = refusing(403, 'pods "app-x1y2z-" is forbidden: error looking up service account builds/ci: serviceaccount "ci" not found');
    await expect(dryRunPod(cluster, job)).rejects.toThrow(PreflightError);
    expect(tried[0]).toMatchObject({ kind: "Pod", metadata: { generateName: `${job.metadata!.name}-`, namespace: "builds" }, spec: { restartPolicy: "Never" } });
  });

  it("a refusal only a change can fix is the preflight's error, with its reason", async () => {
    const err = await dryRunPod(refusing(403, 'pods "a-" is forbidden: violates PodSecurity "baseline:latest": privileged').cluster, job).catch((e: PreflightError) => e);
    expect(err).toMatchObject({ reason: "PodSecurity", message: expect.stringMatching(/^the cluster would refuse the build pod: the namespace's Pod Security level baseline:latest refuses/) });
  });

  it("a full quota, a server error and a broken connection let the build go on", async () => {
    await expect(dryRunPod(refusing(403, 'pods "a-" is forbidden: exceeded quota: q, requested: cpu=1, used: cpu=3, limited: cpu=4').cluster, job)).resolves.toBeUndefined();
    await expect(dryRunPod(refusing(500, "etcdserver: request timed out").cluster, job)).resolves.toBeUndefined();
    await expect(dryRunPod(refusing(undefined, "socket hang up").cluster, job)).resolves.toBeUndefined();
  });
});

describe("what the preflight could not check", () => {
  it("says so: Secrets it may not read; Pod Security when it may neither read the namespace nor dry-run the pod", async () => {
    const fake = {
      async readNamespace() {
        throw new ClusterError("forbidden", 403);
      },
      async mayI(_ns: string, a: { verb: string; resource: string }) {
        return !(a.resource === "secrets" || (a.verb === "create" && a.resource === "pods"));
      },
    };
    const req = parseRequest({ name: "app", namespace: "builds", source: { git: { url: "https://git.example.com/app" } }, output: { image: "registry.example.com/app:1", pushSecret: "regcred" } });
    const report = await preflight(fake as unknown as Cluster, req);
    expect(report.mayDryRun).toBe(false);
    expect(report.skipped).toEqual([
      expect.stringMatching(/^the namespace's Pod Security level \(you may not get the namespace, nor create pods for a dry run/),
      'whether the push secret "regcred" exists (you may not get it; a missing one is reported when the pod starts)',
    ]);
  });
});
