// Just enough of the Kubernetes protobuf encoding to read the one body kubectl sends that way among the requests
// this server serves: a SelfSubjectAccessReview (`kubectl auth can-i`). Answers are always JSON, which kubectl
// accepts alongside protobuf.
import { ApiError } from "./errors.js";
import type { Obj } from "./store.js";

type Fields = Map<number, (Buffer | number)[]>;

function fields(buf: Buffer): Fields {
  const out: Fields = new Map();
  let i = 0;
  const varint = (): number => {
    let v = 0;
    let shift = 0;
    for (;;) {
      const b = buf[i++];
      v += (b & 0x7f) * 2 ** shift;
      if (!(b & 0x80)) return v;
      shift += 7;
    }
  };
  while (i < buf.length) {
    const tag = varint();
    const no = Math.floor(tag / 8);
    const wire = tag & 7;
    let val: Buffer | number;
    if (wire === 0) val = varint();
    else if (wire === 2) {
      const len = varint();
      val = buf.subarray(i, i + len);
      i += len;
    } else if (wire === 1) {
      val = 0;
      i += 8;
    } else if (wire === 5) {
      val = 0;
      i += 4;
    } else throw new Error(`unsupported protobuf wire type ${wire}`);
    const list = out.get(no) ?? [];
    list.push(val);
    out.set(no, list);
  }
  return out;
}

const str = (f: Fields, n: number): string | undefined => {
  const v = f.get(n)?.[0];
  return Buffer.isBuffer(v) ? v.toString("utf8") : undefined;
};
const msg = (f: Fields, n: number): Fields | undefined => {
  const v = f.get(n)?.[0];
  return Buffer.isBuffer(v) ? fields(v) : undefined;
};

/** Decode a `k8s\0`-framed protobuf body into JSON, for the kinds this server understands. */
export function decodeProtobuf(body: Buffer): Obj {
  if (body.subarray(0, 4).toString("latin1") !== "k8s\0") throw new ApiError(415, "UnsupportedMediaType", "the body of the request was in an unknown format");
  const unknown = fields(body.subarray(4));
  const typeMeta = msg(unknown, 1);
  const kind = typeMeta ? str(typeMeta, 2) : undefined;
  const apiVersion = typeMeta ? str(typeMeta, 1) : undefined;
  const raw = msg(unknown, 2);
  if (kind !== "SelfSubjectAccessReview" || !raw) {
    throw new ApiError(415, "UnsupportedMediaType", `the emulated API server reads protobuf only for SelfSubjectAccessReview, not ${kind}; send JSON`);
  }
  const spec = msg(raw, 2);
  const ra = spec ? msg(spec, 1) : undefined;
  const nra = spec ? msg(spec, 2) : undefined;
  const out: Obj = { kind, apiVersion, metadata: {}, spec: {} };
  if (ra) {
    out.spec.resourceAttributes = {
      namespace: str(ra, 1) ?? "", verb: str(ra, 2) ?? "", group: str(ra, 3) ?? "", version: str(ra, 4) ?? "",
      resource: str(ra, 5) ?? "", subresource: str(ra, 6) ?? "", name: str(ra, 7) ?? "",
    };
  }
  if (nra) out.spec.nonResourceAttributes = { path: str(nra, 1) ?? "", verb: str(nra, 2) ?? "" };
  return out;
}
