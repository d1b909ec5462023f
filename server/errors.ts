/**
 * Typed errors for the client: a tRPC code that sets the HTTP status, a message a person can act on, and
 * optional machine-readable details (such as `retryAfterMs` or the current value on a conflict).
 * Never SQL text or a stack: unknown failures are reduced to a generic message by the error formatter.
 */
import { TRPCError } from "@trpc/server";
import { isTransientInfrastructureError } from "@/db/errors";
import { type ErrorPolicy, IdempotencyError, type StoredError, StoredErrorAnswer } from "./idempotency/errors";

type ErrorCode = ConstructorParameters<typeof TRPCError>[0]["code"];

/** Carries details to the error formatter, which copies them into `error.data`. */
export class ErrorDetails extends Error {
  constructor(readonly details: Record<string, unknown>) {
    super("error details");
  }
}

export function appError(code: ErrorCode, message: string, details?: Record<string, unknown>): TRPCError {
  return new TRPCError({ code, message, cause: details ? new ErrorDetails(details) : undefined });
}

/** Deterministic business outcomes: stored and replayed. Anything else (5xx, bad input) leaves the key retryable. */
const finalErrorCodes = new Set<ErrorCode>([
  "NOT_FOUND",
  "CONFLICT",
  "UNPROCESSABLE_CONTENT",
  "PAYMENT_REQUIRED",
  "PRECONDITION_FAILED",
  "FORBIDDEN",
]);

/** This app's errors as the idempotency layer must judge them. */
export const appErrorPolicy: ErrorPolicy = {
  finalOutcomeOf(error: unknown): StoredError | null {
    if (!(error instanceof TRPCError) || !finalErrorCodes.has(error.code)) return null;
    const details = error.cause instanceof ErrorDetails ? error.cause.details : undefined;
    // A refusal that says it may change (e.g. another payment holds the order for now) is not an outcome.
    if (details?.retryable === true) return null;
    return { kind: "error", code: error.code, message: error.message, ...(details ? { details } : {}) };
  },
  isTransient: isTransientInfrastructureError,
};

const refusalCodes = {
  bad_key: "BAD_REQUEST",
  in_flight: "CONFLICT",
  key_reused: "UNPROCESSABLE_CONTENT",
  unavailable: "SERVICE_UNAVAILABLE",
} as const satisfies Record<IdempotencyError["refusal"], ErrorCode>;

/** The idempotency layer's answers as the client gets them; any other error passes through unchanged. */
export function asAppError(error: unknown): unknown {
  if (error instanceof IdempotencyError) {
    const retryAfterMs = error.retryAfterMs === undefined ? undefined : { retryAfterMs: error.retryAfterMs };
    return appError(refusalCodes[error.refusal], error.message, retryAfterMs);
  }
  if (error instanceof StoredErrorAnswer) {
    const { code, message, details } = error.outcome;
    return appError(code as ErrorCode, message, { ...details, idempotency: error.idempotency });
  }
  return error;
}
