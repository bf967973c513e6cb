// The shell scripts build containers run, and the paths they share. The scripts are the .sh files in
// scripts/ (shellcheck checks them: test/unit/shellcheck.test.ts). They are constants: every value that
// comes from a request reaches them as an environment variable or as an argument ("$@"), always quoted,
// never spliced into the text. Tests check that no request value ever appears in a script.
import { readFileSync } from "node:fs";

/** Paths shared by every container of a build pod. */
export const PATHS = {
  workspace: "/workspace",
  source: "/workspace/source",
  meta: "/workspace/meta",
  pushConfig: "/var/run/buildpod/push",
  sourceSecret: "/var/run/buildpod/source-secret",
  buildSecrets: "/var/run/buildpod/build-secrets",
  pullConfig: "/var/run/buildpod/pull",
  caBundle: "/var/run/buildpod/ca",
  registriesConf: "/var/run/buildpod/registries",
  dockerSocket: "/var/run/docker.sock",
  terminationLog: "/dev/termination-log",
  /** The pushed image's digest, where a builder without curl leaves it for the provenance container. */
  pushedDigest: "/workspace/meta/pushed-digest",
  /** The provenance container's scratch directory. */
  provenanceTmp: "/workspace/meta/provenance",
  uploadDone: "/workspace/meta/upload-done",
  inlineDockerfile: "/workspace/meta/Dockerfile",
  incrementalDockerfile: "/workspace/meta/Dockerfile.incremental",
  sourceDateEpoch: "/workspace/meta/source-date-epoch",
} as const;

/**
 * A script as the container gets it. A file's leading comment lines (what the file is, its shellcheck
 * directive) are left out; a line `. ./NAME.sh` is replaced by NAME.sh's text, so the scripts that share
 * a part each read top to bottom as they run, and shellcheck follows the same line to check them whole.
 */
function compose(name: string): string {
  const text = FILES[name];
  if (text === undefined) throw new Error(`core/scripts/${name} is not loaded (add it to FILES in core/scripts.ts)`);
  return text
    .replace(/^(?:#.*\n)+/, "")
    .replace(/^\. \.\/([\w-]+\.sh)\n/gm, (_, part: string) => compose(part));
}

/**
 * The .sh files, each read by a literal URL beside this module: vitest reads them from core/scripts/,
 * the compiled library from build/core/scripts/ (npm run build copies them there: tsc copies no .sh),
 * and ncc, which follows readFileSync(new URL(literal, import.meta.url)), copies them into each bundle
 * of dist/ and points the read there. A computed name would defeat ncc: it copies what it can resolve.
 */
const FILES: Record<string, string> = {
  "source.sh": readFileSync(new URL("./scripts/source.sh", import.meta.url), "utf8"),
  "buildah-prelude.sh": readFileSync(new URL("./scripts/buildah-prelude.sh", import.meta.url), "utf8"),
  "provenance.sh": readFileSync(new URL("./scripts/provenance.sh", import.meta.url), "utf8"),
  "buildah-push.sh": readFileSync(new URL("./scripts/buildah-push.sh", import.meta.url), "utf8"),
  "buildah.sh": readFileSync(new URL("./scripts/buildah.sh", import.meta.url), "utf8"),
  "s2i.sh": readFileSync(new URL("./scripts/s2i.sh", import.meta.url), "utf8"),
  "buildkit.sh": readFileSync(new URL("./scripts/buildkit.sh", import.meta.url), "utf8"),
  "docker.sh": readFileSync(new URL("./scripts/docker.sh", import.meta.url), "utf8"),
  "buildah-index.sh": readFileSync(new URL("./scripts/buildah-index.sh", import.meta.url), "utf8"),
  "provenance-after.sh": readFileSync(new URL("./scripts/provenance-after.sh", import.meta.url), "utf8"),
};

/** The source container: fetches or receives the source, writes the inline Dockerfiles and the source date. */
export const SOURCE_SCRIPT = compose("source.sh");
/** docker strategy, buildah builder. */
export const BUILDAH_SCRIPT = compose("buildah.sh");
/** source strategy (S2I) with buildah. */
export const S2I_SCRIPT = compose("s2i.sh");
/** docker strategy, rootless BuildKit. */
export const BUILDKIT_SCRIPT = compose("buildkit.sh");
/** docker strategy through the node's Docker daemon. */
export const DOCKER_SCRIPT = compose("docker.sh");

/** The image index of a build for several platforms, with buildah. */
export const INDEX_SCRIPT = compose("buildah-index.sh");

/** The provenance container after a builder without curl. */
export const PROVENANCE_SCRIPT = compose("provenance-after.sh");

/** Every script, so tests can check none of them carries a request value. */
export const ALL_SCRIPTS = [SOURCE_SCRIPT, BUILDAH_SCRIPT, S2I_SCRIPT, BUILDKIT_SCRIPT, DOCKER_SCRIPT, INDEX_SCRIPT, PROVENANCE_SCRIPT];
