// The field table against every entry point: the command's help, action.yml, the Jenkins step's OPTIONS
// and the Tekton Task's params, env, args and script. A field missing from one of them fails here.
import { spawnSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { parse as parseYaml } from "yaml";
import { FIELDS, inputName, parseRequest, setPath, stepParameter, taskParam } from "../../core/model.js";

const ROOT = join(import.meta.dirname, "../..");
const read = (path: string) => readFileSync(join(ROOT, path), "utf8");
const unique = (values: string[]) => expect(new Set(values).size, values.join(" ")).toBe(values.length);

describe("the field table", () => {
  it("names each field once per entry point", () => {
    unique(FIELDS.map((f) => f.path));
    unique(FIELDS.map((f) => f.flag));
    unique(FIELDS.flatMap((f) => (f.short ? [f.short] : [])));
    unique(FIELDS.map(inputName));
    unique(FIELDS.map(stepParameter));
    unique(FIELDS.map(taskParam));
  });

  it("holds only fields the build file knows, and the build file knows them all", () => {
    const unknown = (path: string) => {
      // A valid request with the field present but not set: it may be refused as missing, never as unknown.
      const raw: Record<string, unknown> = { source: { git: { url: "https://git.example.com/a" } }, output: { image: "registry.example.com/a:1" } };
      setPath(raw, path, undefined);
      try {
        parseRequest(raw);
        return false;
      } catch (err) {
        return /unknown field/.test((err as Error).message);
      }
    };
    for (const f of FIELDS) expect(unknown(f.path), f.path).toBe(false);
    expect(unknown("output.imgae")).toBe(true);
  });
});

describe("every entry point offers every field", () => {
  it("buildpod render --help and run --help", () => {
    for (const command of ["render", "run"]) {
      const help = spawnSync(process.execPath, [join(ROOT, "bin/buildpod.js"), command, "--help"], { encoding: "utf8" }).stdout;
      for (const f of FIELDS) expect(help, `${command} ${f.flag}`).toMatch(new RegExp(`(^|[ ,])${f.flag}( |$)`, "m"));
    }
  });

  it("action.yml: an input per field, and no other inputs than the action's own", () => {
    const inputs = Object.keys((parseYaml(read("action.yml")) as { inputs: Record<string, unknown> }).inputs);
    const own = ["kubeconfig", "kube-context", "file", "preflight"];
    expect(inputs.filter((i) => !own.includes(i)).sort()).toEqual(FIELDS.map(inputName).sort());
  });

  it("the Jenkins step: OPTIONS maps each parameter to its option and kind", () => {
    const body = /static final Map<String, List<String>> OPTIONS = \[([\s\S]*?)\n\]/.exec(read("adapters/jenkins/vars/buildpod.groovy"))![1];
    const options = Object.fromEntries([...body.matchAll(/^\s+(\w+): \['(--[a-z-]+)', '(\w+)'\],$/gm)].map((m) => [m[1], [m[2], m[3]]]));
    expect(options).toEqual(Object.fromEntries(FIELDS.map((f) => [stepParameter(f), [f.flag, f.negated ? "negated" : f.kind]])));
  });

  describe("the Tekton Task", () => {
    const task = parseYaml(read("adapters/tekton/buildpod-task.yaml")) as {
      spec: { params: { name: string; type: string }[]; steps: { env: { name: string; value: string }[]; args: string[]; script: string }[] };
    };
    const step = task.spec.steps[0];
    const lists: Record<string, string[]> = {};
    for (const m of step.script.matchAll(/\n\s*([a-z]+)=\(\n([\s\S]*?)\n\s*\)/g)) lists[m[1]] = m[2].trim().split(/\s+/);
    const pairs = (name: string) => Object.fromEntries(lists[name].map((p) => [p.slice(0, p.indexOf("=")), p.slice(p.indexOf("=") + 1)]));
    /** Params the script reads itself, not through its lists (the namespace's fallback, the workspace's paths). */
    const OWN_HANDLING = ["BUILD_NAMESPACE", "FROM_DIR", "FROM_ARCHIVE"];

    for (const f of FIELDS) {
      const name = taskParam(f);
      it(`${name} (${f.flag})`, () => {
        const param = task.spec.params.find((p) => p.name === name);
        expect(param, name).toBeDefined();
        if (f.kind === "list" || f.kind === "map") {
          expect(param!.type).toBe("array");
          const at = step.args.indexOf(`$(params.${name}[*])`);
          expect(step.args[at - 1]).toBe(f.flag);
          expect(lists.arrays).toContain(f.flag);
          return;
        }
        expect(param!.type).toBe("string");
        expect(step.env).toContainEqual({ name: `PARAM_${name}`, value: `$(params.${name})` });
        if (OWN_HANDLING.includes(name)) expect(step.script).toContain(`$PARAM_${name}`);
        else expect(pairs(f.negated ? "negations" : f.kind === "boolean" ? "switches" : "options")[name]).toBe(f.flag);
      });
    }

    it("lists nothing the table does not hold", () => {
      const flags = new Set(FIELDS.map((f) => f.flag));
      for (const flag of [...Object.values(pairs("options")), ...Object.values(pairs("switches")), ...Object.values(pairs("negations")), ...lists.arrays]) expect(flags, flag).toContain(flag);
    });
  });
});
