// Checks a rendered object against the Kubernetes API schema, from two maintained packages:
// kubernetes-models (JSON-schema validators generated from the OpenAPI spec: types, enums, required
// fields) and @kubernetes/client-node's generated models (which know every field name, so a round trip
// through them exposes any field Kubernetes would not accept).
import { ObjectSerializer } from "@kubernetes/client-node/dist/gen/models/ObjectSerializer.js";
import { Job } from "kubernetes-models/batch/v1/Job";
import { Pod } from "kubernetes-models/v1/Pod";
import { expect } from "vitest";

export function expectValidObject(obj: any): void {
  const model = obj.kind === "Job" ? new Job(obj) : new Pod(obj);
  expect(() => model.validate()).not.toThrow();
  const type = obj.kind === "Job" ? "V1Job" : "V1Pod";
  const roundTrip = ObjectSerializer.serialize(ObjectSerializer.deserialize(obj, type, ""), type, "");
  expect(JSON.parse(JSON.stringify(roundTrip))).toEqual(JSON.parse(JSON.stringify(obj)));
}
