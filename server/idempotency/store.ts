/**
 * The storage side of the idempotency layer: one interface, several stores (MySQL by default, or Redis).
 * Nothing here knows which database is behind it; each store keeps these promises:
 *
 * - At most one caller holds a key at a time: `claim` grants a lease (an owner token and an expiry) or returns
 *   the record that is there.
 * - Only the lease holder may `advance`, `complete` or `release` the key; anyone else gets `LeaseLostError`
 *   (fencing: a request that stalled past its lease cannot overwrite the one that took over).
 * - An expired lease on an unfinished key can be taken over by a claim with the same fingerprint; the new holder
 *   resumes from the stored recovery point.
 * - A key whose retention (`expiresAt`) has passed is treated as never seen.
 */

/** Which customer, and which key of theirs. Keys of different scopes never meet. */
export interface KeyRef {
  scope: string;
  key: string;
}

export interface ClaimRequest extends KeyRef {
  procedurePath: string;
  /** SHA-256 of the procedure path and canonical input: a key is bound to one request. */
  fingerprint: string;
  leaseMs: number;
  /** How long the key and its final outcome are kept, counted from the first claim. */
  retentionMs: number;
}

/** A final outcome, stored once and replayed as is. `body` is JSON text, replayed byte for byte. */
export type StoredOutcome =
  | { kind: "success"; body: string }
  | { kind: "error"; code: string; message: string; details?: Record<string, unknown> };

export interface IdempotencyRecord extends KeyRef {
  procedurePath: string;
  fingerprint: string;
  status: "in_progress" | "completed";
  /** The last step committed (e.g. started, payment_created, charge_attempted, finished). */
  recoveryPoint: string;
  /** When the current lease ends; null when nobody holds the key. */
  leaseExpiresAt: Date | null;
  outcome: StoredOutcome | null;
  firstSeenAt: Date;
  expiresAt: Date;
}

/** Proof of holding a key: the owner token is checked on every write. */
export interface Lease extends KeyRef {
  ownerToken: string;
}

export type ClaimResult =
  /** The caller now holds the key; `record.recoveryPoint` says where to resume ("started" when new). */
  | { outcome: "claimed"; lease: Lease; record: IdempotencyRecord }
  /** Someone else's record: completed, held by a live lease, or bound to another fingerprint. */
  | { outcome: "existing"; record: IdempotencyRecord }
  /** Held by a claim that has not committed yet (a transaction still running); its details are not visible. */
  | { outcome: "busy" };

export const initialRecoveryPoint = "started";
export const finalRecoveryPoint = "finished";

/**
 * The takeover rule, for every store: an unfinished key may be claimed by the same request (same fingerprint)
 * once nobody holds it, its lease ended or given up; the new holder resumes from the recorded point.
 */
export function mayTakeOver(
  record: Pick<IdempotencyRecord, "status" | "fingerprint" | "leaseExpiresAt">,
  fingerprint: string,
  now: number,
): boolean {
  return (
    record.status === "in_progress" &&
    record.fingerprint === fingerprint &&
    (record.leaseExpiresAt === null || record.leaseExpiresAt.getTime() <= now)
  );
}

/** `Business`: the handle of the business database's transactions that `runClaimed` hands its work. */
export interface IdempotencyStore<Business = unknown> {
  claim(request: ClaimRequest): Promise<ClaimResult>;
  /** The live record of a key, or null if it was never seen or its retention has passed. */
  read(ref: KeyRef): Promise<IdempotencyRecord | null>;
  /** Records a committed step and renews the lease. */
  advance(lease: Lease, recoveryPoint: string, leaseMs: number): Promise<void>;
  /** Stores the final outcome and gives up the lease; the key now replays. */
  complete(lease: Lease, outcome: StoredOutcome): Promise<void>;
  /**
   * Gives up the lease without a final outcome (a transient failure): the key stays bound to its request, and the
   * next claim of that request resumes at once from the recorded point.
   */
  release(lease: Lease): Promise<void>;
  /** Deletes the key while holding it: nothing was done under it, so a later request with it runs anew. */
  forget(lease: Lease): Promise<void>;
  /**
   * Unfinished keys that nobody holds and nobody has touched since `idleSince` (their lease ended before it, or,
   * released, they were first claimed before it), at most `limit`, retention not passed: what the background
   * resumer finishes when no client comes back. A key released a moment ago is left to its client's retry.
   */
  abandoned(idleSince: Date, limit: number): Promise<IdempotencyRecord[]>;
  /**
   * Claims the key and, when granted, runs `work` in one business transaction and stores the JSON text it returns
   * as the key's success. A store inside the business database claims, lets `work` write and completes in that
   * one transaction, all or nothing. A store outside it claims before the transaction opens and completes after
   * it commits: a crash in between leaves a leased key whose taker finds the business rows (the business unique
   * indexes stop a second write), and a completion that fails after the commit is an `OutcomeNotRecordedError`.
   * An error from `work` rolls the business writes back, leaves no key, and passes through.
   * Not granted, nothing runs and the claim's answer is returned.
   */
  runClaimed(request: ClaimRequest, work: (business: Business) => Promise<string>): Promise<ClaimedRun | ClaimRefused>;
}

/** A claim that was not granted: what the caller answers from (a replay, a wait, a refusal). */
export type ClaimRefused = Exclude<ClaimResult, { outcome: "claimed" }>;

/** Work that ran under a fresh claim and whose success is stored. */
export interface ClaimedRun {
  outcome: "ran";
  record: IdempotencyRecord;
  body: string;
}

/** Runs `work` in one transaction of the business database and returns what it returned once committed. */
export type Transact<Business> = <R>(work: (business: Business) => Promise<R>) => Promise<R>;

/** The store could not be reached or answered too slowly: fail closed, execute nothing. */
export class StoreUnavailableError extends Error {
  override name = "StoreUnavailableError";
}

/** The work committed, but its outcome could not be stored: a retry finds what was done instead of redoing it. */
export class OutcomeNotRecordedError extends StoreUnavailableError {
  override name = "OutcomeNotRecordedError";
}

/** The caller's lease was lost (expired and taken over, or released): it must stop writing. */
export class LeaseLostError extends Error {
  override name = "LeaseLostError";
  constructor(readonly ref: KeyRef) {
    super(`The lease on idempotency key ${ref.key} is no longer held by this request`);
  }
}
