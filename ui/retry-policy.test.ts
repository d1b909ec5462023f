import { TRPCClientError } from "@trpc/client";
import { describe, expect, it } from "vitest";
import { isRetryable, maxAttempts, retryDelay, shouldRetry } from "./retry-policy";

/** A client error as tRPC builds it from an HTTP answer, or from a fetch that never got one. */
function answered(code: string, details: Record<string, unknown> = {}) {
  return TRPCClientError.from({ error: { code: -32000, message: `failed: ${code}`, data: { code, ...details } } });
}
const noAnswer = () => TRPCClientError.from(new TypeError("Failed to fetch"));

describe("isRetryable", () => {
  it("retries what may pass: no answer, 503, 504, 429, and conflicts that say so", () => {
    expect(isRetryable(noAnswer())).toBe(true);
    expect(isRetryable(answered("SERVICE_UNAVAILABLE", { retryAfterMs: 2000 }))).toBe(true);
    expect(isRetryable(answered("TOO_MANY_REQUESTS", { retryAfterMs: 3000 }))).toBe(true);
    expect(isRetryable(answered("GATEWAY_TIMEOUT", { retryAfterMs: 1000 }))).toBe(true);
    expect(isRetryable(answered("CONFLICT", { retryAfterMs: 500 }))).toBe(true);
    expect(isRetryable(answered("CONFLICT", { retryable: true, retryAfterMs: 2000 }))).toBe(true);
  });

  it("never retries a final answer: a decline, an order already paid, a bad request", () => {
    expect(isRetryable(answered("PAYMENT_REQUIRED", { payment: {} }))).toBe(false);
    expect(isRetryable(answered("CONFLICT"))).toBe(false);
    expect(isRetryable(answered("BAD_REQUEST"))).toBe(false);
    expect(isRetryable(answered("UNPROCESSABLE_CONTENT"))).toBe(false);
    expect(isRetryable(answered("NOT_FOUND"))).toBe(false);
    expect(isRetryable(new Error("a bug, not a network failure"))).toBe(false);
  });
});

describe("shouldRetry", () => {
  it(`allows ${maxAttempts} attempts in all`, () => {
    const attempts = Array.from({ length: 10 }, (_, failures) => shouldRetry(failures, noAnswer()));
    expect(attempts.filter(Boolean)).toHaveLength(maxAttempts - 1);
  });
});

describe("retryDelay", () => {
  it("honours the server's retryAfterMs", () => {
    expect(retryDelay(0, answered("CONFLICT", { retryAfterMs: 1234 }))).toBe(1234);
  });

  it("backs off exponentially without a hint, with jitter, capped", () => {
    const low = (failures: number) => retryDelay(failures, noAnswer(), () => 0);
    const high = (failures: number) => retryDelay(failures, noAnswer(), () => 1);
    expect([0, 1, 2, 3, 4].map(high)).toEqual([500, 1000, 2000, 4000, 4000]);
    expect([0, 1, 2, 3, 4].map(low)).toEqual([250, 500, 1000, 2000, 2000]);
  });
});
