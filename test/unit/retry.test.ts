// The retry policy of every API call: what is tried again, how long it waits, and what is final.
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { retry, retryAfterMs } from "../../core/api-call.js";
import { ClusterError } from "../../core/errors.js";
import { ApiError, TransportError } from "../../core/transport.js";

const status = (code: number, headers: Record<string, string> = {}) =>
  new ApiError(code, { kind: "Status", code, message: `answered ${code}`, reason: code === 404 ? "NotFound" : "Other" }, headers);

const netError = (code: string) => Object.assign(new Error(`connect ${code} 127.0.0.1:6443`), { code });

/** A call that fails with each of `failures` in turn, then succeeds. */
function flaky(failures: unknown[]) {
  const fn = vi.fn(async () => {
    const next = failures.shift();
    if (next !== undefined) throw next;
    return "ok";
  });
  return fn;
}

beforeEach(() => vi.useFakeTimers());
afterEach(() => vi.useRealTimers());

describe("retry", () => {
  it("honours Retry-After on 429: waits what the server asks, not its own backoff", async () => {
    const fn = flaky([status(429, { "retry-after": "3" })]);
    let settled = false;
    const p = retry("reading", fn).then((v) => ((settled = true), v));
    await vi.advanceTimersByTimeAsync(2900);
    expect(settled).toBe(false);
    await vi.advanceTimersByTimeAsync(200);
    expect(await p).toBe("ok");
    expect(fn).toHaveBeenCalledTimes(2);
  });

  it("tries again on 5xx and dropped connections", async () => {
    const fn = flaky([status(500), status(503), netError("ECONNRESET"), new Error("socket hang up")]);
    const p = retry("reading", fn);
    await vi.advanceTimersByTimeAsync(60_000);
    expect(await p).toBe("ok");
    expect(fn).toHaveBeenCalledTimes(5);
  });

  it.each([400, 401, 403, 404, 409, 422])("%i is final: one call, a ClusterError with the code and the server's message", async (code) => {
    const fn = flaky([status(code), status(code)]);
    const err = await retry("creating Job x", fn).catch((e: unknown) => e);
    expect(fn).toHaveBeenCalledTimes(1);
    expect(err).toBeInstanceOf(ClusterError);
    expect((err as ClusterError).code).toBe(code);
    expect((err as ClusterError).message).toMatch(new RegExp(`^creating Job x: answered ${code}`));
  });

  it("403: RBAC's refusal gets the hint to ask for a Role; an admission plugin's (Pod Security, quota) keeps its own words", async () => {
    const forbidden = (message: string) => new ApiError(403, { kind: "Status", code: 403, message, reason: "Forbidden" }, {});
    const rbac = await retry("creating Job x", flaky([forbidden('jobs.batch is forbidden: User "ci" cannot create resource "jobs" in API group "batch" in the namespace "b"')])).catch((e: Error) => e);
    expect((rbac as Error).message).toMatch(/in the namespace "b"; ask for a Role that grants it \(the RBAC manifest in deploy\/rbac\.yaml/);
    const admission = await retry("creating Pod x", flaky([forbidden('pods "x" is forbidden: exceeded quota: q, requested: cpu=2, used: cpu=0, limited: cpu=1')])).catch((e: Error) => e);
    expect((admission as Error).message).toBe('creating Pod x: pods "x" is forbidden: exceeded quota: q, requested: cpu=2, used: cpu=0, limited: cpu=1');
  });

  it("a problem on buildpod's side (a kubeconfig's credential plugin failing) is final, whatever its words", async () => {
    const fn = flaky([new ClusterError("the kubeconfig's credential plugin aws failed (exit 1): connect ETIMEDOUT")]);
    const err = await retry("listing pods", fn).catch((e: unknown) => e);
    expect(fn).toHaveBeenCalledTimes(1);
    expect((err as Error).message).toBe("listing pods: the kubeconfig's credential plugin aws failed (exit 1): connect ETIMEDOUT");
  });

  it("gives up after its attempts, saying what failed", async () => {
    const fn = flaky(Array.from({ length: 10 }, () => status(500)));
    const p = retry("listing pods", fn, { attempts: 4 }).catch((e: unknown) => e);
    await vi.advanceTimersByTimeAsync(120_000);
    const err = await p;
    expect(fn).toHaveBeenCalledTimes(4);
    expect((err as Error).message).toMatch(/^listing pods: answered 500/);
  });

  it("nothing listening gives up sooner than a dropped connection", async () => {
    const fn = flaky(Array.from({ length: 10 }, () => netError("ECONNREFUSED")));
    const p = retry("reading", fn).catch((e: unknown) => e);
    await vi.advanceTimersByTimeAsync(120_000);
    const err = await p;
    expect(fn).toHaveBeenCalledTimes(3);
    expect((err as Error).message).toMatch(/cannot reach the cluster API/);
  });

  it("stops waiting when the signal aborts", async () => {
    const abort = new AbortController();
    const fn = flaky([status(429, { "retry-after": "30" }), status(429, { "retry-after": "30" })]);
    const p = retry("reading", fn, { signal: abort.signal }).catch((e: unknown) => e);
    await vi.advanceTimersByTimeAsync(100);
    abort.abort();
    await vi.advanceTimersByTimeAsync(0);
    expect(await p).toBeInstanceOf(ClusterError);
    expect(fn).toHaveBeenCalledTimes(2);
  });
});

describe("Retry-After", () => {
  it("is read from API exceptions and from failed watch requests, capped at 30 s", () => {
    expect(retryAfterMs(status(429, { "retry-after": "2" }))).toBe(2000);
    expect(retryAfterMs(new TransportError("too many", undefined, 429, { "retry-after": "5" }))).toBe(5000);
    expect(retryAfterMs(status(429, { "retry-after": "3600" }))).toBe(30_000);
    expect(retryAfterMs(status(429))).toBeUndefined();
    expect(retryAfterMs(new Error("x"))).toBeUndefined();
  });
});
