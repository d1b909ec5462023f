/**
 * Resuming someone else's unfinished request under its own idempotency key: the background completer does it
 * for requests nobody came back for, and a customer's new attempt does it for the earlier attempt that stands in
 * its way. The key's lease makes the resumer the only one working on it; a live holder is never waited for.
 */
import { TRPCError } from "@trpc/server";
import { appError, asAppError, ErrorDetails } from "../errors";
import {
  IdempotencyError,
  type IdempotencySettings,
  IdempotentExecution,
  KeyForgottenError,
  type LeasedStep,
  requestFingerprint,
  StoredErrorAnswer,
} from "../idempotency";

export interface ResumableRequest {
  scope: string;
  key: string;
  procedurePath: string;
  /** The input the fingerprint was made of, or the fingerprint itself when the record is at hand. */
  fingerprint: { input: unknown } | { value: string };
}

export type ResumeOutcome = "finished" | "forgotten" | "held";

/**
 * Runs `work` under the request's key, taking over a lapsed or released lease at once. Returns "held" while the
 * original holder's lease is live (it is still running); a stored outcome, success or final error, is "finished".
 * Transient failures (503, 504) are thrown: the key keeps its recovery point for the next try.
 */
export async function resumeUnderKey<Point extends string>(
  settings: IdempotencySettings,
  request: ResumableRequest,
  work: (step: LeasedStep<Point>) => Promise<unknown>,
): Promise<{ outcome: ResumeOutcome; retryAfterMs?: number }> {
  const fingerprint =
    "value" in request.fingerprint
      ? request.fingerprint.value
      : requestFingerprint(request.procedurePath, request.fingerprint.input);
  const execution = new IdempotentExecution(
    { scope: request.scope, key: request.key, procedurePath: request.procedurePath, fingerprint },
    { ...settings, waitMs: 0 },
  );
  try {
    await execution.withLease(work);
    return { outcome: "finished" };
  } catch (error) {
    if (error instanceof KeyForgottenError) return { outcome: "forgotten" };
    // A stored or replayed final error (a decline, "not completed"): the request is over.
    if (error instanceof StoredErrorAnswer) return { outcome: "finished" };
    if (error instanceof IdempotencyError && error.refusal === "in_flight") {
      return { outcome: "held", retryAfterMs: error.retryAfterMs ?? 1000 };
    }
    // The work found the order held by yet another attempt that is still running.
    if (error instanceof TRPCError && error.code === "CONFLICT") {
      const details = error.cause instanceof ErrorDetails ? error.cause.details : {};
      return { outcome: "held", retryAfterMs: typeof details.retryAfterMs === "number" ? details.retryAfterMs : 1000 };
    }
    throw asAppError(error);
  }
}

/** The answer to a customer whose request waits on an earlier one that is truly still running. */
export function heldByEarlier(what: string, retryAfterMs: number): TRPCError {
  return appError(
    "CONFLICT",
    `${what} is still in progress. Retry in ${Math.ceil(retryAfterMs / 1000)} s; nothing will be done twice.`,
    { retryable: true, retryAfterMs },
  );
}

/** Past "started", the business row that phase committed before its recovery point was recorded. */
export function committedRow<Row>(row: Row | undefined, what: string, recoveryPoint: string): Row {
  if (!row) throw new Error(`No ${what} row for a ${what} recorded at ${recoveryPoint}`);
  return row;
}

/** A finished key replays its stored outcome: work that is handed one is a bug in the layer. */
export function finishedWorkRan(what: string, key: string): Error {
  return new Error(`The ${what} under key ${key} is finished: its key replays, its work never runs again`);
}
