/**
 * What the idempotency layer answers besides a result, in its own terms; the tRPC adapter (procedure.ts, via
 * server/errors.ts) maps each to an HTTP status. The layer also needs to tell, of an error the work threw, whether
 * it is a final business outcome (stored and replayed) or a transient failure: the application says so through
 * an `ErrorPolicy`, since only it knows its errors.
 */
import type { StoredOutcome } from "./store";

/** Sent beside every idempotent result (and with a stored error). */
export interface IdempotencyMeta {
  key: string;
  replayed: boolean;
  firstSeenAt: string;
  expiresAt: string;
}

export type IdempotencyRefusal =
  /** The key is missing, malformed, or sent twice in ways that disagree: nothing was stored. */
  | "bad_key"
  /** Another request with the key is still running: retry with the same key after `retryAfterMs`. */
  | "in_flight"
  /** The key was first used for another request: a new request needs a new key. */
  | "key_reused"
  /** The store could not be reached or could not record progress: retry with the same key. */
  | "unavailable";

export class IdempotencyError extends Error {
  override name = "IdempotencyError";

  constructor(
    readonly refusal: IdempotencyRefusal,
    message: string,
    readonly retryAfterMs?: number,
  ) {
    super(message);
  }
}

export type StoredError = Extract<StoredOutcome, { kind: "error" }>;

/** The final error a key's work ended with, answered the first time and replayed to every retry. */
export class StoredErrorAnswer extends Error {
  override name = "StoredErrorAnswer";

  constructor(
    readonly outcome: StoredError,
    readonly idempotency: IdempotencyMeta,
  ) {
    super(outcome.message);
  }
}

/** The application's judgement of the errors its work throws. */
export interface ErrorPolicy {
  /** The outcome to store for a final business error (a decline, "not found"), or null for anything else. */
  finalOutcomeOf(error: unknown): StoredError | null;
  /** A database or network failure that a retry may get past. */
  isTransient(error: unknown): boolean;
}
