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

export interface IdempotencyStore {
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
   * Present when the store lives in the business database. Runs `body` in one business transaction that the
   * store opens, with a view of the store whose claim and completion belong to that transaction, so a claim,
   * the business writes and the completion commit together or not at all. `body` claims before it writes
   * anything (the MySQL store opens the transaction with that claim). The business handle's type is the store's
   * own business; callers pass it on to code written for their database.
   */
  transaction?<R>(body: (business: unknown, store: TransactionScopedStore) => Promise<R>): Promise<R>;
}

/**
 * The store inside a business transaction: a claim holds the key until the transaction ends, and a completion
 * may be held back until the commit (it takes effect with the business writes, never without them).
 */
export type TransactionScopedStore = Pick<IdempotencyStore, "claim" | "complete">;

/** The store could not be reached or answered too slowly: fail closed, execute nothing. */
export class StoreUnavailableError extends Error {
  override name = "StoreUnavailableError";
}

/** The caller's lease was lost (expired and taken over, or released): it must stop writing. */
export class LeaseLostError extends Error {
  override name = "LeaseLostError";
  constructor(readonly ref: KeyRef) {
    super(`The lease on idempotency key ${ref.key} is no longer held by this request`);
  }
}
