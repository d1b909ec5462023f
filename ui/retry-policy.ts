/**
 * When the browser retries an idempotent call by itself, and how long it waits. React Query's mutation `retry`
 * is the only retry layer (no tRPC retryLink), and it re-sends the same variables, so the same idempotency key.
 */
import { isTRPCClientError } from "@trpc/client";

/** Attempts in all, the first one included, before the shopper is asked to try again. */
export const maxAttempts = 6;
const baseDelayMs = 500;
const maxDelayMs = 4_000;

/** What the server put in `error.data` (codes and details of server/errors.ts); absent if it never answered. */
export interface CallErrorData {
  code?: string;
  httpStatus?: number;
  retryAfterMs?: unknown;
  retryable?: unknown;
  idempotency?: { replayed?: unknown };
  payment?: unknown;
}

export function errorData(error: unknown): CallErrorData | undefined {
  if (!isTRPCClientError(error)) return undefined;
  return (error.data ?? undefined) as CallErrorData | undefined;
}

/** No answer from the server (offline, connection reset, server gone): the request may or may not have landed. */
export function isNetworkError(error: unknown): boolean {
  return isTRPCClientError(error) && !error.data;
}

/**
 * Safe and worth repeating with the same key: no answer at all, a transient 503/504, a 429 (after its wait), or a CONFLICT that says it
 * will pass (a duplicate still in flight carries `retryAfterMs`; another payment holding the order, `retryable`).
 * A CONFLICT without either ("already paid") is a stored final answer, as are declines and every other 4xx.
 */
export function isRetryable(error: unknown): boolean {
  if (isNetworkError(error)) return true;
  const data = errorData(error);
  switch (data?.code) {
    case "SERVICE_UNAVAILABLE":
    case "GATEWAY_TIMEOUT":
    case "TOO_MANY_REQUESTS":
      return true;
    case "CONFLICT":
      return typeof data.retryAfterMs === "number" || data.retryable === true;
    default:
      return false;
  }
}

/** React Query's `retry`: `failureCount` is the failures before this one (0 after the first attempt failed). */
export function shouldRetry(failureCount: number, error: unknown): boolean {
  return failureCount < maxAttempts - 1 && isRetryable(error);
}

/** React Query's `retryDelay`: the server's `retryAfterMs` when it gave one, else capped exponential backoff. */
export function retryDelay(failureCount: number, error: unknown, random: () => number = Math.random): number {
  const hinted = errorData(error)?.retryAfterMs;
  if (typeof hinted === "number" && Number.isFinite(hinted) && hinted >= 0) return Math.min(hinted, maxDelayMs);
  const ceiling = Math.min(baseDelayMs * 2 ** failureCount, maxDelayMs);
  // Half fixed, half random, so many shoppers cut off together do not all come back in the same instant.
  return Math.round(ceiling / 2 + random() * (ceiling / 2));
}

/** Options for a mutation that carries an idempotency key. */
export const idempotentRetry = {
  retry: shouldRetry,
  retryDelay: (count: number, error: unknown) => retryDelay(count, error),
};

export function wasReplayed(error: unknown): boolean {
  return errorData(error)?.idempotency?.replayed === true;
}
