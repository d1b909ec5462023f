/**
 * The default store: the `idempotency_keys` table in the business database. Being in the same database, it can
 * run the business transaction itself (`runClaimed`), which is what makes "claim + write + outcome" atomic.
 * It opens that transaction on one pooled connection; its claim is the transaction's first statement (sent with
 * `START TRANSACTION` on a pool of its own that allows it) and its completion the last before `COMMIT`, which
 * always goes alone: a multi-statement query ending in COMMIT was measured on Galera reporting success for a
 * transaction that had been rolled back.
 *
 * Times come from the app's clock (servers are expected to be NTP-synchronised; leases are seconds long).
 * A racing claim of an uncommitted key waits on InnoDB's row lock, bounded by the session's
 * `innodb_lock_wait_timeout`, and then sees the committed outcome or reports the key busy.
 */
import { randomUUID } from "node:crypto";
import { and, asc, eq, fillPlaceholders, gt, isNull, lt, lte, or, type Query, sql } from "drizzle-orm";
import { drizzle } from "drizzle-orm/mysql2";
import type { ResultSetHeader } from "mysql2";
import type { PoolConnection } from "mysql2/promise";
import type { Database, Executor } from "@/db/client";
import { driverErrorCodes, isDuplicateKeyError } from "@/db/errors";
import * as schema from "@/db/schema";
import { idempotencyKeys } from "@/db/schema";
import { rerunOnDeadlock } from "@/db/transactions";
import {
  type ClaimedRun,
  type ClaimRefused,
  type ClaimRequest,
  type ClaimResult,
  finalRecoveryPoint,
  type IdempotencyRecord,
  type IdempotencyStore,
  initialRecoveryPoint,
  type KeyRef,
  type Lease,
  LeaseLostError,
  mayTakeOver,
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

type ClaimRow = typeof idempotencyKeys.$inferInsert;
type InsertClaim = (row: ClaimRow) => Promise<unknown>;

/**
 * The claim and the completion, the statements every first execution sends, built once with placeholders:
 * Drizzle's query builder costs tens of microseconds a call.
 */
function prebuiltStatements(db: Executor) {
  const claim = db
    .insert(idempotencyKeys)
    .values({
      customerId: sql.placeholder("customerId"),
      idempotencyKey: sql.placeholder("idempotencyKey"),
      procedurePath: sql.placeholder("procedurePath"),
      fingerprint: sql.placeholder("fingerprint"),
      status: sql.placeholder("status"),
      recoveryPoint: sql.placeholder("recoveryPoint"),
      ownerToken: sql.placeholder("ownerToken"),
      lockedUntil: sql.placeholder("lockedUntil"),
      response: sql.placeholder("response"),
      firstSeenAt: sql.placeholder("firstSeenAt"),
      expiresAt: sql.placeholder("expiresAt"),
    })
    .toSQL();
  const completion = db
    .update(idempotencyKeys)
    .set({
      status: "completed",
      recoveryPoint: finalRecoveryPoint,
      response: sql`${sql.placeholder("response")}`,
      ownerToken: null,
      lockedUntil: null,
    })
    .where(
      and(
        eq(idempotencyKeys.customerId, sql.placeholder("scope")),
        eq(idempotencyKeys.idempotencyKey, sql.placeholder("key")),
        eq(idempotencyKeys.ownerToken, sql.placeholder("ownerToken")),
        eq(idempotencyKeys.status, "in_progress"),
      ),
    )
    .toSQL();
  return {
    claim: (row: ClaimRow): Query => ({ sql: claim.sql, params: fillPlaceholders(claim.params, row) }),
    completion: (held: Lease, outcome: StoredOutcome): Query => ({
      sql: completion.sql,
      params: fillPlaceholders(completion.params, {
        scope: held.scope,
        key: held.key,
        ownerToken: held.ownerToken,
        response: JSON.stringify(outcome),
      }),
    }),
  };
}

export class MysqlIdempotencyStore implements IdempotencyStore<Executor> {
  private readonly statements: ReturnType<typeof prebuiltStatements>;
  private readonly businessHandles = new WeakMap<object, Executor>();

  /**
   * `transactionDb`, when given, is a pool used by nothing but this store's transactions and accepting
   * multi-statement queries: the claim then travels with START TRANSACTION. COMMIT always goes alone.
   */
  constructor(
    private readonly db: Database,
    private readonly now: () => Date = () => new Date(),
    private readonly transactionDb?: Database,
  ) {
    this.statements = prebuiltStatements(db);
  }

  /**
   * One business transaction on one pooled connection: it begins with the claim (so nothing is written before
   * the key is held), runs `work`, and writes the completion just before `COMMIT`. If `work` throws, the
   * completion misses, or the process dies before the commit, neither the key nor any business row remains.
   */
  runClaimed(request: ClaimRequest, work: (business: Executor) => Promise<string>): Promise<ClaimedRun | ClaimRefused> {
    // Lost to a racer on another Galera node (1213), the whole transaction runs again and meets the winner's key.
    return rerunOnDeadlock(() => this.runClaimedOnce(request, work));
  }

  private async runClaimedOnce(
    request: ClaimRequest,
    work: (business: Executor) => Promise<string>,
  ): Promise<ClaimedRun | ClaimRefused> {
    const connection = await (this.transactionDb ?? this.db).$client.getConnection();
    const business = this.businessHandleOf(connection);
    const insertClaim: InsertClaim = async (row) => {
      const claim = this.statements.claim(row);
      if (this.transactionDb) return connection.query(`START TRANSACTION;\n${claim.sql}`, claim.params);
      await connection.query("START TRANSACTION");
      return connection.query(claim.sql, claim.params);
    };
    try {
      const claim = await this.claimWith(business, insertClaim, request);
      if (claim.outcome !== "claimed") {
        await connection.query("ROLLBACK");
        connection.release();
        return claim;
      }
      const body = await work(business);
      const completion = this.statements.completion(claim.lease, { kind: "success", body });
      const [completed] = await connection.query<ResultSetHeader>(completion.sql, completion.params);
      // The claim's row lock is held until the commit, so nobody else can have changed the key; a miss would
      // mean a bug, and rolls the business writes back with it.
      if (completed.affectedRows !== 1) throw new LeaseLostError(claim.lease);
      await connection.query("COMMIT");
      connection.release();
      return { outcome: "ran", record: claim.record, body };
    } catch (error) {
      await connection.query("ROLLBACK").then(
        () => connection.release(),
        // A connection that cannot even roll back is not handed to the next request.
        () => connection.destroy(),
      );
      throw error;
    }
  }

  /**
   * Drizzle on one pooled connection, made once per connection: making it reads the whole schema's relations,
   * which cost a first execution about 2 % of its CPU when done per request. The pool hands out a new wrapper of
   * the same connection each time, so the driver's own connection is the key.
   */
  private businessHandleOf(connection: PoolConnection): Executor {
    let business = this.businessHandles.get(connection.connection);
    if (!business) {
      business = drizzle(connection, { schema, mode: "default" });
      this.businessHandles.set(connection.connection, business);
    }
    return business;
  }

  read(ref: KeyRef): Promise<IdempotencyRecord | null> {
    return this.readWith(this.db, ref);
  }

  private async readWith(db: Executor, ref: KeyRef): Promise<IdempotencyRecord | null> {
    const [row] = await db.select().from(idempotencyKeys).where(byRef(ref)).limit(1);
    if (!row || row.expiresAt <= this.now()) return null;
    return toRecord(row);
  }

  claim(request: ClaimRequest): Promise<ClaimResult> {
    return this.claimWith(
      this.db,
      (row) => {
        const claim = this.statements.claim(row);
        return this.db.$client.query(claim.sql, claim.params);
      },
      request,
    );
  }

  private async claimWith(db: Executor, insertClaim: InsertClaim, request: ClaimRequest): Promise<ClaimResult> {
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
      await insertClaim(fresh);
      return { outcome: "claimed", lease, record: toRecord({ updatedAt: now, ...fresh }) };
    } catch (error) {
      // The original's transaction still holds the row: it is in flight.
      if (driverErrorCodes(error).includes("ER_LOCK_WAIT_TIMEOUT")) return { outcome: "busy" };
      if (!isDuplicateKeyError(error)) throw error;
    }

    // The key exists. Read it without locking first: the usual answer (completed, or held) needs no write,
    // and racing duplicates that all hold a shared lock from the duplicate check must not all try to update it.
    const [row] = await db.select().from(idempotencyKeys).where(byRef(request)).limit(1);
    if (!row) return { outcome: "busy" };
    if (row.expiresAt <= now) {
      // Past its retention the key is as good as new.
      const restarted = await db
        .update(idempotencyKeys)
        .set(fresh)
        .where(and(byRef(request), lt(idempotencyKeys.expiresAt, now)));
      if (affectedRows(restarted) === 1) {
        return { outcome: "claimed", lease, record: toRecord({ updatedAt: now, ...fresh }) };
      }
    } else if (mayTakeOver(toRecord(row), request.fingerprint, now.getTime())) {
      const takenOver = await db
        .update(idempotencyKeys)
        .set({ ownerToken: lease.ownerToken, lockedUntil })
        .where(
          and(
            byRef(request),
            eq(idempotencyKeys.status, "in_progress"),
            or(isNull(idempotencyKeys.lockedUntil), lte(idempotencyKeys.lockedUntil, now)),
          ),
        );
      if (affectedRows(takenOver) === 1) {
        return { outcome: "claimed", lease, record: toRecord({ ...row, ownerToken: lease.ownerToken, lockedUntil }) };
      }
    } else {
      return { outcome: "existing", record: toRecord(row) };
    }
    // Someone else restarted or took over the key between our read and our write.
    const record = await this.readWith(db, request);
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
    const completion = this.statements.completion(lease, outcome);
    const [result] = await this.db.$client.query<ResultSetHeader>(completion.sql, completion.params);
    if (result.affectedRows !== 1) throw new LeaseLostError(lease);
  }

  async release(lease: Lease): Promise<void> {
    const result = await this.db
      .update(idempotencyKeys)
      .set({ ownerToken: null, lockedUntil: null })
      .where(and(byLease(lease), eq(idempotencyKeys.status, "in_progress")));
    if (affectedRows(result) !== 1) throw new LeaseLostError(lease);
  }

  async forget(lease: Lease): Promise<void> {
    const result = await this.db
      .delete(idempotencyKeys)
      .where(and(byLease(lease), eq(idempotencyKeys.status, "in_progress")));
    if (affectedRows(result) !== 1) throw new LeaseLostError(lease);
  }

  async abandoned(idleSince: Date, limit: number): Promise<IdempotencyRecord[]> {
    const rows = await this.db
      .select()
      .from(idempotencyKeys)
      .where(
        and(
          eq(idempotencyKeys.status, "in_progress"),
          or(
            lt(idempotencyKeys.lockedUntil, idleSince),
            and(isNull(idempotencyKeys.lockedUntil), lt(idempotencyKeys.firstSeenAt, idleSince)),
          ),
          gt(idempotencyKeys.expiresAt, this.now()),
        ),
      )
      .orderBy(asc(idempotencyKeys.lockedUntil))
      .limit(limit);
    return rows.map(toRecord);
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
