// Kubernetes Status bodies and the errors that carry them, worded as the real API server words them.

export interface StatusCause {
  reason?: string;
  message?: string;
  field?: string;
}

export interface StatusDetails {
  name?: string;
  group?: string;
  kind?: string;
  uid?: string;
  causes?: StatusCause[];
  retryAfterSeconds?: number;
}

export interface V1StatusBody {
  kind: "Status";
  apiVersion: "v1";
  metadata: Record<string, never>;
  status: "Success" | "Failure";
  message?: string;
  reason?: string;
  details?: StatusDetails;
  code: number;
}

export class ApiError extends Error {
  constructor(
    readonly code: number,
    readonly reason: string,
    message: string,
    readonly details?: StatusDetails,
    readonly headers: Record<string, string> = {},
  ) {
    super(message);
  }

  body(): V1StatusBody {
    const body: V1StatusBody = {
      kind: "Status",
      apiVersion: "v1",
      metadata: {},
      status: "Failure",
      message: this.message,
      reason: this.reason || undefined,
      details: this.details,
      code: this.code,
    };
    if (!body.reason) delete body.reason;
    if (!body.details) delete body.details;
    return body;
  }
}

/** What a resource is called in messages: "pods", "jobs.batch". */
export interface QualifiedResource {
  resource: string;
  group: string;
}

export function qualified(r: QualifiedResource): string {
  return r.group ? `${r.resource}.${r.group}` : r.resource;
}

function details(r: QualifiedResource, name: string, extra: Partial<StatusDetails> = {}): StatusDetails {
  const d: StatusDetails = { name };
  if (r.group) d.group = r.group;
  d.kind = r.resource;
  return { ...d, ...extra };
}

export function notFound(r: QualifiedResource, name: string): ApiError {
  return new ApiError(404, "NotFound", `${qualified(r)} "${name}" not found`, details(r, name));
}

export function alreadyExists(r: QualifiedResource, name: string): ApiError {
  return new ApiError(409, "AlreadyExists", `${qualified(r)} "${name}" already exists`, details(r, name));
}

export function conflict(r: QualifiedResource, name: string): ApiError {
  return new ApiError(
    409,
    "Conflict",
    `Operation cannot be fulfilled on ${qualified(r)} "${name}": the object has been modified; please apply your changes to the latest version and try again`,
    details(r, name),
  );
}

export interface FieldError {
  type: "FieldValueRequired" | "FieldValueInvalid" | "FieldValueNotSupported" | "FieldValueForbidden" | "FieldValueDuplicate";
  field: string;
  /** The detail after the type text, e.g. for Invalid: `"Foo": must be ...`. */
  detail?: string;
}

const typeText: Record<FieldError["type"], string> = {
  FieldValueRequired: "Required value",
  FieldValueInvalid: "Invalid value",
  FieldValueNotSupported: "Unsupported value",
  FieldValueForbidden: "Forbidden",
  FieldValueDuplicate: "Duplicate value",
};

function fieldErrorText(e: FieldError): string {
  return e.detail ? `${typeText[e.type]}: ${e.detail}` : typeText[e.type];
}

/** 422 Invalid: `Pod "x" is invalid: spec.containers: Required value` (several errors are listed in brackets). */
export function invalid(kind: string, group: string, name: string, errors: FieldError[]): ApiError {
  const parts = errors.map((e) => `${e.field}: ${fieldErrorText(e)}`);
  const list = parts.length === 1 ? parts[0] : `[${parts.join(", ")}]`;
  const d: StatusDetails = { name };
  if (group) d.group = group;
  d.kind = kind;
  d.causes = errors.map((e) => ({ reason: e.type, message: fieldErrorText(e), field: e.field }));
  return new ApiError(422, "Invalid", `${kind}${group ? "." + group : ""} "${name}" is invalid: ${list}`, d);
}

export function badRequest(message: string): ApiError {
  return new ApiError(400, "BadRequest", message);
}

export function gone(message: string): ApiError {
  return new ApiError(410, "Expired", message);
}

export function tooOldResourceVersion(requested: number, oldest: number): ApiError {
  return gone(`too old resource version: ${requested} (${oldest})`);
}

export function forbidden(
  r: QualifiedResource,
  name: string | undefined,
  user: string,
  verb: string,
  subresource: string | undefined,
  namespace: string | undefined,
): ApiError {
  const resource = subresource ? `${r.resource}/${subresource}` : r.resource;
  const scope = namespace ? `in the namespace "${namespace}"` : "at the cluster scope";
  const why = `User "${user}" cannot ${verb} resource "${resource}" in API group "${r.group}" ${scope}`;
  const subject = name ? `${qualified(r)} "${name}"` : qualified(r);
  return new ApiError(403, "Forbidden", `${subject} is forbidden: ${why}`, details(r, name ?? ""));
}

export function unauthorized(): ApiError {
  return new ApiError(401, "Unauthorized", "Unauthorized");
}

export function methodNotAllowed(): ApiError {
  return new ApiError(405, "MethodNotAllowed", "the server does not allow this method on the requested resource");
}

export function tooManyRequests(retryAfterSeconds: number): ApiError {
  return new ApiError(
    429,
    "TooManyRequests",
    "Too many requests, please try again later.",
    { retryAfterSeconds },
    { "Retry-After": String(retryAfterSeconds) },
  );
}

export function internalError(message: string): ApiError {
  return new ApiError(500, "InternalError", `Internal error occurred: ${message}`, { causes: [{ message }] });
}

export function success(details?: StatusDetails): V1StatusBody {
  const body: V1StatusBody = { kind: "Status", apiVersion: "v1", metadata: {}, status: "Success", code: 200 };
  if (details) body.details = details;
  return body;
}
