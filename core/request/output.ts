// The output and cache sections: where the image goes, and the registry layer cache.
import { BUILDERS, buildersWhere } from "../builders/index.js";
import { InputError } from "../errors.js";
import { isTag, parseReference, repositoryOf } from "../reference.js";
import { boolean, image, listItems, object, oneOf, type Raw, required, secretName, string, stringMap } from "./read.js";
import { CACHE_MODES, type LayerCache, type Output, type Strategy } from "./types.js";

export function parseOutput(raw: Raw | undefined): Output {
  const o = object(raw ?? {}, "output")!;
  const img = required(string(o.image, "output.image"), "output.image", "the image to push, e.g. registry.example.com/team/app:1.0 (--image)");
  const ref = image(img, "output.image", { allowDigest: false });
  const withTag = ref.tag ? img : `${img}:latest`;
  const tags: string[] = [];
  listItems(o.tags).forEach((t, i) => {
    const path = `output.tags[${i}]`;
    const text = string(t, path) ?? "";
    const full = isTag(text) ? `${repositoryOf(img)}:${text}` : text;
    image(full, path, { allowDigest: false });
    if (full !== withTag && !tags.includes(full)) tags.push(full);
  });
  const labels = stringMap(o.labels, "output.labels", (k) => (k.length === 0 || /[\s=]/.test(k) ? `"${k}" is not a valid image label key` : undefined));
  const annotations = stringMap(o.annotations, "output.annotations", (k) => (k.length === 0 || /[\s=]/.test(k) ? `"${k}" is not a valid annotation key (reverse domain notation, e.g. org.opencontainers.image.title)` : undefined));
  return {
    image: withTag, ref: { ...ref, tag: ref.tag ?? "latest" }, tags, labels,
    pushSecret: secretName(o.pushSecret, "output.pushSecret"),
    insecure: boolean(o.insecure, "output.insecure") ?? false,
    push: boolean(o.push, "output.push") ?? true,
    annotations,
    ...(o.provenance !== undefined && o.provenance !== "" ? { provenance: boolean(o.provenance, "output.provenance") } : {}),
    platforms: parsePlatforms(o.platforms),
  };
}

const PLATFORM = /^[a-z0-9]+\/[a-z0-9_]+(?:\/[a-z0-9]+)?$/;
/** Names people write for an architecture, and the one Go, OCI and Kubernetes' kubernetes.io/arch use. */
const ARCH_ALIASES: Record<string, string> = { x86_64: "amd64", "x86-64": "amd64", aarch64: "arm64", armhf: "arm", i386: "386", i686: "386" };

function parsePlatforms(value: unknown): string[] {
  const out: string[] = [];
  // "linux/amd64,linux/arm64", as docker buildx takes them, or a list.
  const items = listItems(value).flatMap((item, i) => (typeof item === "string" ? item.split(",").map((t) => ({ t, i })) : [{ t: item, i }]));
  items.forEach(({ t: item, i }) => {
    const path = `output.platforms[${i}]`;
    const text = (string(item, path) ?? "").trim();
    if (!PLATFORM.test(text)) {
      throw new InputError(path, `"${text}" is not a platform; write os/arch or os/arch/variant, e.g. linux/arm64 or linux/arm/v7`);
    }
    const arch = text.split("/")[1]!;
    if (ARCH_ALIASES[arch]) throw new InputError(path, `"${text}": the architecture is called ${ARCH_ALIASES[arch]} here (as in kubernetes.io/arch and OCI images): ${text.replace(arch, ARCH_ALIASES[arch])}`);
    if (!out.includes(text)) out.push(text);
  });
  return out;
}

export function parseCache(raw: Raw | undefined, strategy: Strategy): LayerCache | undefined {
  if (raw === undefined) return undefined;
  const repository = required(string(raw.repository, "cache.repository"), "cache.repository", "the registry repository to keep the layer cache in, e.g. registry.example.com/team/app-cache (--cache)");
  const ref = parseReference(repository);
  if (typeof ref === "string") throw new InputError("cache.repository", `"${repository}" is not a valid repository: it ${ref}`);
  if (ref.tag || ref.digest) {
    throw new InputError("cache.repository", `"${repository}" names a ${ref.digest ? "digest" : "tag"}; give the repository alone: each builder names its cache entries itself`);
  }
  const mode = oneOf(raw.mode, "cache.mode", CACHE_MODES) ?? "read-write";
  if (strategy.type === "source") {
    throw new InputError("cache", "applies to the docker strategy; S2I builds reuse the previous image's artifacts with strategy.incremental (--incremental)");
  }
  if (strategy.type === "custom") throw new InputError("cache", "applies to the docker strategy; a custom builder keeps its own cache");
  if (!BUILDERS[strategy.builder].supports.cache) {
    throw new InputError("cache", `the ${strategy.builder} builder keeps its cache on the node; a registry layer cache works with ${buildersWhere((b) => b.supports.cache).join(", ")}`);
  }
  return { repository, registry: ref.registry, mode };
}
