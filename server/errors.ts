/**
 * Typed errors for the client: a tRPC code that sets the HTTP status, a message a person can act on, and
 * optional machine-readable details (such as `retryAfterMs` or the current value on a conflict).
 * Never SQL text or a stack: unknown failures are reduced to a generic message by the error formatter.
 */
import { TRPCError } from "@trpc/server";
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

const transientCodes = new Set([
  "ECONNREFUSED",
  "ECONNRESET",
  "ETIMEDOUT",
  "EPIPE",
  "PROTOCOL_CONNECTION_LOST",
  "PROTOCOL_SEQUENCE_TIMEOUT",
  "ER_CON_COUNT_ERROR",
  "ER_LOCK_DEADLOCK",
  "ER_LOCK_WAIT_TIMEOUT",
  "ER_SERVER_SHUTDOWN",
  "POOL_CLOSED",
]);

/** The driver error codes along an error's cause chain (Drizzle wraps mysql2 errors in DrizzleQueryError). */
export function driverErrorCodes(error: unknown): string[] {
  const codes: string[] = [];
  for (let current = error; current instanceof Error || isObject(current); ) {
    const code = (current as { code?: unknown }).code;
    if (typeof code === "string") codes.push(code);
    const next = (current as { cause?: unknown }).cause;
    if (next === current) break;
    current = next;
  }
  return codes;
}

function isObject(value: unknown): value is object {
  return typeof value === "object" && value !== null;
}

/**
 * A database outage, a lost connection or a lock timeout: worth a retry, never a final answer. mysql2 marks an
 * error that ended its connection `fatal`, often without a code (a query sent on a connection that had already
 * died fails with "Can't add new command when connection is in closed state").
 */
export function isTransientInfrastructureError(error: unknown): boolean {
  for (let current = error; current instanceof Error || isObject(current); ) {
    if ((current as { fatal?: unknown }).fatal === true) return true;
    const next = (current as { cause?: unknown }).cause;
    if (next === current) break;
    current = next;
  }
  return driverErrorCodes(error).some((code) => transientCodes.has(code));
}

/** A unique key refused the write; with `keyName`, that key in particular (e.g. "PRIMARY"). */
export function isDuplicateKeyError(error: unknown, keyName?: string): boolean {
  if (!driverErrorCodes(error).includes("ER_DUP_ENTRY")) return false;
  if (keyName === undefined) return true;
  const messages: string[] = [];
  for (let current = error; current instanceof Error; current = current.cause) {
    messages.push((current as { sqlMessage?: string }).sqlMessage ?? current.message);
    if (current.cause === current) break;
  }
  // MariaDB names the key ('PRIMARY'), MySQL 8 the table too ('orders.PRIMARY').
  return messages.some((message) => new RegExp(`for key '(?:[^']*\\.)?${keyName}'$`).test(message));
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
