// The source container's default image, pinned by digest so that the same request fetches its source
// with the same tools; the request may replace it (images.source), e.g. by a mirror in the cluster's own
// registry. Each builder's default image is in its record (core/builders/).

/** Git, tar and a shell: clones Git sources and receives uploads. */
export const SOURCE_IMAGE = "alpine/git:v2.49.1@sha256:c0280cf9572316299b08544065d3bf35db65043d5e3963982ec50647d2746e26";
