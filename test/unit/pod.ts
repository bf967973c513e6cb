// Reading rendered pods in tests.

/**
 * The build container of a pod spec: the main one, or the last init container where a provenance container
 * follows it (a builder without curl).
 */
export function buildOf(spec: any): any {
  return [...(spec.containers ?? []), ...(spec.initContainers ?? [])].find((c: any) => c.name === "build");
}
