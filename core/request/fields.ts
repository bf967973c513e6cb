// The fields a build file may set, section by section: what the readers accept and the adapters offer.

export const KNOWN: Record<string, readonly string[]> = {
  "": ["name", "namespace", "workload", "source", "strategy", "output", "cache", "resources", "timeout", "startTimeout", "uploadTimeout", "deleteAfter", "scheduling", "labels", "images"],
  images: ["source", "buildah", "buildkit", "kaniko", "docker"],
  source: ["git", "binary", "dockerfile", "contextDir", "sourceDateEpoch"],
  "source.git": ["url", "ref", "secret"],
  "source.binary": ["dir", "archive"],
  strategy: ["type", "builder", "dockerfile", "target", "buildArgs", "builderImage", "allowDockerSocket", "incremental", "scriptsUrl", "env", "exposeDockerSocket"],
  output: ["image", "tags", "pushSecret", "insecure", "labels"],
  cache: ["repository", "mode"],
  resources: ["requests", "limits"],
  "resources.requests": ["cpu", "memory"],
  "resources.limits": ["cpu", "memory"],
  scheduling: ["nodeSelector", "tolerations", "affinity", "serviceAccountName", "priorityClassName", "runtimeClassName"],
};

/** Every field a build file can set, as dotted paths ("source.git.url"): what the adapters offer. */
export function requestFields(): string[] {
  const walk = (path: string): string[] => KNOWN[path].flatMap((key) => (KNOWN[join(path, key)] ? walk(join(path, key)) : [join(path, key)]));
  return walk("");
}


export function join(path: string, key: string): string {
  return path ? `${path}.${key}` : key;
}
