// A minimal OpenAPI v3 discovery: the root index and one document per group-version whose PATCH operations declare
// the fieldValidation parameter, which is what kubectl looks for before it lets the server validate (apply, create).
// No schemas are served; kubectl falls back to its built-in types for strategic merge patches.
import { resources, apiVersionOf } from "./resources.js";

function gvPath(group: string, version: string): string {
  return group ? `apis/${group}/${version}` : `api/${version}`;
}

export function openapiRoot(): object {
  const paths: Record<string, { serverRelativeURL: string }> = {};
  for (const r of resources) {
    const p = gvPath(r.group, r.version);
    paths[p] = { serverRelativeURL: `/openapi/v3/${p}?hash=0` };
  }
  return { paths };
}

export function openapiDoc(path: string): object | undefined {
  const rs = resources.filter((r) => gvPath(r.group, r.version) === path);
  if (rs.length === 0) return undefined;
  const paths: Record<string, object> = {};
  const param = (name: string) => ({ name, in: "query", schema: { type: "string", uniqueItems: true } });
  for (const r of rs) {
    const gvk = { group: r.group, version: r.version, kind: r.kind };
    const base = `/${path}${r.namespaced ? "/namespaces/{namespace}" : ""}/${r.resource}`;
    const op = (action: string) => ({
      operationId: `${action}${r.kind}`,
      "x-kubernetes-action": action,
      "x-kubernetes-group-version-kind": gvk,
      parameters: [param("dryRun"), param("fieldManager"), param("fieldValidation")],
      responses: { "200": { description: "OK" } },
    });
    paths[base] = { post: op("post"), get: { ...op("list"), parameters: [] } };
    paths[`${base}/{name}`] = { get: { ...op("get"), parameters: [] }, put: op("put"), patch: op("patch"), delete: { ...op("delete"), parameters: [param("dryRun")] } };
  }
  return { openapi: "3.0.0", info: { title: "Kubernetes", version: "v1.32.0-buildpod-test" }, paths, components: { schemas: {} } };
}

export { apiVersionOf };
