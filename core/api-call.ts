// Calling the cluster API: retries for what may succeed later (429, 5xx, dropped connections), and failures
// turned into ClusterErrors that say what failed and, for refused credentials and RBAC's refusals, what to do.
import { ClusterError } from "./errors.js";
import type { ApiError } from "./transport.js";

function isApiException(err: unknown): err is ApiError {
  return typeof (err as { code?: unknown })?.code === "number" && "body" in (err as object) && "headers" in (err as object);
}

function statusBody(err: ApiError): { message?: string; reason?: string } {
  const body = err.body;
  if (body && typeof body === "object") return body as { message?: string; reason?: string };
  if (typeof body === "string") {
    try {
      return JSON.parse(body) as { message?: string; reason?: string };
    } catch {
      return { message: body.slice(0, 300) };
    }
  }
  return {};
}

/** A 401 after which the credentials were renewed (see Transport.refused). */
export const renewed = (err: unknown) => (err as { renewed?: unknown } | undefined)?.renewed === true;

export function httpStatus(err: unknown): number | undefined {
  if (isApiException(err)) return err.code;
  const e = err as { statusCode?: number; code?: unknown };
  if (typeof e?.statusCode === "number") return e.statusCode;
  return undefined;
}

const NETWORK = /ECONNRESET|ECONNREFUSED|EPIPE|ETIMEDOUT|EAI_AGAIN|socket hang up|other side closed|fetch failed|terminated|UND_ERR/i;

function isNetworkError(err: unknown): boolean {
  const e = err as { code?: string; message?: string; cause?: { code?: string; message?: string } };
  return NETWORK.test(`${e?.code ?? ""} ${e?.message ?? ""} ${e?.cause?.code ?? ""} ${e?.cause?.message ?? ""}`);
}

function isRefused(err: unknown): boolean {
  const e = err as { code?: string; message?: string; cause?: { code?: string; message?: string } };
  return /ECONNREFUSED|ENOTFOUND/.test(`${e?.code ?? ""} ${e?.message ?? ""} ${e?.cause?.code ?? ""} ${e?.cause?.message ?? ""}`);
}

export function retryAfterMs(err: unknown): number | undefined {
  const headers = (err as { headers?: Record<string, unknown> })?.headers;
  if (!headers || typeof headers !== "object") return undefined;
  const h = headers["retry-after"] ?? headers["Retry-After"];
  const s = Number(h);
  return Number.isFinite(s) && s >= 0 ? Math.min(s, 30) * 1000 : undefined;
}

export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal?.aborted) return resolve();
    const t = setTimeout(done, ms);
    function done() {
      clearTimeout(t);
      signal?.removeEventListener("abort", done);
      resolve();
    }
    signal?.addEventListener("abort", done, { once: true });
  });
}

/** What to tell a user about a refused or failed call. */
export function explain(what: string, err: unknown): ClusterError {
  if (err instanceof ClusterError) return new ClusterError(`${what}: ${err.message}`, err.code, err.reason);
  const code = httpStatus(err);
  if (isApiException(err)) {
    const { message, reason } = statusBody(err);
    let hint = "";
    if (code === 401) hint = "; the credentials in the kubeconfig were refused: log in again or refresh the token";
    // RBAC's refusal ("User "x" cannot create resource ..."), not an admission plugin's (Pod Security, quota),
    // which answers 403 too and says itself what is wrong.
    if (code === 403 && /cannot [\w-]+ resource/.test(message ?? "")) hint = "; ask for a Role that grants it (the RBAC manifest in deploy/rbac.yaml lists what buildpod needs)";
    return new ClusterError(`${what}: ${message ?? `HTTP ${code}`}${hint}`, code, reason);
  }
  if (isNetworkError(err)) {
    const e = err as { message?: string; cause?: { message?: string } };
    return new ClusterError(`${what}: cannot reach the cluster API (${e.cause?.message ?? e.message})`);
  }
  return new ClusterError(`${what}: ${(err as Error)?.message ?? String(err)}`, code);
}

export interface RetryOptions {
  attempts?: number;
  signal?: AbortSignal;
}

/**
 * Runs an API call, retrying what may succeed later: 429 (honouring Retry-After), 5xx and dropped
 * connections. A 4xx other than 429 is final.
 */
export async function retry<T>(what: string, fn: () => Promise<T>, opts: RetryOptions = {}): Promise<T> {
  const attempts = opts.attempts ?? 6;
  let renewedOnce = false;
  for (let attempt = 1; ; attempt++) {
    try {
      return await fn();
    } catch (err) {
      const code = httpStatus(err);
      // Refused credentials that have just been renewed (an exec plugin run again) get one more try, at once.
      if (code === 401 && renewed(err) && !renewedOnce && !opts.signal?.aborted) {
        renewedOnce = true;
        attempt--;
        continue;
      }
      // A ClusterError comes from buildpod's side (a kubeconfig's credentials): no answer will change it.
      const retryable = !(err instanceof ClusterError) && (code === 429 || (code !== undefined && code >= 500) || (code === undefined && isNetworkError(err)));
      // Nothing listening is rarely a blip: give up sooner than on a dropped connection.
      const limit = code === undefined && isRefused(err) ? Math.min(attempts, 3) : attempts;
      if (!retryable || attempt >= limit || opts.signal?.aborted) throw explain(what, err);
      const backoff = Math.min(8000, 200 * 2 ** attempt) * (0.75 + Math.random() / 2);
      await sleep(retryAfterMs(err) ?? backoff, opts.signal);
    }
  }
}
