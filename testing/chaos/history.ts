/**
 * The soak's history: every attempt any client made, as the client saw it, and every fault injected. The checker
 * judges only this and the two ledgers, never the app's own view of what happened.
 */

export type OperationKind = "session" | "place" | "pay" | "refund";

export const procedureOf: Record<OperationKind, string> = {
  session: "session.me",
  place: "orders.place",
  pay: "payments.pay",
  refund: "payments.refund",
};

/** How a client sent an attempt: alone, as one of two concurrent duplicates, or aborted mid-flight for good. */
export type AttemptMode = "normal" | "duplicate" | "abandoned";

export interface Attempt {
  id: number;
  kind: OperationKind;
  /** The guest customer (from session.me); null only for a session call that got no answer. */
  customerId: string | null;
  /** The session cookie the attempt was sent with (the customer's identity on the wire). */
  cookie: string | undefined;
  key: string | null;
  input: unknown;
  server: string;
  mode: AttemptMode;
  /** 1 for the first attempt with this key, counting retries. */
  attempt: number;
  /** Milliseconds since the run started. */
  start: number;
  end: number;
  /** The HTTP status, or 0 when no answer arrived (refused, reset, aborted, timed out). */
  status: number;
  // biome-ignore lint/suspicious/noExplicitAny: whatever the wire carried, for the checker and the evidence
  body?: any;
  /** Why no answer arrived. */
  error?: string;
}

export type FaultKind =
  | "app-crash"
  | "provider-restart"
  | "provider-latency"
  | "provider-errors"
  | "proxy-drop"
  | "mysql-kill"
  | "redis-restart";

export interface FaultEvent {
  kind: FaultKind;
  start: number;
  end: number;
  /** False when the injection itself failed (then it does not count as injected). */
  ok: boolean;
  detail: string;
}

/** The tRPC error code of an error answer, if any. */
export function errorCode(attempt: Attempt): string | undefined {
  return attempt.body?.error?.data?.code;
}

/** The error's data (tRPC `error.data`), with the app's details such as retryAfterMs or idempotency. */
// biome-ignore lint/suspicious/noExplicitAny: as above
export function errorData(attempt: Attempt): any {
  return attempt.body?.error?.data;
}

/** The business result of a success (`result.data`). */
// biome-ignore lint/suspicious/noExplicitAny: as above
export function resultOf(attempt: Attempt): any {
  return attempt.body?.result?.data;
}

/**
 * A final outcome the app stored for the key (a decline, "already paid", a refused refund): its error answers carry
 * the key's `idempotency` meta, which transient refusals (503, 504, in-flight 409) never do.
 */
export function isStoredError(attempt: Attempt): boolean {
  return attempt.status >= 400 && errorData(attempt)?.idempotency !== undefined;
}

/**
 * Worth another try with the same key: no answer, a refusal that says it may change (409 with retryAfterMs or
 * `retryable`), rate limiting, or a 5xx.
 */
export function isRetryable(attempt: Attempt): boolean {
  if (attempt.status === 0 || attempt.status === 429 || attempt.status >= 500) return true;
  if (attempt.status !== 409 || isStoredError(attempt)) return false;
  const data = errorData(attempt);
  return typeof data?.retryAfterMs === "number" || data?.retryable === true;
}

export class History {
  readonly attempts: Attempt[] = [];
  readonly faults: FaultEvent[] = [];
  readonly startedAt = Date.now();
  /** Requests sent and not yet answered, for the progress log while the run drains. */
  readonly inFlight = new Set<string>();

  now(): number {
    return Date.now() - this.startedAt;
  }

  record(attempt: Omit<Attempt, "id">): Attempt {
    const recorded = { id: this.attempts.length + 1, ...attempt };
    this.attempts.push(recorded);
    return recorded;
  }
}
