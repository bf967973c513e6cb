// The kubelet rotates a container's log at containerLogMaxSize (1Mi on the suite's cluster, checked every
// 3 s): a build that writes several times that is followed across the rotations, every line once and in
// order.
import { readdirSync } from "node:fs";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { runBuild } from "../../core/index.js";
import { build, faults, faultyCluster, image, request_, tc } from "./kit.js";

const LINES = 60_000;
/** 60,000 lines of 64 bytes (3.8 MB) over about 12 s, so that the log rotates while it is followed. */
const writer = () => ({
  dockerfile: `FROM ${tc().busybox}\nRUN i=0; pad=$(head -c 40 /dev/zero | tr '\\0' r); while [ $i -lt ${LINES} ]; do i=$((i+1)); echo "rot $i $pad"; if [ $((i % 5000)) -eq 0 ]; then sleep 1; fi; done\n`,
});

function check(lines: string[]): string {
  const got = lines.filter((l) => l.startsWith("rot ")).map((l) => Number(l.split(" ")[1]));
  const seen = new Set(got);
  const lost = [];
  for (let i = 1; i <= LINES && lost.length < 10; i++) if (!seen.has(i)) lost.push(i);
  const twice = got.filter((n, i) => got.indexOf(n) !== i).slice(0, 10);
  const order = got.every((n, i) => i === 0 || n > got[i - 1]!);
  return `${got.length} lines; lost ${JSON.stringify(lost)}; repeated ${JSON.stringify(twice)}; in order: ${order}`;
}

/** The rotated files the kubelet keeps of the pod's build container ("0.log.20261203-114501", maybe .gz). */
function rotated(pod: string): string[] {
  const dir = tc().podLogs;
  const mine = readdirSync(dir).find((d) => d.startsWith(`default_${pod}_`));
  return mine ? readdirSync(join(dir, mine, "build")).filter((f) => /\.log\.\d{8}-\d{6}/.test(f)) : [];
}

afterEach(async () => {
  if (tc().faults) await faults().clear();
});

// A cluster prepared outside (kind) rotates at the kubelet's default 10 MiB, and its log files are not here.
describe.skipIf(!tc().podLogs)("a log the kubelet rotates", () => {
  it("followed live across rotations: every line once and in order", async () => {
    const { result, lines } = await build({ source: writer(), output: { image: image("rotation:live") } });
    expect(result.status, result.message).toBe("Complete");
    expect(check(lines.build ?? [])).toBe(`${LINES} lines; lost []; repeated []; in order: true`);
    expect(rotated(result.pod!).length).toBeGreaterThan(0);
  });

  it.skipIf(!tc().faults)("a stream cut and resumed after the log rotated: no line repeated or out of order; the lines lost lie in the gap the build reports", async () => {
    // The build's log stream is cut early, and its resumption held for 10 s, while the build writes on and
    // the kubelet rotates the log: the lines between are then in a file no API serves.
    await faults().resetStats();
    await faults().add([
      { kind: "cutLog", afterBytes: 700_000, mode: "destroy", path: "/log$", query: "container=build", count: 1 },
      { kind: "delay", ms: 10_000, path: "/log$", query: "sinceTime=", count: 1 },
    ]);
    const progress: string[] = [];
    const got: { n: number; time: string }[] = [];
    const result = await runBuild(await faultyCluster(), request_({ source: writer(), output: { image: image("rotation:cut") } }), {
      onProgress: (m) => progress.push(m),
      onLog: (c, l) => c === "build" && l.text.startsWith("rot ") && got.push({ n: Number(l.text.split(" ")[1]), time: l.time }),
    });
    expect(result.status, result.message).toBe("Complete");
    expect(rotated(result.pod!).length).toBeGreaterThan(0);
    expect((await faults().stats()).applied).toMatchObject({ cutLog: 1, delay: 1 });
    // Every line once and in order, except where the kubelet no longer had them: a resumed stream can only
    // read the log's newest file, and the build says which lines it could not show.
    expect(got.every((g, i) => i === 0 || g.n > got[i - 1]!.n)).toBe(true);
    const gaps = progress.map((m) => /build: lines written after (\S+) and before (\S+) are not shown: the kubelet rotated the log/.exec(m)).filter((m) => m !== null).map((m) => ({ after: m[1]!, before: m[2]! }));
    for (let i = 1; i < got.length; i++) {
      if (got[i]!.n === got[i - 1]!.n + 1) continue;
      expect(gaps, `lines ${got[i - 1]!.n + 1} to ${got[i]!.n - 1} lost with no gap reported`).toContainEqual({ after: got[i - 1]!.time, before: got[i]!.time });
    }
    expect(gaps.length).toBeGreaterThan(0);
    expect(got[0]!.n).toBe(1);
    expect(got.at(-1)!.n).toBe(LINES);
  });
});
