// The one table of request fields: every field a build file can set, with the name each entry point
// gives it. The command's options, the Action's inputs and the build file's known fields come from it;
// tests check action.yml, the Jenkins step and the Tekton Task against it.

/** How an entry point's text becomes the field's value. object: a JSON or YAML mapping given whole. */
export type FieldKind = "string" | "boolean" | "map" | "list" | "object";

export interface RequestField {
  /** Dotted build-file path ("source.git.url"). */
  path: string;
  kind: FieldKind;
  /** The command's long option ("--build-arg"); every entry point's name derives from it. */
  flag: string;
  short?: string;
  /** The option's argument as help shows it ("<key=value>"); booleans take none. */
  arg?: string;
  /** A fixed value a boolean option sets instead of true (--pod sets workload "pod"). */
  value?: string;
  /**
   * The option is "--no-X" and sets the field false; the other entry points name it X and take true or
   * false (the Action's `push: false`).
   */
  negated?: boolean;
  group: "Build" | "Source" | "Strategy" | "Output" | "Network" | "Resources" | "Scheduling" | "Images";
  help: string;
  /** The Action's input, when not the flag's name: multi-line inputs are plural ("build-args"). */
  input?: string;
  /** The Tekton param, when not the input's name in upper snake case ("GIT_URL"). */
  param?: string;
  /** A list whose items hold commas: the Action takes one item per line only (others also split at commas). */
  lines?: boolean;
}

const f = (group: RequestField["group"], flag: string, path: string, kind: FieldKind, help: string, more: Partial<RequestField> = {}): RequestField => {
  const [long, arg] = flag.split(" ");
  return { group, flag: long, path, kind, help, ...(arg ? { arg } : {}), ...more };
};

export const FIELDS: readonly RequestField[] = [
  f("Build", "--name <name>", "name", "string", "build name, shared by its runs (default: the image's repository name)"),
  f("Build", "--namespace <namespace>", "namespace", "string", "namespace to build in (default: the kubeconfig context's, else default)", { short: "-n", param: "BUILD_NAMESPACE" }),
  f("Build", "--pod", "workload", "boolean", "create a bare Pod instead of a Job", { value: "pod" }),
  f("Build", "--build-label <key=value>", "labels", "map", "Kubernetes label on the build's Job and Pod (repeatable)", { input: "build-labels" }),
  f("Source", "--git <url>", "source.git.url", "string", "Git repository to build", { param: "GIT_URL" }),
  f("Source", "--ref <ref>", "source.git.ref", "string", "branch, tag or commit to build (default: the default branch)", { param: "GIT_REVISION" }),
  f("Source", "--depth <n>", "source.git.depth", "string", "commits of history to fetch; 0 for all, with every tag; with history the source keeps its .git (default: 1, the tree alone)"),
  f("Source", "--source-secret <secret>", "source.git.secret", "string", "Secret with Git credentials (basic-auth or ssh-auth)"),
  f("Source", "--from-dir <dir>", "source.binary.dir", "string", "upload a local directory as the source"),
  f("Source", "--from-archive <file>", "source.binary.archive", "string", "upload a .tar or .tar.gz file as the source"),
  f("Source", "--context <dir>", "source.contextDir", "string", "directory in the source to build (default: .)"),
  f("Source", "--inline-dockerfile <text>", "source.dockerfile", "string", "Dockerfile content to use instead of a file"),
  f("Source", "--source-date-epoch <seconds>", "source.sourceDateEpoch", "string", "fixed SOURCE_DATE_EPOCH (default: the commit time; 0 for uploads)"),
  f("Strategy", "--strategy <type>", "strategy.type", "string", "docker, source (S2I) or custom (default: docker)"),
  f("Strategy", "--builder <name>", "strategy.builder", "string", "docker strategy builder: buildah, buildkit, kaniko or docker (default: buildah)"),
  f("Strategy", "--dockerfile <path>", "strategy.dockerfile", "string", "Dockerfile path from the source root (default: <context>/Dockerfile)", { short: "-d" }),
  f("Strategy", "--target <stage>", "strategy.target", "string", "Dockerfile stage to build"),
  f("Strategy", "--build-arg <key=value>", "strategy.buildArgs", "map", "build argument (repeatable)", { input: "build-args" }),
  f("Strategy", "--secret <id=ID,secret=NAME[,key=KEY]>", "strategy.secrets", "list", "a key of a Secret for RUN --mount=type=secret,id=ID, never in the image or the logs (repeatable; key defaults to the id)", { input: "secrets", lines: true }),
  f("Strategy", "--pull-secret <secret>", "strategy.pullSecret", "string", "kubernetes.io/dockerconfigjson Secret to pull the FROM images (S2I: the builder image) with, apart from the push Secret"),
  f("Strategy", "--builder-image <image>", "strategy.builderImage", "string", "S2I builder image, custom builder image, or a replacement for the docker builder's image"),
  f("Strategy", "--allow-docker-socket", "strategy.allowDockerSocket", "boolean", "accept using the node's Docker socket (root on the node)"),
  f("Strategy", "--incremental", "strategy.incremental", "boolean", "S2I: restore the artifacts saved by the previous image"),
  f("Strategy", "--scripts-url <url>", "strategy.scriptsUrl", "string", "S2I: scripts location (image:///path; default: the builder image's label)"),
  f("Strategy", "--env <key=value>", "strategy.env", "map", "environment for S2I or custom builds (repeatable)", { short: "-e" }),
  f("Strategy", "--expose-docker-socket", "strategy.exposeDockerSocket", "boolean", "custom: mount the node's Docker socket (needs --allow-docker-socket)"),
  f("Output", "--image <image>", "output.image", "string", "image to push, e.g. registry.example.com/team/app:1.0", { short: "-t" }),
  f("Output", "--no-push", "output.push", "boolean", "build to the end, push nothing (for pull requests): the result carries the built image's ID", { negated: true }),
  f("Output", "--tag <tag>", "output.tags", "list", "extra tag or full reference to push too (repeatable)", { input: "tags" }),
  f("Output", "--push-secret <secret>", "output.pushSecret", "string", "kubernetes.io/dockerconfigjson Secret to push with"),
  f("Output", "--insecure-registry", "output.insecure", "boolean", "the registry is plain HTTP or has an unverifiable certificate"),
  f("Output", "--label <key=value>", "output.labels", "map", "image label (repeatable)", { input: "labels" }),
  f("Output", "--annotation <key=value>", "output.annotations", "map", "OCI annotation on the image's manifest (repeatable; buildah, BuildKit, S2I)", { input: "annotations" }),
  f("Output", "--platform <os/arch>", "output.platforms", "list", "platform to build the image for, e.g. linux/arm64 (default: the node's), on a node of it; several, linux/amd64,linux/arm64, make an image index (buildah, BuildKit)", { input: "platforms" }),
  f("Output", "--provenance <true|false>", "output.provenance", "string", "attach the build's SLSA provenance to the pushed image as an OCI referrer (default: true; with the docker builder or a custom builder only when asked)"),
  f("Output", "--cache <repository>", "cache.repository", "string", "registry repository for the layer cache (docker strategy; reached like the image: --insecure-registry, --push-secret)"),
  f("Output", "--cache-mode <mode>", "cache.mode", "string", "read-write: reuse and update the cache; read: reuse only (default: read-write)"),
  f("Network", "--ca-bundle <configmap[/key]>", "network.caBundle", "string", "ConfigMap key with PEM certificates to trust besides the public ones, for Git over HTTPS and the registries (key defaults to ca.crt)"),
  f("Network", "--registries-conf <configmap[/key]>", "network.registriesConf", "string", "ConfigMap key with a containers registries.conf: mirrors, short-name aliases, blocked registries (buildah, S2I, custom; key defaults to registries.conf)"),
  f("Network", "--proxy <url>", "network.proxy", "string", "forward proxy for the clone, the builder's pulls and pushes, and RUN steps (HTTP_PROXY and HTTPS_PROXY)"),
  f("Network", "--no-proxy <hosts>", "network.noProxy", "list", "hosts, .domains and CIDRs reached without the proxy (NO_PROXY; comma-separated, repeatable)"),
  f("Network", "--proxy-from-env", "network.proxyFromEnv", "boolean", "take the proxy from this process's HTTPS_PROXY, HTTP_PROXY and NO_PROXY where not given"),
  f("Resources", "--cpu-request <cpu>", "resources.requests.cpu", "string", "CPU request, e.g. 500m"),
  f("Resources", "--cpu-limit <cpu>", "resources.limits.cpu", "string", "CPU limit, e.g. 2"),
  f("Resources", "--memory-request <memory>", "resources.requests.memory", "string", "memory request, e.g. 1Gi"),
  f("Resources", "--memory-limit <memory>", "resources.limits.memory", "string", "memory limit, e.g. 4Gi"),
  f("Resources", "--ephemeral-storage-request <size>", "resources.requests.ephemeral-storage", "string", "local disk the build needs, e.g. 10Gi: the scheduler picks a node with room"),
  f("Resources", "--ephemeral-storage-limit <size>", "resources.limits.ephemeral-storage", "string", "local disk the build may use, e.g. 20Gi (its scratch volumes included): beyond it the node stops the build"),
  f("Resources", "--timeout <duration>", "timeout", "string", "how long the build may run, e.g. 30m (default: 1h)"),
  f("Resources", "--start-timeout <duration>", "startTimeout", "string", "how long the pod may take to start (default: 5m)"),
  f("Resources", "--upload-timeout <duration>", "uploadTimeout", "string", "how long uploading --from-dir or --from-archive may take (default: 10m)"),
  f("Resources", "--retries <n>", "retries", "string", "start the build again, up to n times, when the cluster ended it (eviction, preemption, a lost node), never for its own failure (default: 0)"),
  f("Resources", "--delete-after <duration>", "deleteAfter", "string", "delete the finished build after this long (default: 1h)"),
  f("Scheduling", "--node-selector <key=value>", "scheduling.nodeSelector", "map", "node label the build must run on (repeatable)"),
  f("Scheduling", "--toleration <key[=value][:effect]>", "scheduling.tolerations", "list", "taint the build tolerates (repeatable)", { input: "tolerations" }),
  f("Scheduling", "--emulate", "scheduling.emulate", "boolean", "build a platform the cluster has no node of under QEMU on any node (its kernel needs a binfmt_misc handler for it, with the F flag)"),
  f("Scheduling", "--service-account <name>", "scheduling.serviceAccountName", "string", "service account of the build pod"),
  f("Scheduling", "--priority-class <name>", "scheduling.priorityClassName", "string", "priority class of the build pod"),
  f("Scheduling", "--runtime-class <name>", "scheduling.runtimeClassName", "string", "runtime class of the build pod"),
  f("Scheduling", "--affinity <json>", "scheduling.affinity", "object", "node and pod affinity: a Kubernetes Affinity as JSON or YAML (replaces the build file's scheduling.affinity)"),
  f("Images", "--source-image <image>", "images.source", "string", "image with git, tar and a shell for the source container (env BUILDPOD_IMAGE_SOURCE)"),
  f("Images", "--buildah-image <image>", "images.buildah", "string", "buildah image, for docker and S2I builds (env BUILDPOD_IMAGE_BUILDAH)"),
  f("Images", "--buildkit-image <image>", "images.buildkit", "string", "rootless BuildKit image (env BUILDPOD_IMAGE_BUILDKIT)"),
  f("Images", "--kaniko-image <image>", "images.kaniko", "string", "kaniko executor image (env BUILDPOD_IMAGE_KANIKO)"),
  f("Images", "--docker-image <image>", "images.docker", "string", "docker CLI image (env BUILDPOD_IMAGE_DOCKER)"),
  f("Images", "--image-pull-secret <secret>", "images.pullSecrets", "list", "Secret the node pulls the tool images with: the pod's imagePullSecrets (repeatable)", { input: "image-pull-secrets" }),
];

/** The Action's input for a field: "build-args". */
export function inputName(field: RequestField): string {
  return field.input ?? field.flag.slice(field.negated ? 5 : 2);
}

/** The Jenkins step's parameter for a field: the input's name in camel case, "buildArgs". */
export function stepParameter(field: RequestField): string {
  return inputName(field).replace(/-([a-z0-9])/g, (_, c: string) => c.toUpperCase());
}

/** The Tekton Task's param for a field: the input's name in upper snake case, "BUILD_ARGS". */
export function taskParam(field: RequestField): string {
  return field.param ?? inputName(field).toUpperCase().replace(/-/g, "_");
}

/** Section path -> the keys it may hold, from the table: what the build file's readers accept. */
export const KNOWN: Record<string, readonly string[]> = (() => {
  const known: Record<string, string[]> = { "": [] };
  for (const { path } of FIELDS) {
    const parts = path.split(".");
    for (let i = 0; i < parts.length; i++) {
      const section = parts.slice(0, i).join(".");
      const keys = (known[section] ??= []);
      if (!keys.includes(parts[i])) keys.push(parts[i]);
    }
  }
  return known;
})();

export function join(path: string, key: string): string {
  return path ? `${path}.${key}` : key;
}
