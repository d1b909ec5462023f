/**
 * The idempotency protocol, independent of tRPC and of the store behind it (contract §2):
 * look the key up, claim it (waiting a bounded time for an in-flight original), run the work once, store its
 * final outcome, and replay that outcome to every later request with the same key.
 */
import type { CompletedRecordCache } from "./completed-cache";
import { type ErrorPolicy, IdempotencyError, type IdempotencyMeta, StoredErrorAnswer } from "./errors";
import {
  type ClaimedRun,
  type ClaimRefused,
  type ClaimRequest,
  type ClaimResult,
  type IdempotencyRecord,
  type IdempotencyStore,
  initialRecoveryPoint,
  LeaseLostError,
  OutcomeNotRecordedError,
  type StoredOutcome,
  StoreUnavailableError,
} from "./store";

/** `Business`: the business database's transaction handle, which `inTransaction` work receives. */
export interface IdempotencySettings<Business = unknown> {
  store: IdempotencyStore<Business>;
  /** Completed records this process has seen, answering replays without a store round trip. */
  completed?: CompletedRecordCache;
  /** How long a duplicate waits for the in-flight original before answering CONFLICT. */
  waitMs: number;
  leaseMs: number;
  retentionMs: number;
  /** Which errors of the work are final outcomes, and which failures are transient. */
  errors: ErrorPolicy;
}

/** Identifies one idempotent request: whose key, which key, and what was asked. */
export type IdempotentCall = Omit<ClaimRequest, "leaseMs" | "retentionMs">;

export type WithIdempotency<T> = T & { idempotency: IdempotencyMeta };

export interface ExecutionHooks {
  /** Called when an answer is a replay (the HTTP side sets Idempotent-Replayed). */
  onReplay?(): void;
  /**
   * Named points of the protocol, where a test or lab server's instruments may crash or delay the request. For
   * `claimed`, `detail` is the recovery point the claim found (the initial one for a new key).
   */
  checkpoint?(point: "claimed" | "before-commit", detail?: string): void | Promise<void>;
}

/**
 * What a multi-step (leased) piece of work sees: where to resume and how to record progress. `Point` is the work's
 * own union of recovery points; the layer stores them as given and hands the last one back on resuming.
 */
export interface LeasedStep<Point extends string = string> {
  recoveryPoint: Point;
  advance(recoveryPoint: Point): Promise<void>;
  /**
   * Deletes the key, for work that finds nothing was ever done under it (a resumer that finds no business row):
   * a later request with the key runs anew. Throws `KeyForgottenError` to end the work.
   */
  forget(): Promise<never>;
}

/** The work ended by forgetting its key: there is no outcome, and nothing was done. */
export class KeyForgottenError extends Error {
  override name = "KeyForgottenError";
}

function metaOf(record: Pick<IdempotencyRecord, "key" | "firstSeenAt" | "expiresAt">, replayed: boolean) {
  return {
    key: record.key,
    replayed,
    firstSeenAt: record.firstSeenAt.toISOString(),
    expiresAt: record.expiresAt.toISOString(),
  } satisfies IdempotencyMeta;
}

/** Answers with a stored outcome: the business payload exactly as first sent, or the same error. */
function answer<T>(record: IdempotencyRecord, outcome: StoredOutcome, replayed: boolean): WithIdempotency<T> {
  const idempotency = metaOf(record, replayed);
  if (outcome.kind === "error") throw new StoredErrorAnswer(outcome, idempotency);
  const payload: unknown = JSON.parse(outcome.body);
  if (typeof payload !== "object" || payload === null || Array.isArray(payload)) {
    return { ...(payload as T), idempotency };
  }
  // Parsed afresh for every answer, so it is ours to extend: copying it into a new object cost a replay about a
  // fifth of its time in `npm run bench:store`.
  (payload as { idempotency: IdempotencyMeta }).idempotency = idempotency;
  return payload as WithIdempotency<T>;
}

function assertSameRequest(record: IdempotencyRecord, call: IdempotentCall): void {
  if (record.fingerprint !== call.fingerprint || record.procedurePath !== call.procedurePath) {
    throw new IdempotencyError(
      "key_reused",
      "This idempotency key was already used for a different request. Send a new key for a new request.",
    );
  }
}

function inFlight(retryAfterMs: number): IdempotencyError {
  return new IdempotencyError(
    "in_flight",
    "A request with this idempotency key is still being processed. Retry shortly with the same key.",
    retryAfterMs,
  );
}

const notChecked =
  "We could not check this request's idempotency key, so nothing was done. Retry in a moment with the same key.";
/** Once the work has started, something may have been done: the retry finds it rather than doing it again. */
const notRecorded =
  "We could not record this request's progress. Retry in a moment with the same key; it will not be done twice.";

function unavailable(message = notChecked): IdempotencyError {
  return new IdempotencyError("unavailable", message, 1000);
}

/** The layer's own answer to a store failure, or null for an error that is not one. */
function storeFailureAnswer(error: unknown, errors: ErrorPolicy, message = notChecked): IdempotencyError | null {
  // Our lease was taken over: the new holder's answer is the one that counts.
  if (error instanceof LeaseLostError) return inFlight(500);
  if (error instanceof OutcomeNotRecordedError) return unavailable(notRecorded);
  if (error instanceof StoreUnavailableError || errors.isTransient(error)) return unavailable(message);
  return null;
}

/** Store failures fail closed: nothing runs unguarded. */
function guarded<T>(operation: Promise<T>, errors: ErrorPolicy, message = notChecked): Promise<T> {
  return operation.catch((error: unknown) => {
    throw storeFailureAnswer(error, errors, message) ?? error;
  });
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

type Claimed = Extract<ClaimResult, { outcome: "claimed" }>;

export class IdempotentExecution<Business = unknown> {
  private readonly request: ClaimRequest;

  constructor(
    readonly call: IdempotentCall,
    private readonly settings: IdempotencySettings<Business>,
    private readonly hooks: ExecutionHooks = {},
  ) {
    const { scope, key, procedurePath, fingerprint } = call;
    this.request = {
      scope,
      key,
      procedurePath,
      fingerprint,
      leaseMs: settings.leaseMs,
      retentionMs: settings.retentionMs,
    };
  }

  private replay<T>(record: IdempotencyRecord): WithIdempotency<T> {
    this.settings.completed?.remember(record);
    this.hooks.onReplay?.();
    return answer<T>(record, record.outcome as StoredOutcome, true);
  }

  /**
   * Claims the key, retrying until the wait budget is spent while someone else holds it.
   * Returns what the granted claim gave (a lease, or work already run under it), or the completed record to replay.
   */
  private async claim<Granted extends Claimed | ClaimedRun>(
    attempt: () => Promise<Granted | ClaimRefused>,
    deadline = Date.now() + this.settings.waitMs,
  ): Promise<{ granted: Granted } | { completed: IdempotencyRecord }> {
    let pause = 20;
    for (;;) {
      const result = await attempt();
      if (result.outcome === "claimed" || result.outcome === "ran") return { granted: result };
      let retryAfterMs = 500;
      if (result.outcome === "existing") {
        assertSameRequest(result.record, this.call);
        if (result.record.status === "completed") return { completed: result.record };
        const leaseLeft = (result.record.leaseExpiresAt?.getTime() ?? 0) - Date.now();
        retryAfterMs = Math.min(Math.max(leaseLeft, 100), 2000);
      }
      const remaining = deadline - Date.now();
      if (remaining <= 0) throw inFlight(retryAfterMs);
      await sleep(Math.min(pause, remaining));
      pause = Math.min(pause * 2, 200);
    }
  }

  /** Answers the first time with the outcome just stored, and remembers it for replays. */
  private firstAnswer<T>(record: IdempotencyRecord, outcome: StoredOutcome): WithIdempotency<T> {
    this.settings.completed?.remember({
      scope: record.scope,
      key: record.key,
      procedurePath: record.procedurePath,
      fingerprint: record.fingerprint,
      status: "completed",
      recoveryPoint: record.recoveryPoint,
      leaseExpiresAt: null,
      outcome,
      firstSeenAt: record.firstSeenAt,
      expiresAt: record.expiresAt,
    });
    return answer<T>(record, outcome, false);
  }

  /** The fast path: a completed key this process has seen replays from memory, with no store round trip. */
  private remembered(): IdempotencyRecord | null {
    const record = this.settings.completed?.get(this.call);
    return record ? this.completedOrNull(record) : null;
  }

  private completedOrNull(record: IdempotencyRecord): IdempotencyRecord | null {
    assertSameRequest(record, this.call);
    return record.status === "completed" ? record : null;
  }

  /**
   * For work that stays inside the business database: the claim, the work and the stored outcome commit in one
   * transaction where the store lives in that database, so a crash anywhere before the commit leaves neither a key
   * nor a business row behind. (A store outside it claims first and completes after the commit; the business
   * unique indexes stop a second write if a crash falls in between.) A duplicate waits between transactions,
   * holding no connection.
   */
  async inTransaction<T>(work: (business: Business) => Promise<T>): Promise<WithIdempotency<T>> {
    // The claim answers a completed key with its record: only the replay cache is asked first.
    const completed = this.remembered();
    if (completed) return this.replay(completed);

    const { store, errors } = this.settings;
    const run = async (business: Business) => {
      await this.hooks.checkpoint?.("claimed");
      const body = JSON.stringify(await work(business));
      await this.hooks.checkpoint?.("before-commit");
      return body;
    };
    const deadline = Date.now() + this.settings.waitMs;
    for (;;) {
      try {
        const result = await this.claim(() => store.runClaimed(this.request, run), deadline);
        if ("completed" in result) return this.replay(result.completed);
        const { record, body } = result.granted;
        return this.firstAnswer<T>(record, { kind: "success", body });
      } catch (error) {
        // A deadlock between racing claims rolls the whole transaction back: start again within the budget.
        if (errors.isTransient(error) && Date.now() < deadline) {
          await sleep(25);
          continue;
        }
        const refusal = storeFailureAnswer(error, errors);
        if (refusal) throw refusal;
        const outcome = errors.finalOutcomeOf(error);
        if (outcome) return this.storeFinalError<T>(outcome);
        throw error;
      }
    }
  }

  private async storeFinalError<T>(outcome: StoredOutcome): Promise<WithIdempotency<T>> {
    const { store, errors } = this.settings;
    const claim = await this.claim(() => guarded(store.claim(this.request), errors));
    if ("completed" in claim) return this.replay(claim.completed);
    await guarded(store.complete(claim.granted.lease, outcome), errors, notRecorded);
    return this.firstAnswer<T>(claim.granted.record, outcome);
  }

  /**
   * For work with steps outside the database (such as charging a card): the claim commits first as a lease;
   * the work records each committed step with `advance`, and a later attempt resumes from the last one.
   */
  async withLease<T, Point extends string = string>(
    work: (step: LeasedStep<Point>) => Promise<T>,
  ): Promise<WithIdempotency<T>> {
    // A claim answers a completed key with its record: no separate lookup first.
    const completed = this.remembered();
    if (completed) return this.replay(completed);

    const { store, leaseMs, errors } = this.settings;
    const claim = await this.claim(() => guarded(store.claim(this.request), errors));
    if ("completed" in claim) return this.replay(claim.completed);
    const { lease, record } = claim.granted;
    await this.hooks.checkpoint?.("claimed", record.recoveryPoint);

    const step: LeasedStep<Point> = {
      // Written only by this key's work, from its own union.
      recoveryPoint: record.recoveryPoint as Point,
      advance: async (recoveryPoint) => {
        await guarded(store.advance(lease, recoveryPoint, leaseMs), errors, notRecorded);
        step.recoveryPoint = recoveryPoint;
      },
      forget: async () => {
        await guarded(store.forget(lease), errors, notRecorded);
        throw new KeyForgottenError(`Idempotency key ${lease.key} had nothing done under it and was forgotten`);
      },
    };
    let outcome: StoredOutcome;
    try {
      outcome = { kind: "success", body: JSON.stringify(await work(step)) };
    } catch (error) {
      if (error instanceof KeyForgottenError) throw error;
      const finalOutcome = errors.finalOutcomeOf(error);
      if (!finalOutcome) {
        // Transient: free the key so a retry resumes at once from the recorded point. Failing before any point
        // was recorded, nothing was done: the key is forgotten, binding no request, as a claim rolled back with
        // its business transaction would be (a corrected retry may reuse it). One rule, whichever the store.
        const nothingDone = step.recoveryPoint === initialRecoveryPoint;
        await (nothingDone ? store.forget(lease) : store.release(lease)).catch(() => undefined);
        throw error;
      }
      outcome = finalOutcome;
    }
    await guarded(store.complete(lease, outcome), errors, notRecorded);
    return this.firstAnswer<T>(record, outcome);
  }
}
