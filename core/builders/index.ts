// The docker strategy's builders, one record each (buildah.ts, buildkit.ts, kaniko.ts, docker.ts): its
// image, how its container runs and is formed, the Pod Security level it needs and what it supports.
// Rendering, preflight and request validation read these records rather than naming builders.
import type { V1Container, V1SecurityContext } from "@kubernetes/client-node";
import type { BuildRequest, BuilderName, DockerStrategy, LayerCache } from "../request/types.js";
import { buildah } from "./buildah.js";
import { buildkit } from "./buildkit.js";
import { docker } from "./docker.js";
import { kaniko } from "./kaniko.js";

export interface Builder {
  name: BuilderName;
  /**
   * The default image, pinned by digest so that the same request builds with the same tools. The request
   * may replace it (images.<name>, strategy.builderImage), e.g. by a mirror in the cluster's own registry.
   */
  image: string;
  securityContext: V1SecurityContext;
  /** The least Pod Security level its build pod fits. None fits 'restricted': each runs as root or unconfined. */
  podSecurity: "baseline" | "privileged";
  /**
   * cache: a registry layer cache (cacheOptions; a request for one elsewhere is refused). secrets: build
   * secrets mounted into RUN steps. platforms: images for platforms other than the node's. annotations:
   * OCI annotations on the image's manifest. registriesConf: a containers registries.conf (mirrors,
   * short-name aliases). separatePullSecret: pull credentials in a file apart from the push credentials.
   * provenance: the build container attaches the build's provenance to the pushed image itself
   * (core/provenance.ts), with the shell and curl of its image; for the others a container after it does.
   */
  supports: { cache: boolean; secrets: boolean; platforms: boolean; annotations: boolean; registriesConf: boolean; separatePullSecret: boolean; provenance: boolean };
  /**
   * Directories of the image's own CA certificates where they are in none of the places Go looks by default
   * (kaniko's); a CA bundle's directory is added to them in SSL_CERT_DIR.
   */
  caDirs: string[];
  /**
   * How RUN steps get the proxy: "env", the builder passes its own proxy environment on (buildah's
   * --http-proxy); "build-args", as docker build's predefined proxy build arguments, which need no ARG line
   * (BuildKit keeps them out of the image's history).
   */
  runProxy: "env" | "build-args";
  /**
   * The node's Docker daemon builds and pushes, through its socket: that is root on the node, so the request
   * must allow it, and the daemon's own configuration decides which registries are insecure.
   */
  nodeDaemon: boolean;
  /** emptyDir mounts: volume name -> path. */
  scratch: Record<string, string>;
  env: Record<string, string>;
  /**
   * The container's command, arguments and request-dependent environment. DIGEST_FILE: where it writes the
   * pushed image's digest, the termination log or, for the provenance container after it, a file.
   */
  container(req: BuildRequest, s: DockerStrategy, digestFile: string): Pick<V1Container, "command" | "args"> & { env?: Record<string, string | undefined> };
  /** Options that reuse the registry layer cache, and update it in read-write mode; with supports.cache. */
  cacheOptions?(c: LayerCache, req: BuildRequest): string[];
}

export const BUILDERS: Readonly<Record<BuilderName, Builder>> = { buildah, buildkit, kaniko, docker };

/** The builder of a docker strategy that names none. */
export const DEFAULT_BUILDER: BuilderName = "buildah";

/** The names of the builders that pass `test`, in the table's order. */
export function buildersWhere(test: (b: Builder) => boolean): BuilderName[] {
  return Object.values(BUILDERS).filter(test).map((b) => b.name);
}

/** Each builder's default image. */
export const BUILDER_IMAGES = Object.fromEntries(Object.values(BUILDERS).map((b) => [b.name, b.image])) as Record<BuilderName, string>;
