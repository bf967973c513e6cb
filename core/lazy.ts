// Loading a part of a program only when it is used: help, --version, input errors and a post step with
// nothing to clean up never talk to a cluster, and only a few kubeconfigs need client-node's KubeConfig
// (megabytes of generated API with it). Bundled, the part is a bundle of its own; from compiled sources,
// a module.

/**
 * Imports `source` (relative to `from`, the caller's import.meta.url), or `bundle` instead when the caller
 * runs from a bundle whose URL ends with `bundledAs`.
 */
export async function importPart<T>(from: string, bundledAs: string, bundle: string, source: string): Promise<T> {
  const url = new URL(from.endsWith(bundledAs) ? bundle : source, from).href;
  return (await import(/* webpackIgnore: true */ url)) as T;
}
