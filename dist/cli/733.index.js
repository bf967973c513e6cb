export const id = 733;
export const ids = [733];
export const modules = {

/***/ 733:
/***/ ((__unused_webpack___webpack_module__, __webpack_exports__, __webpack_require__) => {

// ESM COMPAT FLAG
__webpack_require__.r(__webpack_exports__);

// EXPORTS
__webpack_require__.d(__webpack_exports__, {
  renderCommand: () => (/* binding */ renderCommand)
});

// EXTERNAL MODULE: ./node_modules/yaml/dist/index.js
var dist = __webpack_require__(8815);
// EXTERNAL MODULE: ./build/core/errors.js
var errors = __webpack_require__(2807);
;// CONCATENATED MODULE: ./build/core/duration.js
// Durations as people write them in CI files: "90s", "15m", "1h30m", "2d", or a number of seconds.
const UNIT = { ms: 0.001, s: 1, m: 60, h: 3600, d: 86400 };
const PART = /(\d+(?:\.\d+)?)(ms|s|m|h|d)/y;
/** Whole seconds (rounded up), or undefined when the text is not a duration. */
function parseDuration(value) {
    if (typeof value === "number")
        return Number.isFinite(value) && value >= 0 ? Math.ceil(value) : undefined;
    if (typeof value !== "string")
        return undefined;
    const text = value.trim();
    if (/^\d+$/.test(text))
        return Number(text);
    if (text === "")
        return undefined;
    let total = 0;
    PART.lastIndex = 0;
    while (PART.lastIndex < text.length) {
        const start = PART.lastIndex;
        const m = PART.exec(text);
        if (!m || m.index !== start)
            return undefined;
        total += Number(m[1]) * UNIT[m[2]];
    }
    return Math.ceil(total);
}
/** "1h30m" from 5400: how a duration is shown back to the user. */
function formatDuration(seconds) {
    if (seconds === 0)
        return "0s";
    const parts = [];
    for (const [unit, size] of [["h", 3600], ["m", 60], ["s", 1]]) {
        const n = Math.floor(seconds / size);
        if (n > 0)
            parts.push(`${n}${unit}`);
        seconds -= n * size;
    }
    return parts.join("");
}

;// CONCATENATED MODULE: ./build/core/reference.js
// Image references, by the grammar of the distribution project's reference package.
const DOMAIN_COMPONENT = "(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])";
const DOMAIN = `(?:${DOMAIN_COMPONENT}(?:\\.${DOMAIN_COMPONENT})*|\\[[a-fA-F0-9:]+\\])(?::[0-9]+)?`;
const PATH_COMPONENT = "[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*";
const TAG = "[\\w][\\w.-]{0,127}";
const DIGEST = "[a-z0-9]+(?:[+._-][a-z0-9]+)*:[0-9a-fA-F]{32,}";
const DOMAIN_RE = new RegExp(`^${DOMAIN}$`);
const PATH_RE = new RegExp(`^${PATH_COMPONENT}(?:/${PATH_COMPONENT})*$`);
const TAG_RE = new RegExp(`^${TAG}$`);
const DIGEST_RE = new RegExp(`^${DIGEST}$`);
/** Parses a reference, or returns the reason it is not one. */
function parseReference(text) {
    if (typeof text !== "string" || text.length === 0)
        return "is empty";
    if (text !== text.trim() || /\s/.test(text))
        return "contains white space";
    let rest = text;
    let digest;
    const at = rest.indexOf("@");
    if (at >= 0) {
        digest = rest.slice(at + 1);
        rest = rest.slice(0, at);
        if (!DIGEST_RE.test(digest))
            return `has an invalid digest "${digest}" (expected sha256:<64 hex digits>)`;
    }
    let tag;
    const lastSlash = rest.lastIndexOf("/");
    const colon = rest.lastIndexOf(":");
    if (colon > lastSlash) {
        tag = rest.slice(colon + 1);
        rest = rest.slice(0, colon);
        if (!TAG_RE.test(tag))
            return `has an invalid tag "${tag}" (letters, digits, _ . -, at most 128, not starting with . or -)`;
    }
    if (rest.length > 255)
        return "has a name longer than 255 characters";
    const slash = rest.indexOf("/");
    let registry = "docker.io";
    let path = rest;
    if (slash >= 0) {
        const first = rest.slice(0, slash);
        if (first.includes(".") || first.includes(":") || first === "localhost" || first !== first.toLowerCase()) {
            if (!DOMAIN_RE.test(first))
                return `has an invalid registry host "${first}"`;
            registry = first;
            path = rest.slice(slash + 1);
        }
    }
    if (!PATH_RE.test(path)) {
        return path !== path.toLowerCase()
            ? `has upper-case letters in the repository "${path}" (repository names are lower case)`
            : `has an invalid repository "${path}" (lower-case letters, digits and separators . _ - /)`;
    }
    if (registry === "docker.io" && !path.includes("/"))
        path = `library/${path}`;
    return { registry, repository: path, tag, digest };
}
/** Whether the text is an image tag (the part after ':'), for extra tags given without a repository. */
function isTag(text) {
    return TAG_RE.test(text);
}
/** The reference without its tag or digest: what an extra tag is appended to. */
function repositoryOf(text) {
    const noDigest = text.split("@")[0];
    const lastSlash = noDigest.lastIndexOf("/");
    const colon = noDigest.lastIndexOf(":");
    return colon > lastSlash ? noDigest.slice(0, colon) : noDigest;
}

// EXTERNAL MODULE: external "node:fs"
var external_node_fs_ = __webpack_require__(3024);
;// CONCATENATED MODULE: ./build/core/scripts.js
// The shell scripts build containers run, and the paths they share. The scripts are the .sh files in
// scripts/ (shellcheck checks them: test/unit/shellcheck.test.ts). They are constants: every value that
// comes from a request reaches them as an environment variable or as an argument ("$@"), always quoted,
// never spliced into the text. Tests check that no request value ever appears in a script.

/** Paths shared by every container of a build pod. */
const PATHS = {
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
};
/**
 * A script as the container gets it. A file's leading comment lines (what the file is, its shellcheck
 * directive) are left out; a line `. ./NAME.sh` is replaced by NAME.sh's text, so the scripts that share
 * a part each read top to bottom as they run, and shellcheck follows the same line to check them whole.
 */
function compose(name) {
    const text = FILES[name];
    if (text === undefined)
        throw new Error(`core/scripts/${name} is not loaded (add it to FILES in core/scripts.ts)`);
    return text
        .replace(/^(?:#.*\n)+/, "")
        .replace(/^\. \.\/([\w-]+\.sh)\n/gm, (_, part) => compose(part));
}
/**
 * The .sh files, each read by a literal URL beside this module: vitest reads them from core/scripts/,
 * the compiled library from build/core/scripts/ (npm run build copies them there: tsc copies no .sh),
 * and ncc, which follows readFileSync(new URL(literal, import.meta.url)), copies them into each bundle
 * of dist/ and points the read there. A computed name would defeat ncc: it copies what it can resolve.
 */
const FILES = {
    "source.sh": (0,external_node_fs_.readFileSync)(__webpack_require__.ab + "source.sh", "utf8"),
    "buildah-prelude.sh": (0,external_node_fs_.readFileSync)(__webpack_require__.ab + "buildah-prelude.sh", "utf8"),
    "provenance.sh": (0,external_node_fs_.readFileSync)(__webpack_require__.ab + "provenance.sh", "utf8"),
    "buildah-push.sh": (0,external_node_fs_.readFileSync)(__webpack_require__.ab + "buildah-push.sh", "utf8"),
    "buildah.sh": (0,external_node_fs_.readFileSync)(__webpack_require__.ab + "buildah.sh", "utf8"),
    "s2i.sh": (0,external_node_fs_.readFileSync)(__webpack_require__.ab + "s2i.sh", "utf8"),
    "buildkit.sh": (0,external_node_fs_.readFileSync)(__webpack_require__.ab + "buildkit.sh", "utf8"),
    "docker.sh": (0,external_node_fs_.readFileSync)(__webpack_require__.ab + "docker.sh", "utf8"),
    "buildah-index.sh": (0,external_node_fs_.readFileSync)(__webpack_require__.ab + "buildah-index.sh", "utf8"),
    "provenance-after.sh": (0,external_node_fs_.readFileSync)(__webpack_require__.ab + "provenance-after.sh", "utf8"),
};
/** The source container: fetches or receives the source, writes the inline Dockerfiles and the source date. */
const SOURCE_SCRIPT = compose("source.sh");
/** docker strategy, buildah builder. */
const BUILDAH_SCRIPT = compose("buildah.sh");
/** source strategy (S2I) with buildah. */
const S2I_SCRIPT = compose("s2i.sh");
/** docker strategy, rootless BuildKit. */
const BUILDKIT_SCRIPT = compose("buildkit.sh");
/** docker strategy through the node's Docker daemon. */
const DOCKER_SCRIPT = compose("docker.sh");
/** The image index of a build for several platforms, with buildah. */
const INDEX_SCRIPT = compose("buildah-index.sh");
/** The provenance container after a builder without curl. */
const PROVENANCE_SCRIPT = compose("provenance-after.sh");
/** Every script, so tests can check none of them carries a request value. */
const ALL_SCRIPTS = [SOURCE_SCRIPT, BUILDAH_SCRIPT, S2I_SCRIPT, BUILDKIT_SCRIPT, DOCKER_SCRIPT, INDEX_SCRIPT, PROVENANCE_SCRIPT];

;// CONCATENATED MODULE: ./build/core/strategy/plan.js

/** The user id of the unprivileged containers (source, provenance): any non-root id; 1000 is rootless BuildKit's. */
const UNPRIVILEGED_UID = 1000;
/** The security context of a container that needs no privilege: non-root, no capabilities, the default seccomp. */
function UNPRIVILEGED() {
    return {
        runAsUser: UNPRIVILEGED_UID, runAsGroup: UNPRIVILEGED_UID, runAsNonRoot: true,
        allowPrivilegeEscalation: false, privileged: false,
        capabilities: { drop: ["ALL"] }, seccompProfile: { type: "RuntimeDefault" },
    };
}
function env(values) {
    return Object.entries(values)
        .filter((e) => e[1] !== undefined)
        .map(([name, value]) => ({ name, value }));
}
/** Where the build context sits in the pod. */
function contextPath(req) {
    return req.source.contextDir === "." ? PATHS.source : `${PATHS.source}/${req.source.contextDir}`;
}
/** Where the Dockerfile sits in the pod: the inline one, or a path in the source. */
function dockerfilePath(req, file) {
    return req.source.dockerfile !== undefined ? PATHS.inlineDockerfile : `${PATHS.source}/${file}`;
}
/** The environment every pushing container gets: where to push, and how to authenticate. */
function outputEnv(req) {
    return {
        BUILDPOD_IMAGE: req.output.image,
        BUILDPOD_TAGS: req.output.tags.length ? req.output.tags.join("\n") : undefined,
        BUILDPOD_TLS_VERIFY: req.output.insecure ? "false" : "true",
        BUILDPOD_PUSH: String(req.output.push),
        BUILDPOD_CONTEXT: contextPath(req),
        ...(req.output.pushSecret
            ? { DOCKER_CONFIG: PATHS.pushConfig, REGISTRY_AUTH_FILE: `${PATHS.pushConfig}/config.json` }
            : {}),
    };
}
/** "--flag", "K=V" pairs for every entry of a map, in a stable order. */
function pairs(flag, values) {
    return Object.keys(values)
        .sort()
        .flatMap((k) => [flag, `${k}=${values[k]}`]);
}
/** docker-build-style options, which buildah and the Docker CLI both take. */
function dockerBuildOptions(req, s) {
    return [
        ...pairs("--build-arg", s.buildArgs),
        ...pairs("--label", req.output.labels),
        ...pairs("--annotation", req.output.annotations),
        ...(s.target ? ["--target", s.target] : []),
        ...req.output.platforms.flatMap((p) => ["--platform", p]),
    ];
}
/**
 * The node's Docker socket, for the docker builder and a custom build that exposes it. New objects each
 * time: the yaml package writes an object met twice in a document as an alias.
 */
function dockerSocket() {
    return {
        mount: { name: "docker-socket", mountPath: PATHS.dockerSocket },
        volume: { name: "docker-socket", hostPath: { path: PATHS.dockerSocket, type: "Socket" } },
    };
}
function emptyDir(name, medium) {
    return { name, emptyDir: medium ? { medium } : {} };
}

;// CONCATENATED MODULE: ./build/core/builders/buildah.js
// The buildah builder, the default: daemonless, root in the container but not privileged, so its pod fits
// Pod Security 'baseline'. The source strategy (S2I) builds with it too.


const buildah = {
    name: "buildah",
    image: "quay.io/buildah/stable@sha256:56e6ebc9bb71c8303b1968fb51304d3512e14a1b8c730bd0b27ebdf772a34ceb",
    // Shipwright's buildah strategy: root inside the container, not privileged, SETFCAP for file capabilities.
    // No seccomp profile of its own: without CAP_SYS_ADMIN, buildah runs RUN steps in a user namespace it
    // creates, and containerd's RuntimeDefault profile refuses unshare(CLONE_NEWUSER) to a container without
    // CAP_SYS_ADMIN (measured on the test cluster's containerd 1.6: "Error during unshare(CLONE_NEWUSER):
    // Operation not permitted"). The node's default applies: unconfined unless the kubelet sets seccompDefault.
    securityContext: { allowPrivilegeEscalation: false, privileged: false, runAsUser: 0, capabilities: { add: ["SETFCAP"] } },
    // SETFCAP is among the capabilities 'baseline' allows.
    podSecurity: "baseline",
    // buildah bud --secret, --platform and --annotation.
    supports: { cache: true, secrets: true, platforms: true, annotations: true, registriesConf: true, separatePullSecret: true, provenance: true },
    nodeDaemon: false,
    caDirs: [],
    runProxy: "env",
    scratch: { "buildah-storage": "/var/lib/containers", "buildah-tmp": "/var/tmp" },
    env: { TMPDIR: "/var/tmp", STORAGE_DRIVER: "vfs", BUILDAH_ISOLATION: "chroot" },
    container: (req, s) => ({
        command: ["/bin/sh", "-c", BUILDAH_SCRIPT, "buildpod-build"],
        args: [...dockerBuildOptions(req, s)],
        env: { BUILDPOD_DOCKERFILE: dockerfilePath(req, s.dockerfile) },
    }),
    // --layers commits every step; --cache-from pulls a step's layer from the repository instead of running
    // it, --cache-to pushes the steps it ran (tagged by a key of the step and what precedes it).
    cacheOptions: (c) => ["--layers", "--cache-from", c.repository, ...(c.mode === "read-write" ? ["--cache-to", c.repository] : [])],
};

;// CONCATENATED MODULE: ./build/core/builders/buildkit.js
// The rootless BuildKit builder: user 1000, but unconfined by seccomp and AppArmor, so its pod needs Pod
// Security 'privileged'.


/** The tag BuildKit's cache manifest gets in the cache repository (buildah and kaniko tag by step). */
const BUILDKIT_CACHE_TAG = "buildcache";
const buildkit = {
    name: "buildkit",
    image: "moby/buildkit:v0.33.0-rootless@sha256:80b15f0735e87bab7bf59ec4d695dfb4a7cfb25521cf56dc75d6f256285b63ef",
    // moby/buildkit's rootless example: user 1000, no seccomp or AppArmor confinement, no process sandbox.
    securityContext: {
        allowPrivilegeEscalation: false, privileged: false, runAsUser: 1000, runAsGroup: 1000, runAsNonRoot: true,
        seccompProfile: { type: "Unconfined" }, appArmorProfile: { type: "Unconfined" },
    },
    // 'baseline' refuses an Unconfined seccomp or AppArmor profile.
    podSecurity: "privileged",
    // The dockerfile frontend's RUN --mount=type=secret, and --opt platform=.
    supports: { cache: true, secrets: true, platforms: true, annotations: true, registriesConf: false, separatePullSecret: false, provenance: false },
    nodeDaemon: false,
    caDirs: [],
    runProxy: "build-args",
    scratch: { "buildkit-state": "/home/user/.local/share/buildkit", "buildkit-tmp": "/tmp" },
    env: { BUILDKITD_FLAGS: "--oci-worker-no-process-sandbox" },
    container: (req, s) => {
        const file = dockerfilePath(req, s.dockerfile);
        const slash = file.lastIndexOf("/");
        const names = [req.output.image, ...req.output.tags].join(",");
        // The exporter's attributes are CSV: an annotation is one quoted field, its quotes doubled.
        const csv = (field) => `"${field.replace(/"/g, '""')}"`;
        const annotations = Object.keys(req.output.annotations).sort().map((k) => `,${csv(`annotation.${k}=${req.output.annotations[k]}`)}`);
        const output = `type=image,"name=${names}",push=${req.output.push},rewrite-timestamp=true${req.output.insecure ? ",registry.insecure=true" : ""}${annotations.join("")}`;
        return {
            command: ["/bin/sh", "-c", BUILDKIT_SCRIPT, "buildpod-build"],
            args: [
                ...pairs("--opt", prefixKeys("build-arg:", s.buildArgs)),
                ...pairs("--opt", prefixKeys("label:", req.output.labels)),
                ...(s.target ? ["--opt", `target=${s.target}`] : []),
                ...(req.output.platforms.length ? ["--opt", `platform=${req.output.platforms.join(",")}`] : []),
            ],
            env: {
                BUILDPOD_DOCKERFILE_DIR: file.slice(0, slash),
                BUILDPOD_DOCKERFILE_NAME: file.slice(slash + 1),
                BUILDPOD_OUTPUT: output,
                BUILDPOD_REGISTRY: req.output.ref.registry,
                // Configured like the output's registry (plain HTTP when insecure); named once if it is the same.
                BUILDPOD_CACHE_REGISTRY: req.cache && req.cache.registry !== req.output.ref.registry ? req.cache.registry : undefined,
            },
        };
    },
    // mode=max keeps the layers of every stage, not only the final image's, as buildah and kaniko do.
    cacheOptions: (c) => {
        const ref = `type=registry,ref=${c.repository}:${BUILDKIT_CACHE_TAG}`;
        return ["--import-cache", ref, ...(c.mode === "read-write" ? ["--export-cache", `${ref},mode=max`] : [])];
    },
};
function prefixKeys(prefix, values) {
    return Object.fromEntries(Object.entries(values).map(([k, v]) => [`${prefix}${k}`, v]));
}

;// CONCATENATED MODULE: ./build/core/builders/docker.js
// The docker builder: the Docker CLI in the pod drives the node's Docker daemon through its socket, a
// hostPath, so its pod needs Pod Security 'privileged', and the request must allow the socket.


const docker = {
    name: "docker",
    image: "docker:28-cli@sha256:625d9431a9f54c5a2bc90f24f0e1c3d55b1349fd857dd85035f98c2c9acbdd4d",
    // The node's daemon does the work; the socket is root on the node, hence the explicit opt-in.
    securityContext: { allowPrivilegeEscalation: false, privileged: false, runAsUser: 0 },
    // 'baseline' refuses hostPath volumes.
    podSecurity: "privileged",
    // The daemon keeps its layer cache on the node, builds for the node's platform, and takes docker build
    // --secret; annotations need buildx, which the classic builder's CLI may not have.
    supports: { cache: false, secrets: true, platforms: false, annotations: false, registriesConf: false, separatePullSecret: false, provenance: false },
    nodeDaemon: true,
    caDirs: [],
    runProxy: "build-args",
    scratch: {},
    env: { DOCKER_HOST: `unix://${PATHS.dockerSocket}` },
    container: (req, s) => ({
        command: ["/bin/sh", "-c", DOCKER_SCRIPT, "buildpod-build"],
        args: dockerBuildOptions(req, s),
        env: { BUILDPOD_DOCKERFILE: dockerfilePath(req, s.dockerfile) },
    }),
};

;// CONCATENATED MODULE: ./build/core/builders/kaniko.js

const kaniko = {
    name: "kaniko",
    image: "ghcr.io/osscontainertools/kaniko:v1.28.5-debug@sha256:d6d74217dc077acfd3094992e917c357080a2d3fdd1042a49e34e29a7e57c572",
    securityContext: {
        allowPrivilegeEscalation: false, privileged: false, runAsUser: 0,
        capabilities: { drop: ["ALL"], add: ["CHOWN", "DAC_OVERRIDE", "FOWNER", "SETGID", "SETUID", "SETFCAP", "KILL"] },
        seccompProfile: { type: "RuntimeDefault" },
    },
    // Every capability it adds is among those 'baseline' allows.
    podSecurity: "baseline",
    // kaniko has no secret mounts for RUN steps and no manifest annotations, and builds for the platform it
    // runs on.
    supports: { cache: true, secrets: false, platforms: false, annotations: false, registriesConf: false, separatePullSecret: false, provenance: false },
    nodeDaemon: false,
    // Its CA certificates are in /kaniko/ssl/certs (the image sets SSL_CERT_DIR to it), which Go looks in
    // only through SSL_CERT_DIR.
    caDirs: ["/kaniko/ssl/certs"],
    runProxy: "build-args",
    scratch: {},
    env: {},
    container: (req, s, digestFile) => ({
        command: ["/kaniko/executor"],
        args: [
            `--context=dir://${contextPath(req)}`,
            `--dockerfile=${dockerfilePath(req, s.dockerfile)}`,
            ...[req.output.image, ...req.output.tags].map((d) => `--destination=${d}`),
            `--digest-file=${digestFile}`,
            "--reproducible",
            ...Object.keys(s.buildArgs).sort().map((k) => `--build-arg=${k}=${s.buildArgs[k]}`),
            ...Object.keys(req.output.labels).sort().map((k) => `--label=${k}=${req.output.labels[k]}`),
            ...(s.target ? [`--target=${s.target}`] : []),
            // The digest file still gets the built manifest's digest; kaniko reports no image ID.
            ...(req.output.push ? [] : ["--no-push"]),
            // kaniko tries a push once unless told: buildah tries three times (its MaxPullPushRetries), and so
            // does this. A registry's passing trouble should not fail a build that has done its work.
            "--push-retry=3",
            ...(req.output.insecure ? ["--insecure", "--insecure-pull", "--skip-tls-verify", "--skip-tls-verify-pull"] : []),
        ],
    }),
    // Cache look-ups go by registry host: an insecure output makes the cache's registry insecure too.
    cacheOptions: (c, req) => [
        "--cache=true", `--cache-repo=${c.repository}`,
        ...(c.mode === "read" ? ["--no-push-cache"] : []),
        ...(req.output.insecure ? [`--insecure-registry=${c.registry}`, `--skip-tls-verify-registry=${c.registry}`] : []),
    ],
};

;// CONCATENATED MODULE: ./build/core/builders/index.js




const BUILDERS = { buildah: buildah, buildkit: buildkit, kaniko: kaniko, docker: docker };
/** The builder of a docker strategy that names none. */
const DEFAULT_BUILDER = "buildah";
/** The names of the builders that pass `test`, in the table's order. */
function buildersWhere(test) {
    return Object.values(BUILDERS).filter(test).map((b) => b.name);
}
/** Each builder's default image. */
const BUILDER_IMAGES = Object.fromEntries(Object.values(BUILDERS).map((b) => [b.name, b.image]));

;// CONCATENATED MODULE: ./build/core/names.js
// Kubernetes names and labels, and environment variable names.
const DNS_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const DNS_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
const LABEL_NAME = /^([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]$/;
const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;
/** Why the text is not a DNS-1123 label (namespaces, build names), or undefined when it is one. */
function dnsLabelProblem(text, max = 63) {
    if (text.length === 0)
        return "is empty";
    if (text.length > max)
        return `is longer than ${max} characters`;
    if (!DNS_LABEL.test(text)) {
        return `"${text}" is not a valid name: lower-case letters, digits and '-', starting and ending with a letter or digit`;
    }
    return undefined;
}
/** Why the text is not a DNS-1123 subdomain (Secret, ServiceAccount and class names), or undefined. */
function dnsSubdomainProblem(text) {
    if (text.length === 0)
        return "is empty";
    if (text.length > 253)
        return "is longer than 253 characters";
    if (!DNS_SUBDOMAIN.test(text)) {
        return `"${text}" is not a valid name: lower-case letters, digits, '-' and '.', starting and ending with a letter or digit`;
    }
    return undefined;
}
/** Why the key is not a Kubernetes label key ([prefix/]name), or undefined. */
function labelKeyProblem(key) {
    const slash = key.lastIndexOf("/");
    const prefix = slash >= 0 ? key.slice(0, slash) : undefined;
    const name = slash >= 0 ? key.slice(slash + 1) : key;
    if (prefix !== undefined) {
        const p = dnsSubdomainProblem(prefix);
        if (p)
            return `label key "${key}" has an invalid prefix: ${p}`;
    }
    if (name.length === 0 || name.length > 63 || !LABEL_NAME.test(name)) {
        return `"${key}" is not a valid Kubernetes label key: a name of at most 63 letters, digits, '-', '_' or '.', starting and ending with a letter or digit, optionally prefixed by a DNS subdomain and '/'`;
    }
    return undefined;
}
/** Why the value is not a Kubernetes label value, or undefined. */
function labelValueProblem(value) {
    if (value === "")
        return undefined;
    if (value.length > 63 || !LABEL_NAME.test(value)) {
        return `"${value}" is not a valid Kubernetes label value: at most 63 letters, digits, '-', '_' or '.', starting and ending with a letter or digit`;
    }
    return undefined;
}
function envNameProblem(name) {
    if (!ENV_NAME.test(name))
        return `"${name}" is not a valid environment variable name: letters, digits and '_', not starting with a digit`;
    return undefined;
}

;// CONCATENATED MODULE: ./build/core/multi-platform.js
/** The label every platform's Job and pod carries: the run name of the build they are part of. */
const INDEX_LABEL = "buildpod.dev/index";
/** What the index Job is told once the platforms have pushed: pod annotations its container reads. */
const INDEX_ANNOTATIONS = {
    /** Lines "repository@digest", one per platform, in the request's order. */
    manifests: "buildpod.dev/manifests",
    /** The source commit the platforms built. */
    commit: "buildpod.dev/commit",
    /** The uploaded input's digest (in-toto dirHash). */
    inputDigest: "buildpod.dev/input-digest",
    /** When the first platform's build started. */
    started: "buildpod.dev/started",
};
/** "linux/arm64" -> ["linux", "arm64", undefined]. */
function parts(platform) {
    const [os, arch, variant] = platform.split("/");
    return [os, arch, variant];
}
/** The end of a platform's Job name: "arm64", "armv7", or with the OS where it is not Linux: "windows-amd64". */
function platformJobSuffix(platform) {
    const [os, arch, variant] = parts(platform);
    return `${os === "linux" ? "" : `${os}-`}${arch}${variant ?? ""}`;
}
/**
 * The tag a platform's image is pushed under: registry/app:1.0 -> registry/app:1.0-linux-arm64. IMAGE ends
 * in its tag, as the request's output.image always does (it adds ":latest").
 */
function platformImage(image, platform) {
    return `${image}-${parts(platform).filter(Boolean).join("-")}`;
}
/** The Job name of a platform's build, given the build's run name. */
function platformRunId(id, platform) {
    return `${id}-${platformJobSuffix(platform)}`;
}
/**
 * One platform's build: the request with that platform alone, pushed under the platform's tag (the
 * build's tags go on the index), labelled with the index's run name.
 */
function platformRequest(req, platform, indexRun) {
    const image = platformImage(req.output.image, platform);
    const tag = image.slice(image.lastIndexOf(":") + 1);
    return {
        ...req,
        labels: { ...req.labels, [INDEX_LABEL]: indexRun },
        output: { ...req.output, image, ref: { ...req.output.ref, tag }, tags: [], platforms: [platform] },
    };
}
/**
 * The pod annotations that start the index Job: its manifests in the request's order (the same inputs
 * give the same index), the commit, the input and the earliest start. Only digests, hex and times: the
 * index container checks them again before use.
 */
function indexAnnotations(pushed) {
    const first = (k) => pushed.map((p) => p[k]).find((v) => v !== undefined);
    const started = pushed.map((p) => p.startedAt).filter((t) => !!t).sort()[0];
    return {
        [INDEX_ANNOTATIONS.manifests]: pushed.map((p) => p.imageRef).join("\n"),
        [INDEX_ANNOTATIONS.commit]: first("commit") ?? "",
        [INDEX_ANNOTATIONS.inputDigest]: first("inputDigest") ?? "",
        [INDEX_ANNOTATIONS.started]: started ? started.replace(/\.\d+Z$/, "Z") : "",
    };
}

;// CONCATENATED MODULE: ./build/core/platform.js

const OS_LABEL = "kubernetes.io/os";
const ARCH_LABEL = "kubernetes.io/arch";
/** The node labels that place a build of PLATFORM ("linux/arm64", "linux/arm/v7": the variant is not a label). */
function platformSelector(platform) {
    const [os, arch] = platform.split("/");
    return { [OS_LABEL]: os, [ARCH_LABEL]: arch };
}
/** The platforms of the cluster's nodes ("linux/amd64", ...), each once; undefined when nodes may not be listed. */
async function nodePlatforms(cluster) {
    try {
        const list = await cluster.call("listing the nodes", "GET", "/api/v1/nodes");
        const out = new Set();
        for (const n of list.items ?? []) {
            const l = n.metadata?.labels ?? {};
            if (l[OS_LABEL] && l[ARCH_LABEL])
                out.add(`${l[OS_LABEL]}/${l[ARCH_LABEL]}`);
        }
        return [...out].sort();
    }
    catch (err) {
        if (err instanceof ClusterError && err.code === 403)
            return undefined;
        throw err;
    }
}
/**
 * How a build of PLATFORM is placed, given the nodes' platforms (undefined: unknown): "native" on a node of
 * its own, "emulated" on any node, or a refusal saying what the cluster has and the ways out.
 */
function placement(platform, nodes, emulate) {
    const has = (p) => nodes?.some((n) => n === p.split("/").slice(0, 2).join("/"));
    if (nodes === undefined)
        return emulate ? "emulated" : "native";
    if (has(platform))
        return "native";
    if (emulate)
        return "emulated";
    const arch = platform.split("/")[1];
    return {
        refused: `the cluster has no ${platform} node (its nodes are ${nodes.length ? nodes.join(", ") : "none"}); build it under QEMU on any node with --emulate (scheduling.emulate), which needs a binfmt_misc handler for ${arch} binaries with the F flag on the nodes (Debian's qemu-user-static registered with F, or tonistiigi/binfmt), or add a ${platform} node`,
    };
}

;// CONCATENATED MODULE: ./build/core/quantity.js
// Kubernetes resource quantities ("500m", "2", "1Gi", "1.5G", "128974848", "129e6").
const QUANTITY = /^([+-]?(?:\d+(?:\.\d*)?|\.\d+))(Ki|Mi|Gi|Ti|Pi|Ei|n|u|m|k|M|G|T|P|E|[eE][+-]?\d+)?$/;
const SUFFIX = {
    n: 1e-9, u: 1e-6, m: 1e-3, "": 1, k: 1e3, M: 1e6, G: 1e9, T: 1e12, P: 1e15, E: 1e18,
    Ki: 2 ** 10, Mi: 2 ** 20, Gi: 2 ** 30, Ti: 2 ** 40, Pi: 2 ** 50, Ei: 2 ** 60,
};
/** The quantity's value in base units (cores, bytes), or undefined when it is not a quantity. */
function parseQuantity(text) {
    const m = QUANTITY.exec(text.trim());
    if (!m)
        return undefined;
    const n = Number(m[1]);
    const suffix = m[2] ?? "";
    if (/^[eE]/.test(suffix))
        return n * 10 ** Number(suffix.slice(1));
    return n * SUFFIX[suffix];
}

// EXTERNAL MODULE: ./build/core/request/fields.js
var fields = __webpack_require__(151);
;// CONCATENATED MODULE: ./build/core/request/types.js
const STRATEGIES = ["docker", "source", "custom"];
const types_BUILDERS = ["buildah", "buildkit", "kaniko", "docker"];
/** read-write: reuse the cache and update it; read: reuse only (builds that should not change it, such as pull requests). */
const CACHE_MODES = ["read-write", "read"];
/** The tool images' keys in the images section (which also holds pullSecrets). */
const TOOL_IMAGES = ["source", "buildah", "buildkit", "kaniko", "docker"];
const DEFAULTS = {
    namespace: "default",
    timeout: 3600,
    startTimeout: 300,
    uploadTimeout: 600,
    deleteAfter: 3600,
    contextDir: ".",
    caBundleKey: "ca.crt",
    registriesConfKey: "registries.conf",
};
/** Label prefix that buildpod owns; users may not set labels under it. */
const LABEL_PREFIX = "buildpod.dev/";

;// CONCATENATED MODULE: ./build/core/request/read.js
// Reading one field of a build-file-shaped object: its type, its bounds, its form; errors name the field.







function closest(word, candidates) {
    let best;
    let bestScore = Infinity;
    for (const c of candidates) {
        const d = editDistance(word.toLowerCase(), c.toLowerCase());
        if (d < bestScore)
            [best, bestScore] = [c, d];
    }
    return bestScore <= Math.max(2, Math.floor(word.length / 3)) ? best : undefined;
}
function editDistance(a, b) {
    const row = Array.from({ length: b.length + 1 }, (_, i) => i);
    for (let i = 1; i <= a.length; i++) {
        let prev = row[0];
        row[0] = i;
        for (let j = 1; j <= b.length; j++) {
            const cur = row[j];
            row[j] = Math.min(row[j] + 1, row[j - 1] + 1, prev + (a[i - 1] === b[j - 1] ? 0 : 1));
            prev = cur;
        }
    }
    return row[b.length];
}
function object(value, path) {
    if (value === undefined || value === null)
        return undefined;
    if (typeof value !== "object" || Array.isArray(value))
        throw new errors/* InputError */.d(path, "must be a mapping of fields");
    const known = fields/* KNOWN */.cR[path];
    if (known) {
        for (const key of Object.keys(value)) {
            if (!known.includes(key)) {
                const hint = closest(key, known);
                throw new errors/* InputError */.d((0,fields/* join */.fj)(path, key), `unknown field${hint ? ` (did you mean ${(0,fields/* join */.fj)(path, hint)}?)` : `; known fields: ${known.join(", ")}`}`);
            }
        }
    }
    return value;
}
function string(value, path) {
    if (value === undefined || value === null)
        return undefined;
    if (typeof value === "number")
        return String(value);
    if (typeof value !== "string")
        throw new errors/* InputError */.d(path, "must be a string");
    return value;
}
/** A list field's items: a list as given, or text split at commas and white space (as flags and inputs give it). */
function listItems(value) {
    if (value === undefined || value === null)
        return [];
    return Array.isArray(value) ? value : String(value).split(/[\s,]+/).filter(Boolean);
}
function required(value, path, hint) {
    if (value === undefined || value === "")
        throw new errors/* InputError */.d(path, `is required: ${hint}`);
    return value;
}
function read_boolean(value, path) {
    if (value === undefined || value === null)
        return undefined;
    if (typeof value === "boolean")
        return value;
    if (value === "true")
        return true;
    if (value === "false")
        return false;
    throw new errors/* InputError */.d(path, `must be true or false, not ${JSON.stringify(value)}`);
}
function oneOf(value, path, allowed) {
    const s = string(value, path);
    if (s === undefined)
        return undefined;
    if (!allowed.includes(s)) {
        throw new errors/* InputError */.d(path, `unknown value "${s}"; choose one of ${allowed.join(", ")}`);
    }
    return s;
}
function stringMap(value, path, checkKey) {
    if (value === undefined || value === null)
        return {};
    let entries;
    if (Array.isArray(value)) {
        // Lists of KEY=VALUE, as CI inputs and flags give them.
        entries = value.map((item, i) => {
            const s = string(item, `${path}[${i}]`) ?? "";
            const eq = s.indexOf("=");
            if (eq <= 0)
                throw new errors/* InputError */.d(path, `"${s}" is not KEY=VALUE`);
            return [s.slice(0, eq), s.slice(eq + 1)];
        });
    }
    else if (typeof value === "object") {
        entries = Object.entries(value);
    }
    else {
        throw new errors/* InputError */.d(path, "must be a mapping of KEY: value");
    }
    const out = {};
    for (const [key, v] of entries) {
        const problem = checkKey?.(key);
        if (problem)
            throw new errors/* InputError */.d((0,fields/* join */.fj)(path, key), problem);
        const s = string(v, (0,fields/* join */.fj)(path, key));
        out[key] = s ?? "";
    }
    return out;
}
/** The largest int32: the Kubernetes fields that durations land in are (or are kept to) 32 bits. */
const INT32_MAX = 2 ** 31 - 1;
/** Each duration field: its default, bounds in seconds, and what sets the upper bound. */
const DURATIONS = {
    timeout: { fallback: DEFAULTS.timeout, min: 1, max: INT32_MAX, limit: "the build's deadline (activeDeadlineSeconds) may be at most 2147483647s" },
    startTimeout: { fallback: DEFAULTS.startTimeout, min: 1, max: INT32_MAX, limit: "the start timeout may be at most 2147483647s" },
    // The client's upload timer: Node.js timers hold at most 2^31-1 ms and fire at once beyond that.
    uploadTimeout: { fallback: DEFAULTS.uploadTimeout, min: 1, max: Math.floor(INT32_MAX / 1000), limit: "the upload timer holds at most 2147483s" },
    deleteAfter: { fallback: DEFAULTS.deleteAfter, min: 0, max: INT32_MAX, limit: "the Job's ttlSecondsAfterFinished is a 32-bit number of seconds, at most 2147483647" },
};
function duration(value, path) {
    const { fallback, min, max, limit } = DURATIONS[path];
    if (value === undefined || value === null || value === "")
        return fallback;
    const seconds = parseDuration(value);
    if (seconds === undefined) {
        throw new errors/* InputError */.d(path, `${JSON.stringify(value)} is not a duration; write it like 90s, 15m, 1h30m or 2d`);
    }
    if (seconds < min)
        throw new errors/* InputError */.d(path, `must be at least ${min}s`);
    if (seconds > max)
        throw new errors/* InputError */.d(path, `${JSON.stringify(value)} is too long: ${limit}; give ${Math.floor(max / 86400)}d or less`);
    return seconds;
}
/** A whole number in [min, max] from a YAML/JSON number or a string of digits; undefined when absent. `what` says both. */
function wholeNumber(value, path, min, max, what) {
    if (value === undefined || value === null || value === "")
        return undefined;
    const n = typeof value === "number" ? value : typeof value === "string" && /^\s*-?\d+\s*$/.test(value) ? Number(value) : NaN;
    if (!Number.isSafeInteger(n) || n < min || n > max)
        throw new errors/* InputError */.d(path, `must be ${what}, not ${JSON.stringify(value)}`);
    return n;
}
function quantity(value, path, kind) {
    const s = string(value, path);
    if (s === undefined || s === "")
        return undefined;
    const n = parseQuantity(s);
    if (n === undefined) {
        const example = kind === "cpu" ? "500m or 2" : "512Mi or 4Gi";
        throw new errors/* InputError */.d(path, `"${s}" is not a Kubernetes quantity; write it like ${example}`);
    }
    if (n <= 0)
        throw new errors/* InputError */.d(path, "must be greater than zero");
    if (kind === "bytes" && n < 4 * 2 ** 20) {
        throw new errors/* InputError */.d(path, `"${s}" is ${n} bytes: too little for a build (did you mean ${s}Mi?)`);
    }
    return s;
}
function read_image(value, path, opts) {
    const ref = parseReference(value);
    if (typeof ref === "string")
        throw new errors/* InputError */.d(path, `"${value}" is not a valid image reference: it ${ref}`);
    if (!opts.allowDigest && ref.digest) {
        throw new errors/* InputError */.d(path, `"${value}" names a digest; the output must be a tag the build can push to`);
    }
    return ref;
}
function relativePath(value, path) {
    if (value.startsWith("/"))
        throw new errors/* InputError */.d(path, `"${value}" must be relative to the source root, not absolute`);
    const parts = [];
    for (const part of value.split("/")) {
        if (part === "" || part === ".")
            continue;
        if (part === "..") {
            if (parts.length === 0)
                throw new errors/* InputError */.d(path, `"${value}" points outside the source`);
            parts.pop();
        }
        else
            parts.push(part);
    }
    return parts.length ? parts.join("/") : ".";
}
function secretName(value, path) {
    const s = string(value, path);
    if (s === undefined || s === "")
        return undefined;
    const problem = dnsSubdomainProblem(s);
    if (problem)
        throw new errors/* InputError */.d(path, problem);
    return s;
}
function labels(value, path) {
    const out = stringMap(value, path, (k) => labelKeyProblem(k) ?? (k.startsWith(LABEL_PREFIX) ? `"${k}": labels under ${LABEL_PREFIX} are set by buildpod` : undefined));
    for (const [k, v] of Object.entries(out)) {
        const problem = labelValueProblem(v);
        if (problem)
            throw new errors/* InputError */.d((0,fields/* join */.fj)(path, k), problem);
    }
    return out;
}

;// CONCATENATED MODULE: ./build/core/request/network.js
// The network section: a private CA and registry settings from ConfigMaps, and a forward proxy, given or
// taken from the environment of the process that starts the build.





/** "NAME[/KEY]": a ConfigMap in the build's namespace and one of its keys. */
function configMapKey(value, path, fallbackKey) {
    const s = string(value, path);
    if (s === undefined || s === "")
        return undefined;
    const slash = s.indexOf("/");
    const name = slash < 0 ? s : s.slice(0, slash);
    const key = slash < 0 ? fallbackKey : s.slice(slash + 1);
    const problem = dnsSubdomainProblem(name);
    if (problem)
        throw new errors/* InputError */.d(path, `"${name}" is not a ConfigMap name: ${problem}; write CONFIGMAP or CONFIGMAP/KEY`);
    if (!/^[-._a-zA-Z0-9]+$/.test(key))
        throw new errors/* InputError */.d(path, `"${key}" is not a valid ConfigMap key; write CONFIGMAP or CONFIGMAP/KEY`);
    return { name, key };
}
/**
 * A proxy URL as builders and Git take it. One with a user or password is refused: it would sit in the
 * pod's environment, which whoever may read the pod sees.
 */
function proxyUrl(value, path) {
    let url;
    try {
        url = new URL(value);
    }
    catch {
        throw new errors/* InputError */.d(path, `"${value}" is not a URL; write it like http://proxy.example.com:3128`);
    }
    if (!["http:", "https:"].includes(url.protocol)) {
        throw new errors/* InputError */.d(path, `"${value}" is not an http:// or https:// proxy (Git and the builders reach a proxy over HTTP or HTTPS)`);
    }
    if (url.username || url.password) {
        throw new errors/* InputError */.d(path, "carries a user or password, which would sit in the build pod's environment for anyone who may read the pod to see; use a proxy that admits the cluster's nodes by address");
    }
    return value;
}
/** NO_PROXY's items, each once; a list's items may hold several, as NO_PROXY itself does. */
function hostList(value, path) {
    const items = listItems(value).map((v, i) => string(v, `${path}[${i}]`) ?? "");
    const out = [];
    for (const item of items.flatMap((i) => i.split(/[\s,]+/)).filter(Boolean)) {
        if (!/^[\w.*:[\]/-]+$/.test(item))
            throw new errors/* InputError */.d(path, `"${item}" is not a host, .domain, IP address or CIDR`);
        if (!out.includes(item))
            out.push(item);
    }
    return out;
}
/** The first of NAMES set in ENV (HTTPS_PROXY, then https_proxy), with the name it came by. */
function fromEnv(env, names) {
    for (const name of [...names, ...names.map((n) => n.toLowerCase())]) {
        const value = env[name]?.trim();
        if (value)
            return { name, value };
    }
    return undefined;
}
/**
 * ENV is the environment of the process that starts the build; it is read only when the request asks for
 * it (network.proxyFromEnv), and only where the request names no proxy itself.
 */
function parseNetwork(raw, env) {
    const n = object(raw ?? {}, "network");
    const given = string(n.proxy, "network.proxy") || undefined;
    let httpProxy = given && proxyUrl(given, "network.proxy");
    let httpsProxy = httpProxy;
    let noProxy = hostList(n.noProxy, "network.noProxy");
    if (read_boolean(n.proxyFromEnv, "network.proxyFromEnv")) {
        if (!given) {
            const http = fromEnv(env, ["HTTP_PROXY"]);
            const https = fromEnv(env, ["HTTPS_PROXY"]);
            httpProxy = http && proxyUrl(http.value, `network.proxyFromEnv (${http.name})`);
            httpsProxy = https && proxyUrl(https.value, `network.proxyFromEnv (${https.name})`);
        }
        const none = fromEnv(env, ["NO_PROXY"]);
        if (!noProxy.length && none)
            noProxy = hostList(none.value, `network.proxyFromEnv (${none.name})`);
    }
    return {
        caBundle: configMapKey(n.caBundle, "network.caBundle", DEFAULTS.caBundleKey),
        registriesConf: configMapKey(n.registriesConf, "network.registriesConf", DEFAULTS.registriesConfKey),
        ...(httpProxy ? { httpProxy } : {}),
        ...(httpsProxy ? { httpsProxy } : {}),
        noProxy,
    };
}
/** Where the builder cannot honour a network setting: refused, naming the way out, never ignored. */
function checkNetwork(n, strategy, pushSecret) {
    const pullSecret = strategy.type === "custom" ? undefined : strategy.pullSecret;
    if (strategy.type === "custom") {
        const proxy = n.httpProxy || n.httpsProxy ? ["HTTP_PROXY", "HTTPS_PROXY", "NO_PROXY"].flatMap((x) => [x, x.toLowerCase()]) : [];
        const ours = [...proxy, ...(n.caBundle ? ["SSL_CERT_DIR"] : []), ...(n.registriesConf ? ["CONTAINERS_REGISTRIES_CONF"] : [])];
        const clash = Object.keys(strategy.env).find((name) => ours.includes(name));
        if (clash)
            throw new errors/* InputError */.d(`strategy.env.${clash}`, `is set from the network settings (network.proxy, caBundle, registriesConf), so your value would be replaced; drop it, or the network setting`);
        return;
    }
    if (strategy.type !== "docker")
        return;
    const b = BUILDERS[strategy.builder];
    const given = [["network.caBundle", n.caBundle], ["network.registriesConf", n.registriesConf],
        ["network.proxy", n.httpProxy ?? n.httpsProxy], ["strategy.pullSecret", pullSecret]];
    const set = given.find(([, v]) => v !== undefined);
    if (b.nodeDaemon && set) {
        throw new errors/* InputError */.d(set[0], `does not apply to the ${b.name} builder: the node's Docker daemon pulls and pushes, and its own configuration (certs.d, its proxy settings, its credentials) decides how; configure the daemon, or use ${DEFAULT_BUILDER}`);
    }
    if (n.registriesConf && !b.supports.registriesConf) {
        throw new errors/* InputError */.d("network.registriesConf", `the ${b.name} builder does not read a registries.conf; use ${buildersWhere((x) => x.supports.registriesConf).join(" or ")}, or name the mirrored image in the Dockerfile`);
    }
    if (pullSecret && pushSecret && !b.supports.separatePullSecret) {
        throw new errors/* InputError */.d("strategy.pullSecret", `the ${b.name} builder reads one credentials file: put the pull and push registries' credentials in one kubernetes.io/dockerconfigjson Secret and give it as output.pushSecret (--push-secret), or use ${buildersWhere((x) => x.supports.separatePullSecret).join(" or ")}`);
    }
}

;// CONCATENATED MODULE: ./build/core/request/output.js
// The output and cache sections: where the image goes, and the registry layer cache.





function parseOutput(raw) {
    const o = object(raw ?? {}, "output");
    const img = required(string(o.image, "output.image"), "output.image", "the image to push, e.g. registry.example.com/team/app:1.0 (--image)");
    const ref = read_image(img, "output.image", { allowDigest: false });
    const withTag = ref.tag ? img : `${img}:latest`;
    const tags = [];
    listItems(o.tags).forEach((t, i) => {
        const path = `output.tags[${i}]`;
        const text = string(t, path) ?? "";
        const full = isTag(text) ? `${repositoryOf(img)}:${text}` : text;
        read_image(full, path, { allowDigest: false });
        if (full !== withTag && !tags.includes(full))
            tags.push(full);
    });
    const labels = stringMap(o.labels, "output.labels", (k) => (k.length === 0 || /[\s=]/.test(k) ? `"${k}" is not a valid image label key` : undefined));
    const annotations = stringMap(o.annotations, "output.annotations", (k) => (k.length === 0 || /[\s=]/.test(k) ? `"${k}" is not a valid annotation key (reverse domain notation, e.g. org.opencontainers.image.title)` : undefined));
    return {
        image: withTag, ref: { ...ref, tag: ref.tag ?? "latest" }, tags, labels,
        pushSecret: secretName(o.pushSecret, "output.pushSecret"),
        insecure: read_boolean(o.insecure, "output.insecure") ?? false,
        push: read_boolean(o.push, "output.push") ?? true,
        annotations,
        ...(o.provenance !== undefined && o.provenance !== "" ? { provenance: read_boolean(o.provenance, "output.provenance") } : {}),
        platforms: parsePlatforms(o.platforms),
    };
}
const PLATFORM = /^[a-z0-9]+\/[a-z0-9_]+(?:\/[a-z0-9]+)?$/;
/** Names people write for an architecture, and the one Go, OCI and Kubernetes' kubernetes.io/arch use. */
const ARCH_ALIASES = { x86_64: "amd64", "x86-64": "amd64", aarch64: "arm64", armhf: "arm", i386: "386", i686: "386" };
function parsePlatforms(value) {
    const out = [];
    // "linux/amd64,linux/arm64", as docker buildx takes them, or a list.
    const items = listItems(value).flatMap((item, i) => (typeof item === "string" ? item.split(",").map((t) => ({ t, i })) : [{ t: item, i }]));
    items.forEach(({ t: item, i }) => {
        const path = `output.platforms[${i}]`;
        const text = (string(item, path) ?? "").trim();
        if (!PLATFORM.test(text)) {
            throw new errors/* InputError */.d(path, `"${text}" is not a platform; write os/arch or os/arch/variant, e.g. linux/arm64 or linux/arm/v7`);
        }
        const arch = text.split("/")[1];
        if (ARCH_ALIASES[arch])
            throw new errors/* InputError */.d(path, `"${text}": the architecture is called ${ARCH_ALIASES[arch]} here (as in kubernetes.io/arch and OCI images): ${text.replace(arch, ARCH_ALIASES[arch])}`);
        if (!out.includes(text))
            out.push(text);
    });
    return out;
}
function parseCache(raw, strategy) {
    if (raw === undefined)
        return undefined;
    const repository = required(string(raw.repository, "cache.repository"), "cache.repository", "the registry repository to keep the layer cache in, e.g. registry.example.com/team/app-cache (--cache)");
    const ref = parseReference(repository);
    if (typeof ref === "string")
        throw new errors/* InputError */.d("cache.repository", `"${repository}" is not a valid repository: it ${ref}`);
    if (ref.tag || ref.digest) {
        throw new errors/* InputError */.d("cache.repository", `"${repository}" names a ${ref.digest ? "digest" : "tag"}; give the repository alone: each builder names its cache entries itself`);
    }
    const mode = oneOf(raw.mode, "cache.mode", CACHE_MODES) ?? "read-write";
    if (strategy.type === "source") {
        throw new errors/* InputError */.d("cache", "applies to the docker strategy; S2I builds reuse the previous image's artifacts with strategy.incremental (--incremental)");
    }
    if (strategy.type === "custom")
        throw new errors/* InputError */.d("cache", "applies to the docker strategy; a custom builder keeps its own cache");
    if (!BUILDERS[strategy.builder].supports.cache) {
        throw new errors/* InputError */.d("cache", `the ${strategy.builder} builder keeps its cache on the node; a registry layer cache works with ${buildersWhere((b) => b.supports.cache).join(", ")}`);
    }
    return { repository, registry: ref.registry, mode };
}

;// CONCATENATED MODULE: ./build/core/request/affinity.js
// Affinity: the Kubernetes types as data, so one walk checks and copies any of them. The walk refuses
// unknown fields and wrong types; each shape's `rule` holds the API server's checks between fields.




const affinity_text = (problem) => ({ kind: "string", problem });
const list = (item, nonEmpty) => ({ kind: "list", item, nonEmpty });
const LABEL_KEY = affinity_text(labelKeyProblem);
const NODE_OPERATORS = ["In", "NotIn", "Exists", "DoesNotExist", "Gt", "Lt"];
const LABEL_OPERATORS = ["In", "NotIn", "Exists", "DoesNotExist"];
/** How many values each operator takes, as the API server checks it. */
function checkValues(r, path) {
    const values = (r.values ?? []);
    const at = `${path}.values`;
    switch (r.operator) {
        case "In":
        case "NotIn":
            if (!values.length)
                throw new errors/* InputError */.d(at, `must list at least one value for operator ${r.operator}`);
            break;
        case "Exists":
        case "DoesNotExist":
            if (values.length)
                throw new errors/* InputError */.d(at, `must be empty for operator ${r.operator}, which looks at the key alone`);
            break;
        default: // Gt, Lt
            if (values.length !== 1 || !/^-?\d+$/.test(values[0]))
                throw new errors/* InputError */.d(at, `must be exactly one whole number for operator ${r.operator}, e.g. ["4"]`);
    }
}
const requirement = (type, choices, value, key = LABEL_KEY, more) => ({
    kind: "object", type,
    fields: { key, operator: { kind: "string", choices }, values: list(value) },
    required: { key: "the label to look at", operator: `one of ${choices.join(", ")}` },
    rule: (r, path) => {
        checkValues(r, path);
        more?.(r, path);
    },
});
const NODE_SELECTOR_TERM = {
    kind: "object", type: "NodeSelectorTerm",
    fields: {
        matchExpressions: list(requirement("NodeSelectorRequirement", NODE_OPERATORS, affinity_text())),
        // The API server selects nodes by one field only, their name, with one value.
        matchFields: list(requirement("NodeSelectorRequirement", ["In", "NotIn"], affinity_text(), affinity_text((k) => (k === "metadata.name" ? undefined : `"${k}" is not supported: matchFields selects by metadata.name only`)), (r, path) => {
            if (r.values.length !== 1)
                throw new errors/* InputError */.d(`${path}.values`, "must be exactly one node name");
        })),
    },
    rule: (t, path) => {
        if (!t.matchExpressions?.length && !t.matchFields?.length) {
            throw new errors/* InputError */.d(path, "matches no node: give matchExpressions or matchFields");
        }
    },
};
const LABEL_SELECTOR = {
    kind: "object", type: "LabelSelector",
    fields: { matchLabels: { kind: "labels" }, matchExpressions: list(requirement("LabelSelectorRequirement", LABEL_OPERATORS, affinity_text(labelValueProblem))) },
};
const POD_AFFINITY_TERM = {
    kind: "object", type: "PodAffinityTerm",
    fields: {
        labelSelector: LABEL_SELECTOR, namespaceSelector: LABEL_SELECTOR, topologyKey: LABEL_KEY,
        namespaces: list(affinity_text((n) => dnsLabelProblem(n))), matchLabelKeys: list(LABEL_KEY), mismatchLabelKeys: list(LABEL_KEY),
    },
    required: { topologyKey: "the node label that groups nodes, e.g. kubernetes.io/hostname or topology.kubernetes.io/zone" },
    rule: (t, path) => {
        for (const f of ["matchLabelKeys", "mismatchLabelKeys"]) {
            if (t[f]?.length && !t.labelSelector)
                throw new errors/* InputError */.d(`${path}.${f}`, "needs a labelSelector to add to");
        }
    },
};
const WEIGHT = { kind: "weight" };
const podAffinity = (type) => ({
    kind: "object", type,
    fields: {
        requiredDuringSchedulingIgnoredDuringExecution: list(POD_AFFINITY_TERM),
        preferredDuringSchedulingIgnoredDuringExecution: list({
            kind: "object", type: "WeightedPodAffinityTerm", fields: { weight: WEIGHT, podAffinityTerm: POD_AFFINITY_TERM },
            required: { weight: "1 to 100", podAffinityTerm: "the pods to look for" },
        }),
    },
});
const AFFINITY = {
    kind: "object", type: "Affinity",
    fields: {
        nodeAffinity: {
            kind: "object", type: "NodeAffinity",
            fields: {
                requiredDuringSchedulingIgnoredDuringExecution: {
                    kind: "object", type: "NodeSelector",
                    fields: { nodeSelectorTerms: list(NODE_SELECTOR_TERM, "give at least one term; a node must match one of them") },
                    required: { nodeSelectorTerms: "a list of terms, one of which a node must match" },
                },
                preferredDuringSchedulingIgnoredDuringExecution: list({
                    kind: "object", type: "PreferredSchedulingTerm", fields: { weight: WEIGHT, preference: NODE_SELECTOR_TERM },
                    required: { weight: "1 to 100", preference: "the node selector term to prefer" },
                }),
            },
        },
        podAffinity: podAffinity("PodAffinity"),
        podAntiAffinity: podAffinity("PodAntiAffinity"),
    },
};
const an = (type) => `${/^[AEIOU]/.test(type) ? "an" : "a"} ${type}`;
const shown = (value) => {
    const s = JSON.stringify(value) ?? String(value);
    return s.length > 40 ? `${s.slice(0, 37)}...` : s;
};
/** Checks `value` against `shape` and returns a clean copy (numbers in string fields become strings). */
function conform(value, shape, path) {
    switch (shape.kind) {
        case "string": {
            const s = string(value, path) ?? "";
            if (shape.choices && !shape.choices.includes(s))
                throw new errors/* InputError */.d(path, `unknown value ${JSON.stringify(s)}; choose one of ${shape.choices.join(", ")}`);
            const problem = shape.problem?.(s);
            if (problem)
                throw new errors/* InputError */.d(path, problem);
            return s;
        }
        case "weight":
            return wholeNumber(value, path, 1, 100, "a whole number from 1 to 100");
        case "labels": {
            const out = stringMap(value, path, labelKeyProblem);
            for (const [k, v] of Object.entries(out)) {
                const problem = labelValueProblem(v);
                if (problem)
                    throw new errors/* InputError */.d((0,fields/* join */.fj)(path, k), problem);
            }
            return out;
        }
        case "list": {
            if (!Array.isArray(value))
                throw new errors/* InputError */.d(path, `must be a list (not ${shown(value)})`);
            if (shape.nonEmpty && value.length === 0)
                throw new errors/* InputError */.d(path, `is empty: ${shape.nonEmpty}`);
            return value.map((item, i) => conform(item, shape.item, `${path}[${i}]`));
        }
        case "object": {
            const names = Object.keys(shape.fields);
            if (typeof value !== "object" || value === null || Array.isArray(value)) {
                throw new errors/* InputError */.d(path, `must be ${an(shape.type)}, a mapping with any of ${names.join(", ")} (not ${shown(value)})`);
            }
            const v = value;
            for (const key of Object.keys(v)) {
                if (shape.fields[key])
                    continue;
                const hint = closest(key, names);
                throw new errors/* InputError */.d(`${path}.${key}`, `unknown field${hint ? ` (did you mean ${hint}?)` : `; ${an(shape.type)} has ${names.join(", ")}`}`);
            }
            for (const [key, what] of Object.entries(shape.required ?? {})) {
                if (v[key] === undefined || v[key] === null || v[key] === "")
                    throw new errors/* InputError */.d(`${path}.${key}`, `is required: ${what}`);
            }
            const out = {};
            for (const [key, field] of Object.entries(shape.fields)) {
                if (v[key] !== undefined && v[key] !== null)
                    out[key] = conform(v[key], field, `${path}.${key}`);
            }
            shape.rule?.(out, path);
            return out;
        }
    }
}

;// CONCATENATED MODULE: ./build/core/request/scheduling.js
// Resources and scheduling: requests and limits, tolerations, node selector, affinity, identities.





function parseResources(raw) {
    const r = object(raw ?? {}, "resources");
    const requests = object(r.requests ?? {}, "resources.requests");
    const limits = object(r.limits ?? {}, "resources.limits");
    const list = (raw, path) => ({
        cpu: quantity(raw.cpu, `${path}.cpu`, "cpu"),
        memory: quantity(raw.memory, `${path}.memory`, "bytes"),
        "ephemeral-storage": quantity(raw["ephemeral-storage"], `${path}.ephemeral-storage`, "bytes"),
    });
    const out = { requests: list(requests, "resources.requests"), limits: list(limits, "resources.limits") };
    for (const kind of ["cpu", "memory", "ephemeral-storage"]) {
        const req = out.requests[kind];
        const lim = out.limits[kind];
        if (req && lim && parseQuantity(req) > parseQuantity(lim)) {
            throw new errors/* InputError */.d(`resources.requests.${kind}`, `${req} is more than the limit ${lim}`);
        }
    }
    return out;
}
const TOLERATION_FIELDS = ["key", "operator", "value", "effect", "tolerationSeconds"];
function parseTolerations(value) {
    if (value === undefined || value === null)
        return [];
    if (!Array.isArray(value))
        throw new errors/* InputError */.d("scheduling.tolerations", "must be a list");
    return value.map((item, i) => {
        const path = `scheduling.tolerations[${i}]`;
        if (typeof item === "string")
            return checkToleration(parseTolerationText(item, path), () => path);
        if (!item || typeof item !== "object" || Array.isArray(item))
            throw new errors/* InputError */.d(path, "must be a mapping or KEY[=VALUE]:EFFECT");
        const t = item;
        for (const key of Object.keys(t)) {
            if (!TOLERATION_FIELDS.includes(key))
                throw new errors/* InputError */.d(`${path}.${key}`, `unknown field; a toleration has ${TOLERATION_FIELDS.join(", ")}`);
        }
        const tol = {
            key: string(t.key, `${path}.key`),
            operator: oneOf(t.operator, `${path}.operator`, ["Exists", "Equal"]),
            value: string(t.value, `${path}.value`),
            effect: oneOf(t.effect, `${path}.effect`, ["NoSchedule", "PreferNoSchedule", "NoExecute"]),
            tolerationSeconds: wholeNumber(t.tolerationSeconds, `${path}.tolerationSeconds`, 0, INT32_MAX, `a whole number of seconds from 0 to ${INT32_MAX}`),
        };
        return checkToleration(Object.fromEntries(Object.entries(tol).filter(([, v]) => v !== undefined)), (f) => `${path}.${f}`);
    });
}
/** The API server's rules between a toleration's fields; `field` names one in errors (the text form has one path). */
function checkToleration(tol, field) {
    if (tol.key) {
        const problem = labelKeyProblem(tol.key);
        if (problem)
            throw new errors/* InputError */.d(field("key"), problem);
    }
    else if (tol.operator !== "Exists") {
        throw new errors/* InputError */.d(field("operator"), "must be Exists when key is empty (a toleration of every taint); give a key, or operator: Exists");
    }
    if (tol.operator === "Exists" && tol.value) {
        throw new errors/* InputError */.d(field("value"), `must be empty with operator Exists, which matches any value; drop the value, or use operator: Equal to match "${tol.value}"`);
    }
    if (tol.operator !== "Exists" && tol.value) {
        const problem = labelValueProblem(tol.value);
        if (problem)
            throw new errors/* InputError */.d(field("value"), problem);
    }
    if (tol.tolerationSeconds !== undefined && tol.effect !== "NoExecute") {
        throw new errors/* InputError */.d(field("tolerationSeconds"), "applies only to effect NoExecute (how long the pod stays on a node after the taint appears); set effect: NoExecute or drop it");
    }
    return tol;
}
/** "key=value:NoSchedule", "key:NoExecute", "key" (Exists, any effect). */
function parseTolerationText(text, path) {
    const m = /^([^=:]+)(?:=([^:]*))?(?::(NoSchedule|PreferNoSchedule|NoExecute))?$/.exec(text);
    if (!m)
        throw new errors/* InputError */.d(path, `"${text}" is not a toleration; write KEY[=VALUE][:EFFECT], e.g. dedicated=builds:NoSchedule`);
    const tol = { key: m[1], operator: m[2] === undefined ? "Exists" : "Equal" };
    if (m[2] !== undefined)
        tol.value = m[2];
    if (m[3])
        tol.effect = m[3];
    return tol;
}
function parseScheduling(raw) {
    const s = object(raw ?? {}, "scheduling");
    const nodeSelector = labels(s.nodeSelector, "scheduling.nodeSelector");
    const affinity = s.affinity === undefined || s.affinity === null ? undefined : conform(s.affinity, AFFINITY, "scheduling.affinity");
    return {
        nodeSelector, tolerations: parseTolerations(s.tolerations),
        emulate: read_boolean(s.emulate, "scheduling.emulate") ?? false,
        ...(affinity && Object.keys(affinity).length ? { affinity } : {}),
        serviceAccountName: secretName(s.serviceAccountName, "scheduling.serviceAccountName"),
        priorityClassName: secretName(s.priorityClassName, "scheduling.priorityClassName"),
        runtimeClassName: secretName(s.runtimeClassName, "scheduling.runtimeClassName"),
    };
}

;// CONCATENATED MODULE: ./build/core/request/source.js
// The source section: Git, a binary input, an inline Dockerfile.



function parseSource(raw) {
    const src = object(raw ?? {}, "source");
    const gitRaw = object(src.git, "source.git");
    const binRaw = object(src.binary, "source.binary");
    const dockerfile = string(src.dockerfile, "source.dockerfile");
    const contextDir = relativePath(string(src.contextDir, "source.contextDir") ?? DEFAULTS.contextDir, "source.contextDir");
    let git;
    let binary;
    if (gitRaw) {
        const url = required(string(gitRaw.url, "source.git.url"), "source.git.url", "the repository to clone");
        if (!/^(https?:\/\/|git:\/\/|ssh:\/\/|file:\/\/)\S+$/.test(url) && !/^[\w.-]+@[\w.-]+:\S+$/.test(url)) {
            throw new errors/* InputError */.d("source.git.url", `"${url}" is not a Git URL (https://, ssh://, git:// or user@host:path)`);
        }
        if (/^https?:\/\/[^/@]*:[^/@]*@/.test(url)) {
            throw new errors/* InputError */.d("source.git.url", "must not carry a password; put credentials in a Secret and name it in source.git.secret");
        }
        const ref = string(gitRaw.ref, "source.git.ref") || undefined;
        if (ref !== undefined && (/\s/.test(ref) || ref.startsWith("-") || ref.includes(".."))) {
            throw new errors/* InputError */.d("source.git.ref", `"${ref}" is not a valid branch, tag or commit`);
        }
        const depth = wholeNumber(gitRaw.depth, "source.git.depth", 0, 2 ** 31 - 1, "a number of commits, or 0 for the full history") ?? 1;
        git = { url, ref, secret: secretName(gitRaw.secret, "source.git.secret"), depth };
    }
    if (binRaw) {
        const dir = string(binRaw.dir, "source.binary.dir");
        const archive = string(binRaw.archive, "source.binary.archive");
        if (dir && archive)
            throw new errors/* InputError */.d("source.binary", "give either dir or archive, not both");
        if (!dir && !archive)
            throw new errors/* InputError */.d("source.binary", "give dir (a local directory) or archive (a .tar or .tar.gz file)");
        binary = dir ? { path: dir, format: "directory" } : { path: archive, format: "archive" };
    }
    if (git && binary)
        throw new errors/* InputError */.d("source", "give either a Git repository or a binary input, not both");
    if (!git && !binary && dockerfile === undefined) {
        throw new errors/* InputError */.d("source", "is required: a Git repository (source.git.url, --git), a local directory or archive (--from-dir, --from-archive), or an inline Dockerfile");
    }
    // Builders read SOURCE_DATE_EPOCH as a decimal integer: no exponents, and no dates past year 9999.
    const sourceDateEpoch = wholeNumber(src.sourceDateEpoch, "source.sourceDateEpoch", 0, 253402300799, "a whole number of seconds since 1970, at most 253402300799 (the end of year 9999)");
    return { git, binary, dockerfile, contextDir, sourceDateEpoch };
}

;// CONCATENATED MODULE: ./build/core/request/strategy.js
// The strategy section: docker (and its builder), source-to-image, custom.





const STRATEGY_FIELDS = {
    docker: ["type", "builder", "dockerfile", "target", "buildArgs", "builderImage", "allowDockerSocket", "secrets", "pullSecret"],
    source: ["type", "builderImage", "incremental", "scriptsUrl", "env", "pullSecret"],
    custom: ["type", "builderImage", "env", "exposeDockerSocket", "allowDockerSocket"],
};
/**
 * What the custom strategy sets in the builder's environment besides BUILDPOD_*: OpenShift's custom build
 * contract. These come after the user's env, so a user's value would be silently replaced.
 */
const CUSTOM_CONTRACT_ENV = [
    "BUILD", "OUTPUT_REGISTRY", "OUTPUT_IMAGE", "SOURCE_REPOSITORY", "SOURCE_URI", "SOURCE_REF", "SOURCE_CONTEXT_DIR",
    "PUSH_DOCKERCFG_PATH", "DOCKER_CONFIG", "DOCKER_SOCKET",
];
function userEnv(value, path) {
    return stringMap(value, path, (key) => envNameProblem(key) ?? (key.startsWith("BUILDPOD_") ? `"${key}": names starting with BUILDPOD_ are reserved` : undefined));
}
const SECRET_FIELDS = ["id", "secret", "key"];
/** strategy.secrets: items "id=ID,secret=NAME[,key=KEY]" or mappings of the same fields. */
function buildSecrets(value) {
    if (value === undefined || value === null)
        return [];
    if (!Array.isArray(value))
        throw new errors/* InputError */.d("strategy.secrets", "must be a list of id=ID,secret=NAME[,key=KEY]");
    const out = [];
    value.forEach((item, i) => {
        const path = `strategy.secrets[${i}]`;
        let fields;
        if (typeof item === "string") {
            fields = {};
            for (const part of item.split(",").map((p) => p.trim()).filter(Boolean)) {
                const eq = part.indexOf("=");
                if (eq <= 0)
                    throw new errors/* InputError */.d(path, `"${part}" is not KEY=VALUE; write id=ID,secret=NAME[,key=KEY]`);
                fields[part.slice(0, eq)] = part.slice(eq + 1);
            }
        }
        else if (item && typeof item === "object" && !Array.isArray(item)) {
            fields = item;
        }
        else {
            throw new errors/* InputError */.d(path, "must be id=ID,secret=NAME[,key=KEY] or a mapping of id, secret and key");
        }
        for (const key of Object.keys(fields)) {
            if (!SECRET_FIELDS.includes(key))
                throw new errors/* InputError */.d(`${path}.${key}`, `unknown field; a build secret has ${SECRET_FIELDS.join(", ")}`);
        }
        const id = required(string(fields.id, `${path}.id`), `${path}.id`, "the name RUN --mount=type=secret,id=ID uses");
        if (!/^[A-Za-z0-9._-]+$/.test(id))
            throw new errors/* InputError */.d(`${path}.id`, `"${id}" may hold only letters, digits, ".", "_" and "-"`);
        if (out.some((s) => s.id === id))
            throw new errors/* InputError */.d(`${path}.id`, `"${id}" is given twice`);
        const secret = required(secretName(fields.secret, `${path}.secret`), `${path}.secret`, "the Kubernetes Secret that holds it, in the build's namespace");
        const key = string(fields.key, `${path}.key`) || id;
        if (!/^[-._a-zA-Z0-9]+$/.test(key))
            throw new errors/* InputError */.d(`${path}.key`, `"${key}" is not a valid Secret key`);
        out.push({ id, secret, key });
    });
    return out;
}
function parseStrategy(raw, source) {
    const s = object(raw ?? {}, "strategy");
    const type = oneOf(s.type, "strategy.type", STRATEGIES) ?? "docker";
    for (const key of Object.keys(s)) {
        if (s[key] !== undefined && !STRATEGY_FIELDS[type].includes(key)) {
            const owners = STRATEGIES.filter((t) => STRATEGY_FIELDS[t].includes(key));
            throw new errors/* InputError */.d(`strategy.${key}`, `does not apply to the ${type} strategy (it is for ${owners.join(" and ")})`);
        }
    }
    const builderImage = string(s.builderImage, "strategy.builderImage") || undefined;
    if (builderImage)
        read_image(builderImage, "strategy.builderImage", { allowDigest: true });
    if (type === "docker") {
        const builder = oneOf(s.builder, "strategy.builder", types_BUILDERS) ?? DEFAULT_BUILDER;
        const allowDockerSocket = read_boolean(s.allowDockerSocket, "strategy.allowDockerSocket") ?? false;
        if (BUILDERS[builder].nodeDaemon && !allowDockerSocket) {
            throw new errors/* InputError */.d("strategy.builder", `the ${builder} builder uses the node's Docker socket, which is root on that node; set strategy.allowDockerSocket (--allow-docker-socket) to accept that, or use ${DEFAULT_BUILDER}`);
        }
        const dockerfileDefault = source.contextDir === "." ? "Dockerfile" : `${source.contextDir}/Dockerfile`;
        const dockerfile = relativePath(string(s.dockerfile, "strategy.dockerfile") || dockerfileDefault, "strategy.dockerfile");
        const target = string(s.target, "strategy.target") || undefined;
        if (target !== undefined && !/^[A-Za-z0-9][A-Za-z0-9_.-]*$/.test(target)) {
            throw new errors/* InputError */.d("strategy.target", `"${target}" is not a build stage name`);
        }
        const buildArgs = stringMap(s.buildArgs, "strategy.buildArgs", (k) => (/^[A-Za-z_][A-Za-z0-9_]*$/.test(k) ? undefined : `"${k}" is not a valid build argument name`));
        const secrets = buildSecrets(s.secrets);
        if (secrets.length && !BUILDERS[builder].supports.secrets) {
            throw new errors/* InputError */.d("strategy.secrets", `the ${builder} builder cannot mount build secrets into RUN steps; use ${buildersWhere((b) => b.supports.secrets).join(", ")}`);
        }
        const pullSecret = secretName(s.pullSecret, "strategy.pullSecret");
        return { type, builder, dockerfile, target, buildArgs, builderImage, allowDockerSocket, secrets, ...(pullSecret ? { pullSecret } : {}) };
    }
    if (type === "source") {
        const img = required(builderImage, "strategy.builderImage", "the S2I builder image (--builder-image)");
        const scriptsUrl = string(s.scriptsUrl, "strategy.scriptsUrl") || undefined;
        if (scriptsUrl !== undefined && !/^image:\/\/\/\S+$/.test(scriptsUrl)) {
            throw new errors/* InputError */.d("strategy.scriptsUrl", `"${scriptsUrl}" is not supported: give the scripts' directory inside the builder image as image:///path`);
        }
        for (const [k, v] of Object.entries(s.env && typeof s.env === "object" && !Array.isArray(s.env) ? s.env : {})) {
            if (typeof v === "string" && /[\r\n]/.test(v))
                throw new errors/* InputError */.d(`strategy.env.${k}`, "must be a single line");
        }
        const pullSecret = secretName(s.pullSecret, "strategy.pullSecret");
        return {
            type, builderImage: img, scriptsUrl, env: userEnv(s.env, "strategy.env"),
            incremental: read_boolean(s.incremental, "strategy.incremental") ?? false,
            ...(pullSecret ? { pullSecret } : {}),
        };
    }
    const img = required(builderImage, "strategy.builderImage", "the custom builder image (--builder-image)");
    const exposeDockerSocket = read_boolean(s.exposeDockerSocket, "strategy.exposeDockerSocket") ?? false;
    const allowDockerSocket = read_boolean(s.allowDockerSocket, "strategy.allowDockerSocket") ?? false;
    if (exposeDockerSocket && !allowDockerSocket) {
        throw new errors/* InputError */.d("strategy.exposeDockerSocket", "exposes the node's Docker socket, which is root on that node; set strategy.allowDockerSocket (--allow-docker-socket) to accept that");
    }
    const env = userEnv(s.env, "strategy.env");
    for (const name of Object.keys(env)) {
        if (CUSTOM_CONTRACT_ENV.includes(name)) {
            throw new errors/* InputError */.d(`strategy.env.${name}`, `"${name}" is set by buildpod for the custom builder (OpenShift's custom build contract), so your value would be replaced; use another name`);
        }
    }
    return { type, builderImage: img, env, exposeDockerSocket, allowDockerSocket };
}

;// CONCATENATED MODULE: ./build/core/request/index.js
// The build request: one model, validated here and nowhere else. Adapters (build file, flags, action
// inputs) produce a plain object of the build-file shape; parseRequest turns it into a BuildRequest or
// throws an InputError naming the field. Each section has its reader (source.ts, strategy.ts, output.ts,
// scheduling.ts, affinity.ts); the rules between sections are here.
















/** The default build name: the output repository's last path component, made a valid name. */
function defaultName(ref) {
    const last = ref.repository.split("/").pop() ?? "build";
    const cleaned = last.toLowerCase().replace(/[^a-z0-9-]+/g, "-").replace(/^-+|-+$/g, "").slice(0, 40);
    return cleaned || "build";
}
/** Each attempt can take a build's whole timeout: more than a few retries hide a cluster's trouble. */
const MAX_RETRIES = 10;
/** The pod's imagePullSecrets, each once. */
function pullSecrets(value) {
    const out = [];
    listItems(value).forEach((item, i) => {
        const name = secretName(item, `images.pullSecrets[${i}]`);
        if (name && !out.includes(name))
            out.push(name);
    });
    return out;
}
/** Builds the one validated request from a build-file-shaped object. Throws InputError. */
function parseRequest(input, opts = {}) {
    const raw = object(input ?? {}, "");
    const source = parseSource(object(raw.source, "source"));
    const strategy = parseStrategy(object(raw.strategy, "strategy"), source);
    const output = parseOutput(object(raw.output, "output"));
    const cache = parseCache(object(raw.cache, "cache"), strategy);
    const scheduling = parseScheduling(object(raw.scheduling, "scheduling"));
    const name = string(raw.name, "name") || defaultName(output.ref);
    // Room for the "-xxxxx" run suffix inside a 63-character pod name label.
    const nameProblem = dnsLabelProblem(name, 50);
    if (nameProblem)
        throw new errors/* InputError */.d("name", nameProblem);
    const namespace = string(raw.namespace, "namespace") || DEFAULTS.namespace;
    const nsProblem = dnsLabelProblem(namespace);
    if (nsProblem)
        throw new errors/* InputError */.d("namespace", nsProblem);
    const imagesRaw = object(raw.images, "images") ?? {};
    const images = {};
    for (const key of TOOL_IMAGES) {
        const value = string(imagesRaw[key], `images.${key}`) || undefined;
        if (!value)
            continue;
        read_image(value, `images.${key}`, { allowDigest: true });
        images[key] = value;
    }
    if (strategy.type === "source" && source.dockerfile !== undefined) {
        throw new errors/* InputError */.d("source.dockerfile", "does not apply to the source strategy: S2I builds generate their own Dockerfile from the builder image; drop the inline Dockerfile, or build it with the docker strategy");
    }
    if (strategy.type === "docker" && !BUILDERS[strategy.builder].supports.annotations && Object.keys(output.annotations).length) {
        throw new errors/* InputError */.d("output.annotations", `the ${strategy.builder} builder cannot put annotations on the image's manifest; use ${buildersWhere((b) => b.supports.annotations).join(" or ")}, or drop the annotations (labels go on every builder)`);
    }
    if (strategy.type === "docker" && BUILDERS[strategy.builder].nodeDaemon && output.insecure) {
        throw new errors/* InputError */.d("output.insecure", `does not apply to the ${strategy.builder} builder: the node's Docker daemon pushes, and its own configuration (insecure-registries in its daemon.json) decides which registries may be plain HTTP or unverified; drop output.insecure (--insecure-registry) and configure the daemon, or use ${DEFAULT_BUILDER}`);
    }
    const platform = output.platforms[0];
    if (platform && !(strategy.type === "docker" && BUILDERS[strategy.builder].supports.platforms)) {
        const who = strategy.type === "docker" ? `the ${strategy.builder} builder builds` : strategy.type === "source" ? "S2I builds build" : "a custom builder builds";
        throw new errors/* InputError */.d("output.platforms", `${who} for the node's own platform; build ${platform} with the docker strategy and ${buildersWhere((b) => b.supports.platforms).join(" or ")}, or drop the platform (--platform)`);
    }
    if (scheduling.emulate && !platform) {
        throw new errors/* InputError */.d("scheduling.emulate", "applies to a build for another platform; name it with output.platforms (--platform), e.g. linux/arm64");
    }
    for (const p of output.platforms) {
        for (const [label, value] of Object.entries(platformSelector(p))) {
            const given = scheduling.nodeSelector[label];
            if (given !== undefined && given !== value) {
                throw new errors/* InputError */.d("scheduling.nodeSelector", `${label}=${given} contradicts the platform ${p}; drop the node selector (the platform places the build)`);
            }
        }
    }
    if (output.platforms.length > 1)
        checkSeveralPlatforms(name, output, raw.workload);
    const workload = oneOf(raw.workload, "workload", ["job", "pod"]) ?? "job";
    const retries = wholeNumber(raw.retries, "retries", 0, MAX_RETRIES, `a whole number from 0 to ${MAX_RETRIES}`) ?? 0;
    if (retries > 0 && workload === "pod") {
        throw new errors/* InputError */.d("retries", "needs a Job: a bare Pod (--pod) is never started again; drop --pod or --retries");
    }
    if (strategy.type === "source" && !source.git && !source.binary) {
        throw new errors/* InputError */.d("source", "the source strategy needs source code: a Git repository or a binary input");
    }
    const network = parseNetwork(object(raw.network, "network"), opts.env ?? {});
    checkNetwork(network, strategy, output.pushSecret);
    return {
        name, namespace, source, strategy, output, images,
        ...(cache ? { cache } : {}),
        workload,
        resources: parseResources(object(raw.resources, "resources")),
        timeout: duration(raw.timeout, "timeout"),
        startTimeout: duration(raw.startTimeout, "startTimeout"),
        uploadTimeout: duration(raw.uploadTimeout, "uploadTimeout"),
        deleteAfter: duration(raw.deleteAfter, "deleteAfter"),
        retries,
        scheduling,
        labels: labels(raw.labels, "labels"),
        imagePullSecrets: pullSecrets(imagesRaw.pullSecrets),
        network,
    };
}
/**
 * Tool image mirrors from the environment, BUILDPOD_IMAGE_SOURCE, BUILDPOD_IMAGE_BUILDAH and so on, as a
 * build-file fragment that every adapter lays under its file and inputs.
 */
function imagesFromEnv(env) {
    const images = {};
    for (const key of TOOL_IMAGES) {
        const value = env[`BUILDPOD_IMAGE_${key.toUpperCase()}`];
        if (value)
            images[key] = value;
    }
    return Object.keys(images).length ? { images } : {};
}
/**
 * A build for several platforms pushes each platform's image and an index of them, as Jobs: one per
 * platform, named after the build with the platform's suffix, and one for the index.
 */
function checkSeveralPlatforms(name, output, workload) {
    const list = output.platforms.join(", ");
    if (!output.push) {
        throw new errors/* InputError */.d("output.push", `a build for several platforms (${list}) makes an image index in the registry, so it pushes; drop --no-push, or build one platform`);
    }
    if (workload === "pod") {
        throw new errors/* InputError */.d("workload", `a build for several platforms (${list}) runs as Jobs, one per platform and one for the index; drop --pod`);
    }
    for (const p of output.platforms) {
        const job = `${name}-xxxxx-${platformJobSuffix(p)}`;
        if (job.length > 63) {
            throw new errors/* InputError */.d("name", `"${name}" is too long for a build for ${p}: its Job's name (${job.length} characters, the run id and "${platformJobSuffix(p)}" added) must fit in 63; give a build name of at most ${name.length - (job.length - 63)} characters`);
        }
        const tagged = platformImage(output.image, p);
        const problem = parseReference(tagged);
        if (typeof problem === "string") {
            throw new errors/* InputError */.d("output.image", `the image's tag is too long to add the platform's ("${tagged}" ${problem}); give a shorter tag`);
        }
    }
}

;// CONCATENATED MODULE: ./build/core/buildfile.js
// Build files (buildpod.yaml or .json) and the merge of flags over them. Parsing text is pure; reading
// the file is the caller's business.


function parseBuildFile(text, fileName) {
    let value;
    try {
        value = fileName.endsWith(".json") ? JSON.parse(text) : (0,dist/* parse */.qg)(text, { uniqueKeys: true });
    }
    catch (err) {
        const where = err instanceof dist/* YAMLParseError */.XT && err.linePos ? ` at line ${err.linePos[0].line}` : "";
        const what = err instanceof Error ? err.message.split("\n")[0] : String(err);
        throw new errors/* InputError */.d("", `${fileName}${where} is not valid ${fileName.endsWith(".json") ? "JSON" : "YAML"}: ${what}`);
    }
    if (value === null || value === undefined)
        return {};
    if (typeof value !== "object" || Array.isArray(value)) {
        throw new errors/* InputError */.d("", `${fileName} must hold a mapping of fields (name, source, strategy, output, ...)`);
    }
    return value;
}
function isMap(v) {
    return typeof v === "object" && v !== null && !Array.isArray(v);
}
/**
 * Lays `over` (flags) on `base` (the file): mappings merge key by key, anything else in `over` replaces
 * what the file said. Undefined values in `over` leave the file's value alone.
 */
function mergeInput(base, over) {
    const out = { ...base };
    for (const [key, value] of Object.entries(over)) {
        if (value === undefined)
            continue;
        out[key] = isMap(value) && isMap(base[key]) ? mergeInput(base[key], value) : value;
    }
    return out;
}
/** Sets a dotted build-file path ("scheduling.affinity") in a raw request, making the mappings on the way. */
function setPath(target, path, value) {
    const keys = path.split(".");
    let node = target;
    for (const key of keys.slice(0, -1))
        node = (node[key] ??= {});
    node[keys[keys.length - 1]] = value;
}
/** A mapping given whole as JSON or YAML text in one flag or input (`field` names it in errors). */
function parseMapping(text, field) {
    let value;
    try {
        value = (0,dist/* parse */.qg)(text, { uniqueKeys: true });
    }
    catch (err) {
        throw new errors/* InputError */.d(field, `is not valid JSON or YAML: ${(err instanceof Error ? err.message : String(err)).split("\n")[0].replace(/:$/, "")}`);
    }
    if (!isMap(value))
        throw new errors/* InputError */.d(field, `must be a JSON or YAML mapping, e.g. '{"nodeAffinity": {...}}'`);
    return value;
}

;// CONCATENATED MODULE: ./build/core/request/given.js
// What an entry point's user gave, laid over the build file: each adapter turns its own flags, inputs
// or parameters into values of the field table, and this one path makes the request of them, with
// errors that name the field as the user named it.



/** "KEY=VALUE" items as a mapping; `name` says where they came from in the error. */
function keyValues(items, name, hint = "") {
    const out = {};
    for (const item of items) {
        const eq = item.indexOf("=");
        if (eq <= 0)
            throw new errors/* InputError */.d(name, `"${item}" is not KEY=VALUE${hint}`);
        out[item.slice(0, eq)] = item.slice(eq + 1);
    }
    return out;
}
/**
 * The build-file-shaped request: `layers` from the lowest (tool images from the environment, an entry
 * point's defaults, the build file), then the given fields over them. Mappings merge key by key, except
 * an object field (an affinity), which replaces the file's whole.
 */
function layFields(layers, given) {
    const over = {};
    for (const g of given)
        setPath(over, g.field.path, g.value);
    const raw = [...layers, over].reduce((base, layer) => mergeInput(base, layer), {});
    for (const g of given)
        if (g.field.kind === "object")
            setPath(raw, g.field.path, g.value);
    return raw;
}
/**
 * parseRequest; an error about a given field names it as the user did: "--cache (cache.repository): ...".
 * ENV is the entry point's environment, read only for network.proxyFromEnv.
 */
function parseGiven(raw, given, env = {}) {
    try {
        return parseRequest(raw, { env });
    }
    catch (err) {
        if (!(err instanceof errors/* InputError */.d))
            throw err;
        const path = (g) => g.field.path;
        const match = given.find((g) => err.field === path(g) || err.field.startsWith(`${path(g)}.`) || err.field.startsWith(`${path(g)}[`));
        throw match ? new errors/* InputError */.d(`${match.name} (${err.field})`, err.problem) : err;
    }
}

;// CONCATENATED MODULE: ./build/core/images.js
// The source container's default image, pinned by digest so that the same request fetches its source
// with the same tools; the request may replace it (images.source), e.g. by a mirror in the cluster's own
// registry. Each builder's default image is in its record (core/builders/).
/** Git, tar and a shell: clones Git sources and receives uploads. */
const SOURCE_IMAGE = "alpine/git:v2.49.1@sha256:c0280cf9572316299b08544065d3bf35db65043d5e3963982ec50647d2746e26";

// EXTERNAL MODULE: external "node:crypto"
var external_node_crypto_ = __webpack_require__(7598);
// EXTERNAL MODULE: ./build/core/version.js
var version = __webpack_require__(8614);
;// CONCATENATED MODULE: ./build/core/provenance.js
// The build's provenance: an in-toto statement with a SLSA provenance v1 predicate, saying what built the
// image: the builder and its image, the strategy and its parameters, the source, the times. buildpod
// renders it here, pure; the build pod fills in what only it knows (the pushed digest, the resolved
// commit, the times) and attaches it to the image in the registry (core/scripts/provenance.sh). It names
// Secrets, never their contents.




const STATEMENT_TYPE = "https://in-toto.io/Statement/v1";
const SLSA_PROVENANCE = "https://slsa.dev/provenance/v1";
/** What the externalParameters and internalParameters below mean: this file's shape, version 1. */
const BUILD_TYPE = "https://buildpod.dev/provenance/build/v1";
/** The artifact type of the referrer, and its one layer's media type. */
const IN_TOTO_MEDIA_TYPE = "application/vnd.in-toto+json";
/** What only the pod knows, which it puts in where the rendered statement reads "@@NAME@@". */
const PLACEHOLDERS = ["SUBJECT", "COMMIT", "INPUT", "STARTED", "FINISHED"];
/**
 * Whether the build attaches provenance: it pushes, and provenance is asked for or left to the default,
 * which is on but for two builds that attach it only when asked (output.provenance true): a custom one,
 * whose builder must leave the digest it pushed in BUILDPOD_DIGEST_FILE, which one written without it in
 * mind does not; and the docker builder's, whose registries' trust (certs.d, insecure-registries) is the
 * node daemon's configuration, which the provenance container cannot see.
 */
function attachesProvenance(req) {
    const s = req.strategy;
    const onlyWhenAsked = s.type === "custom" || (s.type === "docker" && BUILDERS[s.builder].nodeDaemon);
    return req.output.push && (onlyWhenAsked ? req.output.provenance === true : req.output.provenance !== false);
}
/**
 * Whether a container after the build attaches the provenance: for a builder whose image has no curl
 * (kaniko, BuildKit, the docker builder) and a custom builder, which leave the pushed digest in a file.
 */
function provenanceAfterBuild(req) {
    const s = req.strategy;
    return attachesProvenance(req) && (s.type === "custom" || (s.type === "docker" && !BUILDERS[s.builder].supports.provenance));
}
/** Every repository the image goes to (its own and its extra tags'), each once. */
function targets(req) {
    const out = new Map();
    for (const text of [req.output.image, ...req.output.tags]) {
        const ref = parseReference(text);
        if (typeof ref === "string")
            continue; // the request's reader refused these already
        const hub = ref.registry === "docker.io";
        const name = `${ref.registry}/${ref.repository}`;
        out.set(name, {
            name,
            // Docker Hub's API is at registry-1.docker.io; Docker config files key its credentials by either name.
            apiHost: hub ? "registry-1.docker.io" : ref.registry,
            repository: ref.repository,
            keys: hub
                ? ["https://index.docker.io/v1/", "docker.io", "index.docker.io", "registry-1.docker.io"]
                : [ref.registry, `https://${ref.registry}`, `http://${ref.registry}`],
        });
    }
    return [...out.values()];
}
const sha256 = (text) => (0,external_node_crypto_.createHash)("sha256").update(text).digest("hex");
/**
 * JSON text of what BUILD makes, with "@@NAME@@" wherever it put mark(NAME), and nowhere else: every other
 * "@" is written \u0040 (the same JSON value), so a request value cannot pass for a placeholder. The marks
 * are first made unique by a digest of the document they are in, which no value in it can contain.
 */
function withPlaceholders(build) {
    const nonce = sha256(JSON.stringify(build((n) => n))).slice(0, 32);
    let text = JSON.stringify(build((n) => `${nonce}:${n}`)).replace(/@/g, "\\u0040");
    for (const n of PLACEHOLDERS)
        text = text.split(`"${nonce}:${n}"`).join(`"@@${n}@@"`);
    return text;
}
/** The image reference's digest where it is pinned by one. */
function imageDescriptor(image) {
    const ref = parseReference(image);
    const hex = typeof ref !== "string" && ref.digest?.startsWith("sha256:") ? ref.digest.slice(7) : undefined;
    return { uri: `oci://${image}`, ...(hex ? { digest: { sha256: hex } } : {}) };
}
/**
 * A Git URL as the provenance records it: an HTTP(S) URL without its user part, which may be a token (the
 * request refuses a password there, not a token given as the user); the record outlives the pod, in the
 * registry.
 */
function recordedGitUrl(url) {
    return url.replace(/^(https?:\/\/)[^/@]*@/, "$1");
}
function sourceParameters(req) {
    const { git, binary, dockerfile, contextDir, sourceDateEpoch } = req.source;
    return {
        ...(git ? { git: { url: recordedGitUrl(git.url), ...(git.ref ? { ref: git.ref } : {}), depth: git.depth, ...(git.secret ? { secret: git.secret } : {}) } } : {}),
        ...(binary ? { upload: { format: binary.format } } : {}),
        contextDir,
        ...(dockerfile !== undefined ? { inlineDockerfile: { sha256: sha256(dockerfile) } } : {}),
        ...(sourceDateEpoch !== undefined ? { sourceDateEpoch } : {}),
    };
}
function strategyParameters(req) {
    const s = req.strategy;
    switch (s.type) {
        case "docker":
            return {
                type: "docker", builder: s.builder, dockerfile: s.dockerfile, ...(s.target ? { target: s.target } : {}),
                buildArgs: s.buildArgs,
                // Which Secret keys RUN steps could read, never what they hold.
                secrets: s.secrets.map((x) => ({ id: x.id, secret: x.secret, key: x.key })),
                ...(s.pullSecret ? { pullSecret: s.pullSecret } : {}),
                ...(req.cache ? { cache: { repository: req.cache.repository, mode: req.cache.mode } } : {}),
            };
        case "source":
            return {
                type: "source", builderImage: s.builderImage, incremental: s.incremental, ...(s.scriptsUrl ? { scriptsUrl: s.scriptsUrl } : {}),
                env: s.env, ...(s.pullSecret ? { pullSecret: s.pullSecret } : {}),
            };
        case "custom":
            return { type: "custom", builderImage: s.builderImage };
    }
}
/**
 * The statement as JSON text, with placeholders for the subject's digest, the commit and the times.
 * BUILDER_IMAGE: the build container's image; RUN: the Job's (or Pod's) name, which identifies this
 * invocation.
 */
function provenanceStatement(req, builderImage, run) {
    return withPlaceholders((mark) => statement(req, builderImage, run, mark));
}
function statement(req, builderImage, run, mark) {
    const builder = req.strategy.type === "docker" ? req.strategy.builder : req.strategy.type === "custom" ? "custom" : "buildah";
    const { git, binary } = req.source;
    return {
        _type: STATEMENT_TYPE,
        subject: targets(req).map((t) => ({ name: t.name, digest: { sha256: mark("SUBJECT") } })),
        predicateType: SLSA_PROVENANCE,
        predicate: {
            buildDefinition: {
                buildType: BUILD_TYPE,
                externalParameters: {
                    source: sourceParameters(req),
                    strategy: strategyParameters(req),
                    output: {
                        image: req.output.image, tags: req.output.tags, labels: req.output.labels, annotations: req.output.annotations,
                        ...(req.output.pushSecret ? { pushSecret: req.output.pushSecret } : {}),
                    },
                },
                internalParameters: { namespace: req.namespace, build: req.name },
                resolvedDependencies: git
                    ? [{ uri: `git+${recordedGitUrl(git.url)}${git.ref ? `@${git.ref}` : ""}`, digest: { gitCommit: mark("COMMIT") } }]
                    : binary
                        ? [{ uri: `buildpod:upload`, name: binary.format, digest: { dirHash: mark("INPUT") } }]
                        : [],
            },
            runDetails: {
                builder: {
                    id: `https://buildpod.dev/builders/${builder}`,
                    version: { buildpod: version/* VERSION */.x },
                    builderDependencies: [imageDescriptor(builderImage)],
                },
                metadata: {
                    ...(run ? { invocationId: `${req.namespace}/${run}` } : {}),
                    startedOn: mark("STARTED"),
                    finishedOn: mark("FINISHED"),
                },
            },
        },
    };
}
/** The build container's environment that makes it attach the provenance (core/scripts/provenance.sh). */
function provenanceEnv(req, builderImage, run) {
    if (!attachesProvenance(req))
        return {};
    return {
        BUILDPOD_PROVENANCE: provenanceStatement(req, builderImage, run),
        BUILDPOD_PROVENANCE_TARGETS: targets(req).map((t) => [t.apiHost, t.repository, ...t.keys].join(" ")).join("\n"),
    };
}

;// CONCATENATED MODULE: ./build/core/strategy/network.js


/** The file names the ConfigMaps' keys get in the pod, whatever the keys are called. */
const NETWORK_FILES = { caBundle: `${PATHS.caBundle}/ca.crt`, registriesConf: `${PATHS.registriesConf}/registries.conf` };
/** The environment a forward proxy needs, in both cases: curl (Git) reads only http_proxy in lower case. */
function proxyEnv(req) {
    const n = req.network;
    const out = {};
    const set = (name, value) => {
        out[name] = value;
        out[name.toLowerCase()] = value;
    };
    set("HTTP_PROXY", n.httpProxy);
    set("HTTPS_PROXY", n.httpsProxy);
    set("NO_PROXY", (n.httpProxy || n.httpsProxy) && n.noProxy.length ? n.noProxy.join(",") : undefined);
    return out;
}
function configMapVolume(name, from, file) {
    return { name, configMap: { name: from.name, items: [{ key: from.key, path: file }], defaultMode: 0o444 } };
}
/**
 * CA_DIRS: the build image's own certificate directories that Go would not find by itself (kaniko's).
 * Go's SSL_CERT_DIR adds the bundle's directory to the system's certificates for every Go builder.
 */
function networkPlan(req, caDirs) {
    const n = req.network;
    const plan = { volumes: [], sourceMounts: [], sourceEnv: [], buildMounts: [], buildEnv: { ...proxyEnv(req) } };
    if (n.caBundle) {
        plan.volumes.push(configMapVolume("ca-bundle", n.caBundle, "ca.crt"));
        const mount = { name: "ca-bundle", mountPath: PATHS.caBundle, readOnly: true };
        plan.sourceMounts.push(mount);
        plan.buildMounts.push({ ...mount });
        plan.buildEnv.SSL_CERT_DIR = [...caDirs, PATHS.caBundle].join(":");
        plan.buildEnv.BUILDPOD_CA_BUNDLE = NETWORK_FILES.caBundle;
    }
    plan.sourceEnv = env({ ...proxyEnv(req), BUILDPOD_CA_BUNDLE: n.caBundle ? NETWORK_FILES.caBundle : undefined });
    if (n.registriesConf) {
        plan.volumes.push(configMapVolume("registries-conf", n.registriesConf, "registries.conf"));
        plan.buildMounts.push({ name: "registries-conf", mountPath: PATHS.registriesConf, readOnly: true });
        plan.buildEnv.CONTAINERS_REGISTRIES_CONF = NETWORK_FILES.registriesConf;
    }
    const pullSecret = req.strategy.type === "custom" ? undefined : req.strategy.pullSecret;
    if (pullSecret) {
        plan.volumes.push({
            name: "pull-secret",
            secret: { secretName: pullSecret, items: [{ key: ".dockerconfigjson", path: "config.json" }], defaultMode: 0o440 },
        });
        plan.buildMounts.push({ name: "pull-secret", mountPath: PATHS.pullConfig, readOnly: true });
        // containers/image (buildah) looks for a registry's credentials in REGISTRY_AUTH_FILE first, then in
        // DOCKER_CONFIG's config.json: the push Secret's entries go first, the pull Secret's fill the rest.
        // The other builders read DOCKER_CONFIG alone (the request refuses them both Secrets).
        plan.buildEnv.DOCKER_CONFIG = PATHS.pullConfig;
        if (!req.output.pushSecret)
            plan.buildEnv.REGISTRY_AUTH_FILE = `${PATHS.pullConfig}/config.json`;
    }
    return plan;
}

;// CONCATENATED MODULE: ./build/core/provenance-container.js





/**
 * The container that attaches the provenance after a builder without curl: the buildah image's sh and curl,
 * unprivileged, with the push credentials, the CA bundle and the proxy; nothing else of the build.
 */
function provenanceContainer(req, builderImage, run, res) {
    const mounts = [{ name: "workspace", mountPath: PATHS.workspace }];
    if (req.output.pushSecret)
        mounts.push({ name: "push-secret", mountPath: PATHS.pushConfig, readOnly: true });
    if (req.network.caBundle)
        mounts.push({ name: "ca-bundle", mountPath: PATHS.caBundle, readOnly: true });
    return {
        name: "provenance",
        image: req.images.buildah ?? BUILDERS.buildah.image,
        command: ["/bin/sh", "-c", PROVENANCE_SCRIPT, "buildpod-provenance"],
        env: env({
            ...outputEnv(req),
            TMPDIR: PATHS.provenanceTmp,
            BUILDPOD_DIGEST_FILE: PATHS.pushedDigest,
            BUILDPOD_CA_BUNDLE: req.network.caBundle ? NETWORK_FILES.caBundle : undefined,
            ...proxyEnv(req),
            ...provenanceEnv(req, builderImage, run),
        }),
        securityContext: UNPRIVILEGED(),
        volumeMounts: mounts,
        ...(res ? { resources: res } : {}),
        terminationMessagePolicy: "FallbackToLogsOnError",
    };
}

;// CONCATENATED MODULE: ./build/core/strategy/custom.js



/** The build as the custom builder sees it in BUILD: what was asked, with no credentials. */
function buildDescription(req) {
    const { ref, ...output } = req.output;
    return {
        name: req.name,
        namespace: req.namespace,
        source: {
            git: req.source.git ? { url: req.source.git.url, ref: req.source.git.ref } : undefined,
            binary: req.source.binary ? { format: req.source.binary.format } : undefined,
            contextDir: req.source.contextDir,
            path: PATHS.source,
        },
        strategy: { type: "custom", builderImage: req.strategy.builderImage, exposeDockerSocket: req.strategy.exposeDockerSocket },
        output: { ...output, registry: ref.registry, repository: ref.repository, tag: ref.tag },
    };
}
function customStrategy(req, s) {
    const socket = s.exposeDockerSocket ? dockerSocket() : undefined;
    const { ref } = req.output;
    return {
        container: {
            name: "build",
            image: s.builderImage,
            env: env({
                ...s.env,
                BUILD: JSON.stringify(buildDescription(req)),
                OUTPUT_REGISTRY: ref.registry,
                OUTPUT_IMAGE: `${ref.repository}:${ref.tag}`,
                BUILDPOD_OUTPUT_TAGS: req.output.tags.length ? req.output.tags.join("\n") : undefined,
                // "false": build, push nothing, and report {"imageId": ...} in the termination message.
                BUILDPOD_PUSH: String(req.output.push),
                BUILDPOD_OUTPUT_ANNOTATIONS: Object.keys(req.output.annotations).length
                    ? Object.keys(req.output.annotations).sort().map((k) => `${k}=${req.output.annotations[k]}`).join("\n") : undefined,
                SOURCE_REPOSITORY: req.source.git?.url,
                SOURCE_URI: req.source.git?.url,
                SOURCE_REF: req.source.git?.ref,
                SOURCE_CONTEXT_DIR: req.source.contextDir,
                BUILDPOD_SOURCE_DIR: contextPath(req),
                BUILDPOD_SOURCE_DATE_EPOCH_FILE: PATHS.sourceDateEpoch,
                PUSH_DOCKERCFG_PATH: req.output.pushSecret ? PATHS.pushConfig : undefined,
                DOCKER_CONFIG: req.output.pushSecret ? PATHS.pushConfig : undefined,
                DOCKER_SOCKET: s.exposeDockerSocket ? PATHS.dockerSocket : undefined,
                // With --provenance true: where the builder leaves the digest it pushed, for the provenance container.
                BUILDPOD_DIGEST_FILE: provenanceAfterBuild(req) ? PATHS.pushedDigest : undefined,
            }),
            // Not privileged, and no seccomp profile of its own: custom builders are often buildah, whose RUN steps
            // need a user namespace that containerd's RuntimeDefault profile refuses (see the buildah builder).
            securityContext: { allowPrivilegeEscalation: false, privileged: false },
            volumeMounts: socket ? [socket.mount] : [],
        },
        volumes: socket ? [socket.volume] : [],
        sourceEnv: env({ BUILDPOD_DOCKERFILE_CONTENT: req.source.dockerfile }),
    };
}

;// CONCATENATED MODULE: ./build/core/strategy/docker.js





/**
 * One file per build secret, named by its id, from the Secrets' keys. Readable by the owner and the pod's
 * group (fsGroup): rootless BuildKit reads them as that group, buildah as root.
 */
function buildSecretsVolume(s) {
    const bySecret = new Map();
    for (const x of s.secrets)
        bySecret.set(x.secret, [...(bySecret.get(x.secret) ?? []), { key: x.key, path: x.id }]);
    return {
        name: "build-secrets",
        projected: { defaultMode: 0o440, sources: [...bySecret].map(([name, items]) => ({ secret: { name, items } })) },
    };
}
/**
 * The proxy as build arguments, for builders that do not pass their own proxy environment on to RUN steps:
 * docker build's predefined proxy arguments, which need no ARG line (BuildKit keeps them out of the image's
 * history).
 */
function withProxyArgs(req, s) {
    const proxy = Object.fromEntries(Object.entries(proxyEnv(req)).filter((e) => e[1] !== undefined));
    return Object.keys(proxy).length ? { ...s, buildArgs: { ...proxy, ...s.buildArgs } } : s;
}
function dockerStrategy(req, s) {
    const builder = BUILDERS[s.builder];
    // A builder without curl leaves the pushed digest for the provenance container after it.
    const digestFile = provenanceAfterBuild(req) ? PATHS.pushedDigest : PATHS.terminationLog;
    const { command, args: own, env: extra } = builder.container(req, builder.runProxy === "build-args" ? withProxyArgs(req, s) : s, digestFile);
    // Every builder that supports them (the request refuses the others) takes docker build's --secret.
    const secretArgs = s.secrets.flatMap((x) => ["--secret", `id=${x.id},src=${PATHS.buildSecrets}/${x.id}`]);
    const args = [...(own ?? []), ...secretArgs, ...(req.cache && builder.cacheOptions ? builder.cacheOptions(req.cache, req) : [])];
    const mounts = Object.entries(builder.scratch).map(([name, mountPath]) => ({ name, mountPath }));
    const volumes = Object.keys(builder.scratch).map((name) => emptyDir(name));
    if (s.secrets.length) {
        mounts.push({ name: "build-secrets", mountPath: PATHS.buildSecrets, readOnly: true });
        volumes.push(buildSecretsVolume(s));
    }
    if (builder.nodeDaemon) {
        const socket = dockerSocket();
        mounts.push(socket.mount);
        volumes.push(socket.volume);
    }
    return {
        container: {
            name: "build",
            image: s.builderImage ?? req.images[s.builder] ?? builder.image,
            command, args,
            // The Docker CLI hands secrets to the daemon only through BuildKit.
            env: env({
                ...builder.env, ...outputEnv(req), ...extra, ...(builder.nodeDaemon && s.secrets.length ? { DOCKER_BUILDKIT: "1" } : {}),
                BUILDPOD_DIGEST_FILE: digestFile === PATHS.pushedDigest ? digestFile : undefined,
            }),
            securityContext: builder.securityContext,
            volumeMounts: mounts,
        },
        volumes,
        sourceEnv: env({
            BUILDPOD_DOCKERFILE_CONTENT: req.source.dockerfile,
            BUILDPOD_DOCKERFILE_PATH: req.source.dockerfile === undefined ? dockerfilePath(req, s.dockerfile) : undefined,
        }),
    };
}

;// CONCATENATED MODULE: ./build/core/strategy/source.js
// source strategy (S2I): the source is copied into the builder image, its assemble script runs, and its
// run script becomes the command. Built as a generated Dockerfile, as source-to-image's own dockerfile
// strategy does; an incremental build first runs save-artifacts in the previous image and restores them.



/**
 * The generated Dockerfile. It names no request value: the builder image, scripts directory, user and
 * every env value arrive as build arguments, resolved in the pod from the builder image itself.
 */
function s2iDockerfile(s, incremental) {
    const user = "${BUILDPOD_S2I_USER}";
    // The source and artifacts are copied owned by the assemble user: no RUN as root to chown them (every
    // RUN is a container start and a layer's worth of work for the builder).
    const owned = "--chown=${BUILDPOD_S2I_OWNER}";
    const envNames = Object.keys(s.env).sort();
    const lines = ["ARG BUILDPOD_S2I_BUILDER"];
    if (incremental) {
        lines.push("ARG BUILDPOD_S2I_PREVIOUS", "FROM ${BUILDPOD_S2I_PREVIOUS} AS previous", "ARG BUILDPOD_S2I_SCRIPTS", "ARG BUILDPOD_S2I_USER", `USER ${user}`, 
        // save-artifacts streams a tar; it is unpacked here, in the previous image, so that the next stage
        // needs no step of its own to restore it.
        'RUN mkdir -p /tmp/artifacts && if [ -x "$BUILDPOD_S2I_SCRIPTS/save-artifacts" ]; then "$BUILDPOD_S2I_SCRIPTS/save-artifacts" > /tmp/artifacts.tar && tar -xf /tmp/artifacts.tar -C /tmp/artifacts && rm -f /tmp/artifacts.tar; fi');
    }
    lines.push("FROM ${BUILDPOD_S2I_BUILDER}", "ARG BUILDPOD_S2I_BUILDER", "ARG BUILDPOD_S2I_SCRIPTS", "ARG BUILDPOD_S2I_USER", "ARG BUILDPOD_S2I_OWNER", ...envNames.flatMap((name) => [`ARG ${name}`, `ENV ${name}="\${${name}}"`]), 'LABEL io.openshift.s2i.build.image="${BUILDPOD_S2I_BUILDER}"', `COPY ${owned} . /tmp/src`);
    if (incremental)
        lines.push(`COPY --from=previous ${owned} /tmp/artifacts /tmp/artifacts`);
    lines.push(`USER ${user}`, 'RUN "$BUILDPOD_S2I_SCRIPTS/assemble"', 
    // S2I builder images name their scripts directory STI_SCRIPTS_PATH; the run script becomes the command.
    "ENV STI_SCRIPTS_PATH=${BUILDPOD_S2I_SCRIPTS}", 'CMD ["/bin/sh", "-c", "exec \\"$STI_SCRIPTS_PATH/run\\""]');
    return lines.join("\n") + "\n";
}
function sourceStrategy(req, s) {
    // Built by buildah, as its record describes it: image, storage, environment, security context.
    const buildah = BUILDERS.buildah;
    return {
        container: {
            name: "build",
            image: req.images.buildah ?? buildah.image,
            command: ["/bin/sh", "-c", S2I_SCRIPT, "buildpod-build"],
            args: [...pairs("--build-arg", s.env), ...pairs("--label", req.output.labels), ...pairs("--annotation", req.output.annotations)],
            env: env({
                ...buildah.env,
                ...outputEnv(req),
                BUILDPOD_S2I_BUILDER: s.builderImage,
                BUILDPOD_S2I_SCRIPTS_URL: s.scriptsUrl,
                BUILDPOD_S2I_INCREMENTAL: s.incremental ? "true" : "false",
            }),
            securityContext: buildah.securityContext,
            volumeMounts: Object.entries(buildah.scratch).map(([name, mountPath]) => ({ name, mountPath })),
        },
        volumes: Object.keys(buildah.scratch).map((name) => emptyDir(name)),
        sourceEnv: env({
            BUILDPOD_DOCKERFILE_CONTENT: s2iDockerfile(s, false),
            BUILDPOD_DOCKERFILE_INCREMENTAL_CONTENT: s.incremental ? s2iDockerfile(s, true) : undefined,
        }),
    };
}

;// CONCATENATED MODULE: ./build/core/render.js











const LABELS = {
    managedBy: "app.kubernetes.io/managed-by",
    build: "buildpod.dev/build",
    run: "buildpod.dev/run",
    strategy: "buildpod.dev/strategy",
};
const ANNOTATIONS = {
    image: "buildpod.dev/image",
    source: "buildpod.dev/source",
    ref: "buildpod.dev/ref",
    startTimeout: "buildpod.dev/start-timeout",
    /** "false" on a build asked not to push. */
    push: "buildpod.dev/push",
    /** Set on create only, to recognise our own object when a create's answer was lost and it is retried. */
    createToken: "buildpod.dev/create-token",
};
/**
 * With retries, the Job starts the build again only when the cluster ended it: a pod with the
 * DisruptionTarget condition (evicted, preempted, deleted with a lost node) counts against backoffLimit;
 * any container's failure (the first rule not having matched) fails the Job at once. The order matters: a
 * disrupted pod's containers exit non-zero too. The Job replaces a pod only once it is terminal.
 */
const RETRY_DISRUPTIONS_ONLY = {
    rules: [
        { action: "Count", onPodConditions: [{ type: "DisruptionTarget", status: "True" }] },
        { action: "FailJob", onExitCodes: { operator: "NotIn", values: [0] } },
    ],
};
/** A short run id: lower-case letters and digits, as Kubernetes' generateName uses. */
function newRunId(random = Math.random) {
    const alphabet = "bcdfghjklmnpqrstvwxz2456789";
    return Array.from({ length: 5 }, () => alphabet[Math.floor(random() * alphabet.length)]).join("");
}
function runName(req, id) {
    return `${req.name}-${id}`;
}
function strategyPlan(req) {
    switch (req.strategy.type) {
        case "docker":
            return dockerStrategy(req, req.strategy);
        case "source":
            return sourceStrategy(req, req.strategy);
        case "custom":
            return customStrategy(req, req.strategy);
    }
}
function resources(req) {
    const pick = (list) => {
        const out = Object.fromEntries(Object.entries(list).filter(([, v]) => v !== undefined));
        return Object.keys(out).length ? out : undefined;
    };
    const requests = pick(req.resources.requests);
    const limits = pick(req.resources.limits);
    if (!requests && !limits)
        return undefined;
    return { ...(requests ? { requests } : {}), ...(limits ? { limits } : {}) };
}
function sourceContainer(req, plan, net, res) {
    const { git, binary } = req.source;
    const mounts = [{ name: "workspace", mountPath: PATHS.workspace }, ...net.sourceMounts];
    if (git?.secret)
        mounts.push({ name: "source-secret", mountPath: PATHS.sourceSecret, readOnly: true });
    return {
        name: "source",
        image: req.images.source ?? SOURCE_IMAGE,
        command: ["/bin/sh", "-c", SOURCE_SCRIPT, "buildpod-source"],
        env: [
            ...env({
                BUILDPOD_SOURCE_MODE: git ? "git" : binary ? "upload" : "none",
                BUILDPOD_GIT_URL: git?.url,
                BUILDPOD_GIT_REF: git?.ref,
                BUILDPOD_GIT_DEPTH: git ? String(git.depth) : undefined,
                BUILDPOD_UPLOAD_TIMEOUT: binary ? String(req.uploadTimeout) : undefined,
                BUILDPOD_SOURCE_DATE_EPOCH: req.source.sourceDateEpoch?.toString(),
                BUILDPOD_CONTEXT_DIR: req.source.contextDir,
                // The upload's digest, for the provenance.
                BUILDPOD_INPUT_DIGEST: binary && attachesProvenance(req) ? "true" : undefined,
            }),
            ...plan.sourceEnv,
            ...net.sourceEnv,
        ],
        securityContext: UNPRIVILEGED(),
        volumeMounts: mounts,
        ...(res ? { resources: res } : {}),
        terminationMessagePolicy: "FallbackToLogsOnError",
    };
}
/** The build image's own certificate directories that a CA bundle is added to. */
function caDirs(req) {
    const s = req.strategy;
    return s.type === "docker" ? BUILDERS[s.builder].caDirs : s.type === "source" ? BUILDERS.buildah.caDirs : [];
}
/** ENV with OVER laid on it: a name in both takes OVER's value, in ENV's place. */
function overlay(env, over) {
    const given = Object.entries(over).filter((e) => e[1] !== undefined);
    const names = new Set(given.map(([n]) => n));
    return [...env.filter((e) => !names.has(e.name)), ...given.map(([name, value]) => ({ name, value }))];
}
/**
 * RUN: the Job's (or Pod's) name, where known, which the provenance names the invocation by. PART: what the
 * pod runs, by default the request's build.
 */
function renderPodSpec(req, run, part = { plan: strategyPlan(req), caDirs: caDirs(req), source: true }) {
    const plan = part.plan;
    const net = networkPlan(req, part.caDirs);
    const res = resources(req);
    const volumes = [{ name: "workspace", emptyDir: {} }, ...plan.volumes, ...net.volumes];
    // The disk limit bounds each scratch volume too (the kubelet's own sizeLimit check names the volume).
    const disk = req.resources.limits["ephemeral-storage"];
    for (const v of volumes)
        if (disk && v.emptyDir && !v.emptyDir.medium)
            v.emptyDir.sizeLimit = disk;
    const buildMounts = [{ name: "workspace", mountPath: PATHS.workspace }, ...(plan.container.volumeMounts ?? []), ...net.buildMounts];
    if (req.output.pushSecret) {
        // A kubernetes.io/dockerconfigjson Secret, projected to the config.json every builder reads.
        volumes.push({
            name: "push-secret",
            secret: { secretName: req.output.pushSecret, items: [{ key: ".dockerconfigjson", path: "config.json" }], defaultMode: 0o440 },
        });
        buildMounts.push({ name: "push-secret", mountPath: PATHS.pushConfig, readOnly: true });
    }
    if (req.source.git?.secret) {
        volumes.push({ name: "source-secret", secret: { secretName: req.source.git.secret, defaultMode: 0o440 } });
    }
    // A builder without curl builds as the last init container; the provenance container runs after it.
    const after = part.source && provenanceAfterBuild(req);
    const build = {
        ...plan.container,
        env: overlay(plan.container.env ?? [], { ...net.buildEnv, ...(after ? {} : provenanceEnv(req, plan.container.image ?? "", run)) }),
        volumeMounts: buildMounts,
        ...(res ? { resources: res } : {}),
        terminationMessagePolicy: "FallbackToLogsOnError",
    };
    const s = req.scheduling;
    const spec = {
        restartPolicy: "Never",
        // A build talks to registries, not to the cluster API.
        automountServiceAccountToken: false,
        enableServiceLinks: false,
        terminationGracePeriodSeconds: 10,
        // The unprivileged containers' group: they share the workspace, and read the mounted Secrets (0440).
        securityContext: { fsGroup: UNPRIVILEGED_UID },
        ...(part.source ? { initContainers: [sourceContainer(req, plan, net, res), ...(after ? [build] : [])] } : {}),
        containers: after ? [provenanceContainer(req, plan.container.image ?? "", run, res)] : [build],
        volumes,
    };
    // A build for another platform goes to a node of that platform, unless it is emulated. (A pod for
    // several platforms, an index's, goes anywhere.)
    const platform = req.output.platforms.length === 1 ? req.output.platforms[0] : undefined;
    const selector = platform && !s.emulate ? { ...platformSelector(platform), ...s.nodeSelector } : s.nodeSelector;
    if (Object.keys(selector).length)
        spec.nodeSelector = selector;
    if (s.tolerations.length)
        spec.tolerations = s.tolerations;
    if (s.affinity)
        spec.affinity = s.affinity;
    if (s.serviceAccountName)
        spec.serviceAccountName = s.serviceAccountName;
    if (s.priorityClassName)
        spec.priorityClassName = s.priorityClassName;
    if (s.runtimeClassName)
        spec.runtimeClassName = s.runtimeClassName;
    if (req.imagePullSecrets.length)
        spec.imagePullSecrets = req.imagePullSecrets.map((name) => ({ name }));
    return spec;
}
function metadata(req, name) {
    const { git, binary } = req.source;
    const annotations = {
        [ANNOTATIONS.image]: req.output.image,
        [ANNOTATIONS.source]: git ? git.url : binary ? `${binary.format}:upload` : "inline",
        [ANNOTATIONS.startTimeout]: String(req.startTimeout),
    };
    if (git?.ref)
        annotations[ANNOTATIONS.ref] = git.ref;
    if (!req.output.push)
        annotations[ANNOTATIONS.push] = "false";
    return {
        name,
        namespace: req.namespace,
        labels: {
            ...req.labels,
            [LABELS.managedBy]: "buildpod",
            [LABELS.build]: req.name,
            [LABELS.run]: name,
            [LABELS.strategy]: req.strategy.type,
        },
        annotations,
    };
}
/** The object to create: a batch/v1 Job wrapping the build pod, or the bare Pod. */
function render(req, opts) {
    const name = runName(req, opts.id);
    const meta = metadata(req, name);
    const podSpec = renderPodSpec(req, name);
    if (req.workload === "pod") {
        return { apiVersion: "v1", kind: "Pod", metadata: meta, spec: { ...podSpec, activeDeadlineSeconds: req.timeout } };
    }
    return {
        apiVersion: "batch/v1",
        kind: "Job",
        metadata: meta,
        spec: {
            backoffLimit: req.retries,
            ...(req.retries ? { podFailurePolicy: RETRY_DISRUPTIONS_ONLY } : {}),
            completions: 1,
            parallelism: 1,
            activeDeadlineSeconds: req.timeout,
            ttlSecondsAfterFinished: req.deleteAfter,
            template: { metadata: { labels: { ...meta.labels }, annotations: { ...meta.annotations } }, spec: podSpec },
        },
    };
}

;// CONCATENATED MODULE: ./build/core/index-job.js





/** The index container's environment read from its pod's annotations. */
const FROM_ANNOTATIONS = {
    BUILDPOD_MANIFESTS: INDEX_ANNOTATIONS.manifests,
    BUILDPOD_INDEX_COMMIT: INDEX_ANNOTATIONS.commit,
    BUILDPOD_INDEX_INPUT: INDEX_ANNOTATIONS.inputDigest,
    BUILDPOD_INDEX_STARTED: INDEX_ANNOTATIONS.started,
};
/** The index Job of a build for several platforms, suspended until the platforms have pushed. */
function renderIndexJob(req, id) {
    const name = runName(req, id);
    const buildah = BUILDERS.buildah;
    const fromAnnotations = Object.entries(FROM_ANNOTATIONS).map(([n, key]) => ({
        name: n, valueFrom: { fieldRef: { fieldPath: `metadata.annotations['${key}']` } },
    }));
    const spec = renderPodSpec(req, name, {
        plan: {
            container: {
                name: "index",
                image: req.images.buildah ?? buildah.image,
                command: ["/bin/sh", "-c", INDEX_SCRIPT, "buildpod-index"],
                env: [...env({ ...buildah.env, ...outputEnv(req) }), ...fromAnnotations],
                securityContext: buildah.securityContext,
                volumeMounts: Object.entries(buildah.scratch).map(([n, mountPath]) => ({ name: n, mountPath })),
            },
            volumes: Object.keys(buildah.scratch).map((n) => emptyDir(n)),
            sourceEnv: [],
        },
        caDirs: buildah.caDirs,
        source: false,
    });
    const meta = metadata(req, name);
    return {
        apiVersion: "batch/v1",
        kind: "Job",
        metadata: meta,
        spec: {
            suspend: true,
            backoffLimit: 0,
            completions: 1,
            parallelism: 1,
            // Counted from when it is resumed: a suspended Job's clock does not run.
            activeDeadlineSeconds: req.timeout,
            ttlSecondsAfterFinished: req.deleteAfter,
            template: { metadata: { labels: { ...meta.labels }, annotations: { ...meta.annotations } }, spec },
        },
    };
}
/** The merge patch that gives the index its platforms' images and starts it. */
function resumeIndexPatch(annotations) {
    return { spec: { suspend: false, template: { metadata: { annotations } } } };
}
/**
 * Every object a build creates: its Job (or Pod); for several platforms, the index Job and each platform's
 * Job (which the run makes owned by the index, once the index has its uid).
 */
function renderAll(req, id) {
    if (req.output.platforms.length < 2)
        return [render(req, { id })];
    const index = runName(req, id);
    return [renderIndexJob(req, id), ...req.output.platforms.map((p) => render(platformRequest(req, p, index), { id: platformRunId(id, p) }))];
}

;// CONCATENATED MODULE: ./build/core/model.js
// The pure part of core's public API: the build model, its validation and rendering. No cluster
// client: what `buildpod render` and input handling need, and nothing that is slow to load.
















;// CONCATENATED MODULE: ./build/adapters/cli/flags.js
// The request from a build command's flags: laid over the build file, then validated by core's
// parseRequest; errors name the flag that set the field.


/** The option's key in commander's parsed object: "--build-arg" -> "buildArg", "--no-push" -> "push". */
function attribute(field) {
    return field.flag.slice(field.negated ? 5 : 2).replace(/-([a-z0-9])/g, (_, c) => c.toUpperCase());
}
/** The fields the flags set, each with its value as the model takes it. */
function givenFlags(parsed) {
    const given = [];
    for (const field of fields/* FIELDS */.cJ) {
        const v = parsed[attribute(field)];
        if (v === undefined || v === null)
            continue;
        const name = field.flag;
        const value = field.kind === "map" ? keyValues(v, name)
            : field.kind === "object" ? parseMapping(v, name)
                : field.value ?? v;
        given.push({ field, value, name });
    }
    return given;
}
function readBuildFile(file) {
    let text;
    try {
        text = (0,external_node_fs_.readFileSync)(file, "utf8");
    }
    catch (err) {
        const code = err.code;
        throw new errors/* InputError */.d("--file", code === "ENOENT" ? `${file} does not exist` : `cannot read ${file} (${code ?? String(err)})`);
    }
    return parseBuildFile(text, file);
}
/** The validated request from the build file and flags; errors name the flag that set the field. */
function requestFromFlags(parsed) {
    const file = parsed.file;
    const given = givenFlags(parsed);
    const raw = layFields([imagesFromEnv(process.env), file ? readBuildFile(file) : {}], given);
    return { req: parseGiven(raw, given, process.env), raw };
}

;// CONCATENATED MODULE: ./build/adapters/cli/render.js
// The render command: the Job (or Pod) a build would create, printed without a cluster. Loaded when it
// runs, as the cluster commands are: help and --version need neither the renderer nor YAML.



function renderCommand(opts, io) {
    const { req } = requestFromFlags(opts);
    const id = opts.id ?? newRunId();
    if (!/^[a-z0-9]{1,12}$/.test(id))
        throw new errors/* InputError */.d("--id", `"${id}" must be 1 to 12 lower-case letters or digits`);
    // A build for several platforms is several Jobs: a List in JSON, documents in YAML.
    const objs = renderAll(req, id);
    const obj = objs.length === 1 ? objs[0] : { apiVersion: "v1", kind: "List", items: objs };
    if (opts.output === "json")
        io.out(JSON.stringify(obj, null, 2) + "\n");
    else
        io.out(objs.map((o) => (0,dist/* stringify */.As)(o, { lineWidth: 0 })).join("---\n"));
}


/***/ })

};
