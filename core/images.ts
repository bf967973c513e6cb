// Default images, pinned by digest so the same request builds with the same tools. Each can be replaced
// (the request's images, or strategy.builderImage), e.g. by a mirror in the cluster's own registry.
import type { BuilderName } from "./request/index.js";

export const BUILDER_IMAGES: Record<BuilderName, string> = {
  buildah: "quay.io/buildah/stable@sha256:56e6ebc9bb71c8303b1968fb51304d3512e14a1b8c730bd0b27ebdf772a34ceb",
  buildkit: "moby/buildkit:v0.33.0-rootless@sha256:80b15f0735e87bab7bf59ec4d695dfb4a7cfb25521cf56dc75d6f256285b63ef",
  kaniko: "ghcr.io/osscontainertools/kaniko:v1.28.5-debug@sha256:d6d74217dc077acfd3094992e917c357080a2d3fdd1042a49e34e29a7e57c572",
  docker: "docker:28-cli@sha256:625d9431a9f54c5a2bc90f24f0e1c3d55b1349fd857dd85035f98c2c9acbdd4d",
};

/** Git, tar and a shell: clones Git sources and receives uploads. */
export const SOURCE_IMAGE = "alpine/git:v2.49.1@sha256:c0280cf9572316299b08544065d3bf35db65043d5e3963982ec50647d2746e26";
