/**
 * The default store: the `idempotency_keys` table in the business database. Being in the same database, it can
 * join a business transaction (`withinTransaction`), which is what makes "claim + write + outcome" atomic.
 *
 * Times come from the app's clock (servers are expected to be NTP-synchronised; leases are seconds long).
 * A racing claim of an uncommitted key waits on InnoDB's row lock, bounded by the session's
 * `innodb_lock_wait_timeout`, and then sees the committed outcome or reports the key busy.
 */
import { randomUUID } from "node:crypto";
import { and, asc, eq, isNull, lt, or } from "drizzle-orm";
import type { Executor } from "@/db/client";
import { idempotencyKeys } from "@/db/schema";
import { driverErrorCodes, isDuplicateKeyError } from "../errors";
import {
  type ClaimRequest,
  type ClaimResult,
  finalRecoveryPoint,
  type IdempotencyRecord,
  type IdempotencyStore,
  initialRecoveryPoint,
  type KeyRef,
  type Lease,
  LeaseLostError,
  type StoredOutcome,
} from "./store";

type Row = typeof idempotencyKeys.$inferSelect;

function byRef(ref: KeyRef) {
  return and(eq(idempotencyKeys.customerId, ref.scope), eq(idempotencyKeys.idempotencyKey, ref.key));
}

function byLease(lease: Lease) {
  return and(byRef(lease), eq(idempotencyKeys.ownerToken, lease.ownerToken));
}

function toRecord(row: Row): IdempotencyRecord {
  return {
    scope: row.customerId,
    key: row.idempotencyKey,
    procedurePath: row.procedurePath,
    fingerprint: row.fingerprint,
    status: row.status,
    recoveryPoint: row.recoveryPoint,
    leaseExpiresAt: row.lockedUntil,
    outcome: row.response === null ? null : (JSON.parse(row.response) as StoredOutcome),
    firstSeenAt: row.firstSeenAt,
    expiresAt: row.expiresAt,
  };
}

const affectedRows = (result: [{ affectedRows: number }, unknown]) => result[0].affectedRows;

export class MysqlIdempotencyStore implements IdempotencyStore {
  constructor(
    private readonly db: Executor,
    private readonly now: () => Date = () => new Date(),
  ) {}

  withinTransaction(transaction: unknown): IdempotencyStore {
    return new MysqlIdempotencyStore(transaction as Executor, this.now);
  }

  async read(ref: KeyRef): Promise<IdempotencyRecord | null> {
    const [row] = await this.db.select().from(idempotencyKeys).where(byRef(ref)).limit(1);
    if (!row || row.expiresAt <= this.now()) return null;
    return toRecord(row);
  }

  async claim(request: ClaimRequest): Promise<ClaimResult> {
    const now = this.now();
    const lease: Lease = { scope: request.scope, key: request.key, ownerToken: randomUUID() };
    const lockedUntil = new Date(now.getTime() + request.leaseMs);
    const fresh = {
      customerId: request.scope,
      idempotencyKey: request.key,
      procedurePath: request.procedurePath,
      fingerprint: request.fingerprint,
      status: "in_progress" as const,
      recoveryPoint: initialRecoveryPoint,
      ownerToken: lease.ownerToken,
      lockedUntil,
      response: null,
      firstSeenAt: now,
      expiresAt: new Date(now.getTime() + request.retentionMs),
    };
    try {
      await this.db.insert(idempotencyKeys).values(fresh);
      return { outcome: "claimed", lease, record: toRecord({ id: 0, updatedAt: now, ...fresh }) };
    } catch (error) {
      // The original's transaction still holds the row: it is in flight.
      if (driverErrorCodes(error).includes("ER_LOCK_WAIT_TIMEOUT")) return { outcome: "busy" };
      if (!isDuplicateKeyError(error)) throw error;
    }

    // The key exists. Read it without locking first: the usual answer (completed, or held) needs no write,
    // and racing duplicates that all hold a shared lock from the duplicate check must not all try to update it.
    const [row] = await this.db.select().from(idempotencyKeys).where(byRef(request)).limit(1);
    if (!row) return { outcome: "busy" };
    if (row.expiresAt <= now) {
      // Past its retention the key is as good as new.
      const restarted = await this.db
        .update(idempotencyKeys)
        .set(fresh)
        .where(and(byRef(request), lt(idempotencyKeys.expiresAt, now)));
      if (affectedRows(restarted) === 1) {
        return { outcome: "claimed", lease, record: toRecord({ id: 0, updatedAt: now, ...fresh }) };
      }
    } else if (
      row.status === "in_progress" &&
      row.fingerprint === request.fingerprint &&
      (row.lockedUntil === null || row.lockedUntil < now)
    ) {
      // An unfinished key whose lease has lapsed is taken over by the same request, keeping its progress.
      const takenOver = await this.db
        .update(idempotencyKeys)
        .set({ ownerToken: lease.ownerToken, lockedUntil })
        .where(
          and(
            byRef(request),
            eq(idempotencyKeys.status, "in_progress"),
            or(isNull(idempotencyKeys.lockedUntil), lt(idempotencyKeys.lockedUntil, now)),
          ),
        );
      if (affectedRows(takenOver) === 1) {
        return { outcome: "claimed", lease, record: toRecord({ ...row, ownerToken: lease.ownerToken, lockedUntil }) };
      }
    } else {
      return { outcome: "existing", record: toRecord(row) };
    }
    // Someone else restarted or took over the key between our read and our write.
    const record = await this.read(request);
    return record === null ? { outcome: "busy" } : { outcome: "existing", record };
  }

  async advance(lease: Lease, recoveryPoint: string, leaseMs: number): Promise<void> {
    const result = await this.db
      .update(idempotencyKeys)
      .set({ recoveryPoint, lockedUntil: new Date(this.now().getTime() + leaseMs) })
      .where(and(byLease(lease), eq(idempotencyKeys.status, "in_progress")));
    if (affectedRows(result) !== 1) throw new LeaseLostError(lease);
  }

  async complete(lease: Lease, outcome: StoredOutcome): Promise<void> {
    const result = await this.db
      .update(idempotencyKeys)
      .set({
        status: "completed",
        recoveryPoint: finalRecoveryPoint,
        response: JSON.stringify(outcome),
        ownerToken: null,
        lockedUntil: null,
      })
      .where(and(byLease(lease), eq(idempotencyKeys.status, "in_progress")));
    if (affectedRows(result) !== 1) throw new LeaseLostError(lease);
  }

  async release(lease: Lease): Promise<void> {
    const result = await this.db
      .update(idempotencyKeys)
      .set({ ownerToken: null, lockedUntil: null })
      .where(and(byLease(lease), eq(idempotencyKeys.status, "in_progress")));
    if (affectedRows(result) !== 1) throw new LeaseLostError(lease);
  }

  /** Deletes keys past their retention, `batchSize` rows per statement so no delete holds locks for long. */
  async purgeExpired(batchSize = 1000): Promise<number> {
    let purged = 0;
    for (;;) {
      const result = await this.db
        .delete(idempotencyKeys)
        .where(lt(idempotencyKeys.expiresAt, this.now()))
        .orderBy(asc(idempotencyKeys.expiresAt))
        .limit(batchSize);
      purged += affectedRows(result);
      if (affectedRows(result) < batchSize) return purged;
    }
  }
}
