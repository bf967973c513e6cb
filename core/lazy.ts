// Loading the part of a program that needs client-node only when it is used: client-node's generated API
// is most of every bundle's size and start-up time, and help, --version, input errors and a post step with
// nothing to clean up never need it. Bundled, the part is a sibling bundle; from compiled sources, a module.

/**
 * Imports `source` (relative to `from`, the caller's import.meta.url), or `bundle` instead when the caller
 * runs from a bundle whose URL ends with `bundledAs`.
 */
export async function importPart<T>(from: string, bundledAs: string, bundle: string, source: string): Promise<T> {
  const url = new URL(from.endsWith(bundledAs) ? bundle : source, from).href;
  return (await import(/* webpackIgnore: true */ url)) as T;
}
