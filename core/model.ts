// The pure part of core's public API: the build model, its validation and rendering. No cluster
// client: what `buildpod render` and input handling need, and nothing that is slow to load.
export { InputError, ClusterError } from "./errors.js";
export { parseDuration, formatDuration } from "./duration.js";
export { parseReference, type ImageReference } from "./reference.js";
export {
  parseRequest, imagesFromEnv, DEFAULTS, BUILDERS as BUILDER_NAMES, STRATEGIES,
  type BuildRequest, type Strategy, type DockerStrategy, type SourceStrategy, type CustomStrategy, type Source, type Output,
  type LayerCache, type CacheMode, FIELDS, inputName, stepParameter, taskParam, type FieldKind, type RequestField,
} from "./request/index.js";
export { keyValues, layFields, parseGiven, type GivenField } from "./request/given.js";
export { parseBuildFile, parseMapping, mergeInput, setPath } from "./buildfile.js";
export { render, renderPodSpec, newRunId, runName, LABELS, ANNOTATIONS } from "./render.js";
export { s2iDockerfile } from "./strategy/source.js";
export { renderAll, renderIndexJob } from "./index-job.js";
export { platformImage, platformRequest, platformRunId, INDEX_LABEL, INDEX_ANNOTATIONS } from "./multi-platform.js";
export { SOURCE_IMAGE } from "./images.js";
export { BUILDER_IMAGES } from "./builders/index.js";
export { PATHS } from "./scripts.js";
export { VERSION } from "./version.js";
export { digestFromMessage, imageIdFromMessage, errorResult, sourceFromMessage, imageWithDigest, platformDigests, resultEnv, type BuildResult, type BuildStatus, type PlatformResult } from "./result.js";
