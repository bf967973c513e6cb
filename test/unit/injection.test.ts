// No user value may be spliced into a shell script: every script is a constant, and values reach the
// container as environment variables or arguments.
import { describe, expect, it } from "vitest";
import { parseRequest, render } from "../../core/index.js";
import { ALL_SCRIPTS } from "../../core/scripts.js";

const EVIL = "x$(touch /tmp/pwned)`id`;rm -rf /'\"";

function scriptsOf(obj: any): string[] {
  const spec = obj.kind === "Job" ? obj.spec.template.spec : obj.spec;
  return [...spec.initContainers, ...spec.containers]
    .filter((c: any) => c.command?.[1] === "-c")
    .map((c: any) => c.command[2]);
}

const requests: Record<string, unknown>[] = [
  { strategy: { type: "docker", builder: "buildah", buildArgs: { ARG: EVIL }, target: "stage" } },
  { strategy: { type: "docker", builder: "buildkit", buildArgs: { ARG: EVIL } } },
  { strategy: { type: "docker", builder: "buildah", buildArgs: { ARG: EVIL } }, cache: { repository: "evilcache.example.com:5000/evilcache" } },
  { strategy: { type: "docker", builder: "buildkit", buildArgs: { ARG: EVIL } }, cache: { repository: "evilcache.example.com:5000/evilcache", mode: "read" } },
  { strategy: { type: "docker", builder: "docker", allowDockerSocket: true, buildArgs: { ARG: EVIL } } },
  { strategy: { type: "source", builderImage: "registry.example.com/s2i/evil:1", env: { V: EVIL }, incremental: true } },
  { strategy: { type: "custom", builderImage: "registry.example.com/evil:1", env: { V: EVIL } } },
];

describe("request values never reach a script's text", () => {
  for (const strategy of requests) {
    it(JSON.stringify(strategy.strategy).slice(0, 70), () => {
      const req = parseRequest({
        ...strategy,
        name: "evilname",
        source: { git: { url: "https://git.example.com/evil$(id).git", ref: "evil`id`" }, contextDir: "evil dir",
          // S2I builds generate their Dockerfile: an inline one is refused there.
          ...((strategy.strategy as { type: string }).type === "source" ? {} : { dockerfile: `FROM busybox\nRUN echo ${EVIL}` }) },
        output: { image: "registry.example.com/evilrepo:eviltag", labels: { "evil.label": EVIL }, pushSecret: "evilsecret" },
      });
      const obj = render(req, { id: "abcde" });
      const scripts = scriptsOf(obj);
      expect(scripts.length).toBeGreaterThan(0);
      for (const script of scripts) {
        expect(ALL_SCRIPTS).toContain(script);
        for (const value of [EVIL, "evil$(id)", "evil`id`", "evil dir", "evilrepo", "eviltag", "evilsecret", "evilname", "evil.label", "evilcache"]) {
          expect(script).not.toContain(value);
        }
      }
      // ...while the values do arrive, as environment or arguments.
      expect(JSON.stringify(obj)).toContain(JSON.stringify(EVIL).slice(1, -1));
    });
  }
});
