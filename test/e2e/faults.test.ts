// Following a build through the fault proxy (test/cluster/cmd/faultproxy) in front of the test cluster's API
// server: every log line exactly once and in order, no duplicate build, the result right. Each test also
// checks that its faults were met, so that a client that stopped making a request cannot pass unnoticed.
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { newRunId, startBuild, type RunOptions } from "../../core/index.js";
import { build as buildAs, faults, faultyCluster, image, request_, tc } from "./kit.js";
import { ALL, chatty, expectWholeLogAgain, missing, numbered } from "./numbered.js";

/** Runs a build to its end through the fault proxy. */
const build = (raw: Record<string, unknown>, opts: RunOptions = {}) => buildAs(raw, opts, tc().faults!.kubeconfig);

beforeEach(async () => {
  await faults().resetStats();
});

afterEach(async () => {
  await faults().clear();
});

const describeFaults = describe.skipIf(!tc().faults);

describeFaults("following a build through faults", () => {
  it("log streams cut mid-line and mid-stream, ended early: no line lost or repeated", async () => {
    await faults().add([
      { kind: "cutLog", afterBytes: 20_000, mode: "destroy", path: "/log$", count: 3 },
      { kind: "cutLog", afterBytes: 7_777, mode: "end", path: "/log$", count: 3 },
    ]);
    const { result, lines } = await build({ source: chatty(), output: { image: image("faults:logs") } });
    expect(result.status, result.message).toBe("Complete");
    expect(numbered(lines.build), `${missing(numbered(lines.build))} ${JSON.stringify(lines.build.filter((l) => l.includes("of ") && !/^line \d+ of \d+$/.test(l)))}`).toEqual(ALL);
    expect((await faults().stats()).applied.cutLog).toBe(6);
  });

  it("lines over 16 KiB, which the runtime writes as partial entries, each whole and once through cut streams", async () => {
    await faults().add({ kind: "cutLog", afterBytes: 50_000, mode: "destroy", path: "/log$", count: 3 });
    // 40,000 characters a line, so the runtime (16 KiB a log entry) splits each into three entries; a sleep
    // now and then, so that the stream is cut while the build still writes; 800 kB in all, under the size
    // at which the suite's kubelet rotates logs (rotation.test.ts).
    const body = "RUN i=0; pad=$(head -c 40000 /dev/zero | tr '\\0' x); while [ $i -lt 20 ]; do i=$((i+1)); echo \"long $i $pad\"; if [ $((i % 5)) -eq 0 ]; then sleep 1; fi; done";
    const { result, lines } = await build({ source: { dockerfile: `FROM ${tc().busybox}\n${body}\n` }, output: { image: image("faults:long-lines") } });
    expect(result.status, result.message).toBe("Complete");
    const long = lines.build.filter((l) => l.startsWith("long "));
    expect(long.map((l) => Number(l.split(" ")[1]))).toEqual(Array.from({ length: 20 }, (_, i) => i + 1));
    for (const l of long) expect(l).toMatch(/^long \d+ x{40000}$/);
    expect((await faults().stats()).applied.cutLog).toBe(3);
  });

  it("watches dropped, resumed into etcd's own 410 Gone, and API calls answered 429 and 5xx", async () => {
    await faults().add([
      { kind: "dropWatch", afterEvents: 1, count: 3 },
      // etcd compacted past every resourceVersion the client has seen: its resumed watch gets 410 Gone.
      { kind: "dropWatch", afterEvents: 1, compact: true, count: 1 },
      { kind: "tooManyRequests", retryAfterSeconds: 1, verb: "get", count: 2 },
      { kind: "error", status: 500, verb: "get", count: 2 },
      { kind: "error", status: 503, path: "/log$", count: 2 },
      { kind: "tooManyRequests", retryAfterSeconds: 1, verb: "create", path: "/jobs$", count: 1 },
    ]);
    const { result, lines } = await build({ source: chatty(), output: { image: image("faults:watch") } });
    expect(result.status, result.message).toBe("Complete");
    expect(numbered(lines.build), `${missing(numbered(lines.build))} ${JSON.stringify(lines.build.filter((l) => l.includes("of ") && !/^line \d+ of \d+$/.test(l)))}`).toEqual(ALL);
    expect(result.digest).toMatch(/^sha256:/);
    const seen = await faults().stats();
    expect(seen.applied, JSON.stringify(seen)).toEqual({ dropWatch: 4, tooManyRequests: 3, error: 4 });
    expect(seen.gone, JSON.stringify(seen)).toBeGreaterThanOrEqual(1);
  });

  it("a slow API server (every answer 300 ms late): the build and its whole log", async () => {
    await faults().add({ kind: "delay", ms: 300 });
    const { result, lines } = await build({ source: chatty(), output: { image: image("faults:slow") } });
    expect(result.status, result.message).toBe("Complete");
    expect(numbered(lines.build), missing(numbered(lines.build))).toEqual(ALL);
    expect((await faults().stats()).applied.delay).toBeGreaterThan(3);
  });

  it("an upload refused once is retried; an upload that outlasts its timeout is stopped and fails the build", async () => {
    const dir = mkdtempSync(join(tmpdir(), "buildpod-upload-faults-"));
    writeFileSync(join(dir, "Dockerfile"), `FROM ${tc().busybox}\nCOPY hello.txt /hello.txt\nRUN cat /hello.txt\n`);
    writeFileSync(join(dir, "hello.txt"), "uploaded once\n");
    await faults().add({ kind: "error", status: 500, path: "/exec$", count: 1 });
    const retried = await build({ source: { binary: { dir } }, output: { image: image("faults:upload-retry") } });
    expect(retried.result.status, retried.result.message).toBe("Complete");
    expect(retried.progress.join("\n")).toMatch(/upload failed \(.*\); retrying/);
    expect(retried.lines.build).toContain("uploaded once");

    // The exec session opens only after the timeout: it must be stopped, not left to finish the upload.
    await faults().add({ kind: "delay", ms: 6000, path: "/exec$", count: 1 });
    // The client's limit only (the pod waits its default 10 minutes), so that the client must do the stopping.
    const slow = await build({ source: { binary: { dir } }, output: { image: image("faults:upload-slow") } }, { uploadTimeout: 2 });
    expect(slow.result.status, `${slow.result.reason}: ${slow.result.message}\n${slow.progress.join("\n")}`).toBe("StartFailed");
    expect(slow.result.reason).toBe("UploadFailed");
    expect(slow.result.message).toMatch(/did not finish within 2s/);
    expect(slow.lines.build ?? []).not.toContain("uploaded once");
  });

  it("a create whose answer is lost is retried and follows the build it made; a name someone else holds is refused", async () => {
    await faults().add({ kind: "loseAnswer", verb: "create", path: "/jobs$", count: 1 });
    const raw = { source: { dockerfile: `FROM ${tc().busybox}\nRUN echo made once\n` }, output: { image: image("faults:lost-create") } };
    const id = newRunId();
    const { result, lines } = await build(raw, { id });
    expect(result.status, result.message).toBe("Complete");
    expect(lines.build.filter((l) => l === "made once")).toHaveLength(1);
    expect((await faults().stats()).applied.loseAnswer).toBe(1);
    // The same name again is another build's: refused, not adopted.
    const again = await startBuild(await faultyCluster(), request_(raw), { id }).then(() => "started", (e: Error) => e.message);
    expect(again).toMatch(/a build named \S+ already exists in namespace \S+; use another run id/);
  });
});

describeFaults("following a build that has finished, through faults", () => {
  it("reads the whole log even when streams end early without an error", async () => {
    const first = await build({ source: chatty(), output: { image: image("faults:after") } });
    expect(first.result.status).toBe("Complete");
    await faults().add({ kind: "cutLog", afterBytes: 9_000, mode: "end", path: "/log$", count: 4 });
    await expectWholeLogAgain(first.result, await faultyCluster());
    expect((await faults().stats()).applied.cutLog).toBe(4);
  });
});
