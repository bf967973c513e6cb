// buildpod's public entry: adapters and programs import from here (or, for the pure model alone, from
// model.js, which loads no cluster client).
export * from "./model.js";
export { Cluster, loadKubeConfig, contextNamespace, type ClusterAccess, type ConnectOptions } from "./cluster.js";
export { preflight, PreflightError, requiredAccess, requiredLevel } from "./preflight.js";
export { startBuild, followBuild, cancelBuild, runBuild, runPlatforms, findBuild, checkBuild, createBuild, type BuildHandle, type BuildEvents, type UploadReport, type StartOptions, type FollowOptions, type RunOptions } from "./build.js";
export { finalOutcome, pendingCause, slowStartMessage, step, initial, type Outcome, type FollowEvent, type FollowInput, type FollowState } from "./follower.js";
export { PodTracker } from "./pod-tracker.js";
export { LogCursor, type LogLine } from "./logs.js";
export { pack, packParts, selectFiles } from "./upload.js";
export { pruneBuilds, listBuilds, selectForPrune, CLIENT_ANNOTATION, type BuildSummary, type PruneOptions, type PruneDecision } from "./prune.js";
