/**
 * The Redis store (IDEMPOTENCY_STORE=redis, Redis 7 or newer). Each (scope, key) is one string: the lease holder's
 * owner token, then the record as JSON (procedurePath, fingerprint, status, recoveryPoint, leaseUntil while held,
 * the outcome once completed, firstSeenAt and expiresAt). It expires with the retention TTL, counted from the first
 * claim; later writes keep that TTL.
 *
 * Every operation is one round trip:
 * - claim is `SET key record NX GET PX retention`: it creates the key with the caller's lease, or leaves it alone
 *   and returns it, so a replay costs this one command. The PX is the retention, not the lease: an unfinished key
 *   must outlive a lapsed lease, so that the retry taking it over resumes from its recovery point.
 * - read is one GET.
 * - Every other write (taking over a lapsed lease, advance, complete, release) is one compare-and-set Lua script
 *   on the owner token that starts the value: it replaces the record only while that token still holds it, so a
 *   holder whose lease was taken over, or anyone with a made-up token, changes nothing.
 *
 * Times come from the app's clock, as in the MySQL store (servers are NTP-synchronised; leases are seconds long).
 *
 * Redis lives outside the business database, so `runClaimed` claims, runs the business transaction it is given
 * (`transact`), and completes after the commit. If the store is lost in between, the business unique indexes
 * stop a second write.
 */
import { randomUUID } from "node:crypto";
import type { ChainableCommander, Cluster, Redis } from "ioredis";
import { ReplyError } from "ioredis";
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
  OutcomeNotRecordedError,
  type StoredOutcome,
  StoreUnavailableError,
  type Transact,
} from "./store";

/** The JSON kept under a key, after the owner token. Times are epoch milliseconds. */
interface StoredRecord {
  procedurePath: string;
  fingerprint: string;
  status: IdempotencyRecord["status"];
  recoveryPoint: string;
  leaseUntil?: number;
  outcome?: StoredOutcome;
  firstSeenAt: number;
  expiresAt: number;
}

/**
 * A value is the lease holder's owner token (36 characters, or `noOwner`) followed by the record's JSON (and a
 * success's body, see `written`), so a script can fence a write by comparing the first 36 bytes, without parsing
 * JSON inside Redis and without the caller sending the whole previous value.
 */
const tokenLength = 36;
const noOwner = "-".repeat(tokenLength);

/** A record as written: the value's text and its parts. */
interface Written {
  raw: string;
  owner: string;
  record: StoredRecord;
}

/**
 * KEYS: record. ARGV: the owner token the value must start with, its replacement ('' deletes the key).
 * Returns 1 once replaced, otherwise the current value (nil when the key is gone).
 */
const compareAndSetScript = `
local current = redis.call('GET', KEYS[1])
if not current or string.sub(current, 1, ${tokenLength}) ~= ARGV[1] then return current end
if ARGV[2] == '' then
  redis.call('DEL', KEYS[1])
else
  redis.call('SET', KEYS[1], ARGV[2], 'KEEPTTL')
end
return 1
`;

interface Scripts {
  idempotencyCompareAndSet(key: string, owner: string, replacement: string): Promise<1 | string | null>;
}

interface PipelinedScripts {
  idempotencyCompareAndSet(key: string, owner: string, replacement: string): ChainableCommander;
}

/** One Redis server (with or without replicas), or a Redis Cluster: the store runs the same one-key commands. */
export type RedisConnection = Redis | Cluster;

/** How long a write waits for its replicas' confirmation (within the connection's own command timeout). */
export const confirmWithinMs = 500;

/** The Redis key of a (scope, key) pair; the scope's length keeps pairs from running together. */
export function redisKey(ref: KeyRef): string {
  return `idem:${ref.scope.length}:${ref.scope}:${ref.key}`;
}

/** The (scope, key) pair a Redis key names, or null for a key that is not ours. */
export function refOfRedisKey(redisKeyName: string): KeyRef | null {
  const match = /^idem:(\d+):/.exec(redisKeyName);
  if (!match?.[1]) return null;
  const start = match[0].length;
  const scope = redisKeyName.slice(start, start + Number(match[1]));
  if (redisKeyName[start + scope.length] !== ":") return null;
  return { scope, key: redisKeyName.slice(start + scope.length + 1) };
}

/** The record's JSON, with an error outcome inside it; a success's body is kept apart (see `written`). */
function recordJson(record: StoredRecord, outcome: StoredOutcome | undefined): string {
  return JSON.stringify({ ...record, outcome });
}

/**
 * A success's body is JSON text already: it follows the record's JSON after a newline (which that JSON never
 * holds: its strings are escaped), so it is neither escaped when written nor unescaped when read.
 */
function written(owner: string, record: StoredRecord): Written {
  const { outcome } = record;
  const raw =
    outcome?.kind === "success"
      ? `${owner}${recordJson(record, undefined)}\n${outcome.body}`
      : owner + recordJson(record, outcome);
  return { raw, owner, record };
}

function parsed(raw: string): Written {
  const owner = raw.slice(0, tokenLength);
  const bodyAt = raw.indexOf("\n", tokenLength);
  if (bodyAt === -1) return { raw, owner, record: JSON.parse(raw.slice(tokenLength)) as StoredRecord };
  const record = JSON.parse(raw.slice(tokenLength, bodyAt)) as StoredRecord;
  record.outcome = { kind: "success", body: raw.slice(bodyAt + 1) };
  return { raw, owner, record };
}

function toRecord(ref: KeyRef, stored: StoredRecord): IdempotencyRecord {
  return {
    scope: ref.scope,
    key: ref.key,
    procedurePath: stored.procedurePath,
    fingerprint: stored.fingerprint,
    status: stored.status,
    recoveryPoint: stored.recoveryPoint,
    leaseExpiresAt: stored.leaseUntil === undefined ? null : new Date(stored.leaseUntil),
    outcome: stored.outcome ?? null,
    firstSeenAt: new Date(stored.firstSeenAt),
    expiresAt: new Date(stored.expiresAt),
  };
}

/** The record without a lease: what release and complete leave behind. */
function unleased({ leaseUntil: _leaseUntil, ...record }: StoredRecord): StoredRecord {
  return record;
}

/** The bound on each command (server/redis.ts): a Cluster keeps it in the options of its node connections. */
function commandTimeoutOf(redis: RedisConnection): number {
  const options = redis.isCluster ? (redis as Cluster).options.redisOptions : (redis as Redis).options;
  return options?.commandTimeout ?? 1000;
}

/** Redis answers that mean "not now" rather than "wrong": fail closed like an outage. */
const unavailableReply = /^(LOADING|BUSY|MASTERDOWN|READONLY|TRYAGAIN|CLUSTERDOWN|OOM|NOREPLICAS)\b/;

/** Connection failures, timeouts and "not now" replies become StoreUnavailableError; anything else is a bug. */
function storeError(error: unknown): unknown {
  if (error instanceof ReplyError && !unavailableReply.test((error as Error).message)) return error;
  const reason = error instanceof Error ? error.message : String(error);
  return new StoreUnavailableError(`The Redis idempotency store is unavailable: ${reason}`, { cause: error });
}

export class RedisIdempotencyStore<Business> implements IdempotencyStore<Business> {
  /** A claim returns a completed record in its one command, so reading first would only add a round trip. */
  private readonly redis: RedisConnection & Scripts;
  private connected?: Promise<void>;
  /** What this store last wrote under each lease it handed out; a lease it never handed out holds nothing. */
  private readonly held = new WeakMap<Lease, Written>();

  /**
   * `transact` opens the business database's transactions for `runClaimed`. `now` is the clock leases are judged
   * by (tests pass their own, as for the MySQL store); retention is Redis's own key expiry, on Redis's clock.
   * `confirmingReplicas`: how many replicas must have every write before it counts (`WAIT`, sent behind the write
   * on its connection). A primary's replica takes over when it fails, and Redis replicates after answering, so
   * without it an acknowledged claim can vanish in a failover and a duplicate then runs. A write they do not
   * confirm in time fails closed, as an outage does. 0 for a Redis without replicas.
   */
  constructor(
    redis: RedisConnection,
    private readonly transact: Transact<Business>,
    private readonly now: () => number = Date.now,
    private readonly confirmingReplicas = 0,
  ) {
    redis.defineCommand("idempotencyCompareAndSet", { numberOfKeys: 1, lua: compareAndSetScript });
    this.redis = redis as RedisConnection & Scripts;
  }

  /**
   * A write as one command, or, with replicas to confirm it, pipelined with `WAIT` on the same connection.
   * `wrote` tells from the reply whether anything was written: a reply that changed nothing needs no replica.
   */
  private async write<T>(
    alone: () => Promise<T>,
    pipelined: (pipeline: ChainableCommander) => ChainableCommander,
    wrote: (reply: T) => boolean,
  ): Promise<T> {
    if (this.confirmingReplicas === 0) return alone();
    const replies = await pipelined(this.redis.pipeline()).wait(this.confirmingReplicas, confirmWithinMs).exec();
    const [[writeError, reply], [waitError, replicas]] = replies as [[Error | null, T], [Error | null, number]];
    if (writeError) throw writeError;
    if (!wrote(reply)) return reply;
    if (waitError) throw waitError;
    if (replicas < this.confirmingReplicas) {
      throw new StoreUnavailableError(
        `A write was not confirmed by ${this.confirmingReplicas} replica(s) within ${confirmWithinMs} ms`,
      );
    }
    return reply;
  }

  private setIfAbsent(key: string, value: string, retentionMs: number): Promise<string | null> {
    return this.write(
      () => this.redis.set(key, value, "PX", retentionMs, "NX", "GET"),
      (pipeline) => pipeline.set(key, value, "PX", retentionMs, "NX", "GET"),
      (previous) => previous === null,
    );
  }

  private compareAndSet(key: string, owner: string, replacement: string): Promise<1 | string | null> {
    return this.write(
      () => this.redis.idempotencyCompareAndSet(key, owner, replacement),
      (pipeline) =>
        (pipeline as ChainableCommander & PipelinedScripts).idempotencyCompareAndSet(key, owner, replacement),
      (result) => result === 1,
    );
  }

  /** Commands are not queued while disconnected, so a call waits (bounded) for the connection instead. */
  private async untilConnected(): Promise<void> {
    this.connected ??= new Promise((resolve) =>
      this.redis.once("ready", () => {
        this.connected = undefined;
        resolve();
      }),
    );
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () => reject(new StoreUnavailableError(`Redis is not connected (${this.redis.status})`)),
        // As long as a command may take: the connection's own bound (see server/redis.ts).
        commandTimeoutOf(this.redis),
      );
    });
    try {
      await Promise.race([this.connected, timeout]);
    } finally {
      clearTimeout(timer);
    }
  }

  private run<T>(command: () => Promise<T>): Promise<T> {
    let sent: Promise<T>;
    try {
      sent = this.redis.status === "ready" ? command() : this.untilConnected().then(command);
    } catch (error) {
      return Promise.reject(storeError(error));
    }
    return sent.catch((error: unknown) => {
      throw storeError(error);
    });
  }

  async read(ref: KeyRef): Promise<IdempotencyRecord | null> {
    const raw = await this.run(() => this.redis.get(redisKey(ref)));
    return raw === null ? null : toRecord(ref, parsed(raw).record);
  }

  async claim(request: ClaimRequest): Promise<ClaimResult> {
    const key = redisKey(request);
    const lease: Lease = { scope: request.scope, key: request.key, ownerToken: randomUUID() };
    const now = this.now();
    const fresh = written(lease.ownerToken, {
      procedurePath: request.procedurePath,
      fingerprint: request.fingerprint,
      status: "in_progress",
      recoveryPoint: initialRecoveryPoint,
      leaseUntil: now + request.leaseMs,
      firstSeenAt: now,
      expiresAt: now + request.retentionMs,
    });
    let raw: string | null;
    try {
      raw = await this.run(() => this.setIfAbsent(key, fresh.raw, request.retentionMs));
    } catch (error) {
      // A claim that timed out may still run later and hold the key for a request that has already answered.
      // Commands on one connection run in order, so a delete sent after it undoes it; it is a no-op otherwise.
      if (error instanceof StoreUnavailableError) {
        this.held.set(lease, fresh);
        this.forget(lease).catch(() => undefined);
      }
      throw error;
    }
    if (raw === null) {
      this.held.set(lease, fresh);
      return { outcome: "claimed", lease, record: toRecord(request, fresh.record) };
    }

    const existing = parsed(raw);
    if (!mayTakeOver(toRecord(request, existing.record), request.fingerprint, now)) {
      return { outcome: "existing", record: toRecord(request, existing.record) };
    }
    const taken = written(lease.ownerToken, { ...existing.record, leaseUntil: now + request.leaseMs });
    const result = await this.run(() => this.compareAndSet(key, existing.owner, taken.raw));
    if (result === 1) {
      this.held.set(lease, taken);
      return { outcome: "claimed", lease, record: toRecord(request, taken.record) };
    }
    // Gone (its retention passed) or changed by another request since it was read: let the caller look again.
    return result === null
      ? { outcome: "busy" }
      : { outcome: "existing", record: toRecord(request, parsed(result).record) };
  }

  /**
   * Replaces the lease's record (or deletes it, given null) if the lease's owner token still holds it: a holder
   * that was taken over, or anyone with a made-up token, changes nothing. The store builds the replacement from
   * the record it last wrote under the lease, so only the token and the new value travel.
   */
  private async replace(
    lease: Lease,
    next: (record: StoredRecord) => { owner: string; record: StoredRecord } | null,
  ): Promise<void> {
    const current = this.held.get(lease);
    if (!current || current.owner !== lease.ownerToken) throw new LeaseLostError(lease);
    const replacement = next(current.record);
    const update = replacement === null ? null : written(replacement.owner, replacement.record);
    const result = await this.run(() => this.compareAndSet(redisKey(lease), lease.ownerToken, update?.raw ?? ""));
    if (result !== 1) {
      this.held.delete(lease);
      throw new LeaseLostError(lease);
    }
    if (update === null || update.owner === noOwner) this.held.delete(lease);
    else this.held.set(lease, update);
  }

  async runClaimed(
    request: ClaimRequest,
    work: (business: Business) => Promise<string>,
  ): Promise<ClaimedRun | ClaimRefused> {
    const claim = await this.claim(request);
    if (claim.outcome !== "claimed") return claim;
    let body: string;
    try {
      body = await this.transact(work);
    } catch (error) {
      // Rolled back: nothing was done under the key, so it binds nothing (as a claim rolled back with it would not).
      await this.forget(claim.lease).catch(() => undefined);
      throw error;
    }
    try {
      await this.complete(claim.lease, { kind: "success", body });
    } catch (error) {
      if (error instanceof LeaseLostError) throw error;
      throw new OutcomeNotRecordedError("The outcome of committed work could not be stored in Redis", { cause: error });
    }
    return { outcome: "ran", record: claim.record, body };
  }

  advance(lease: Lease, recoveryPoint: string, leaseMs: number): Promise<void> {
    return this.replace(lease, (record) => ({
      owner: lease.ownerToken,
      record: { ...record, recoveryPoint, leaseUntil: this.now() + leaseMs },
    }));
  }

  complete(lease: Lease, outcome: StoredOutcome): Promise<void> {
    return this.replace(lease, (record) => ({
      owner: noOwner,
      // Spelled out rather than spread: this runs on every first execution, and copying by spread costs more.
      record: {
        procedurePath: record.procedurePath,
        fingerprint: record.fingerprint,
        status: "completed",
        recoveryPoint: finalRecoveryPoint,
        outcome,
        firstSeenAt: record.firstSeenAt,
        expiresAt: record.expiresAt,
      },
    }));
  }

  forget(lease: Lease): Promise<void> {
    return this.replace(lease, () => null);
  }

  /**
   * Walks the keyspace with SCAN (a few hundred keys a step, never blocking Redis) until `limit` unfinished,
   * unheld keys are found or the walk ends: the background resumer's pass costs O(keys), which retention bounds.
   */
  async abandoned(idleSince: Date, limit: number): Promise<IdempotencyRecord[]> {
    const found: IdempotencyRecord[] = [];
    const now = this.now();
    const idle = idleSince.getTime();
    // A Cluster's keys are spread over its primaries: each is walked in turn, and its keys read one by one (MGET
    // refuses keys of different slots even on one node).
    const primaries = this.redis.isCluster ? (this.redis as Cluster).nodes("master") : [this.redis as Redis];
    for (const node of primaries) {
      let cursor = "0";
      do {
        const [next, names] = await this.run(() => node.scan(cursor, "MATCH", "idem:*", "COUNT", 500));
        cursor = next;
        const values =
          names.length === 0
            ? []
            : await this.run(() =>
                this.redis.isCluster ? Promise.all(names.map((name) => node.get(name))) : node.mget(names),
              );
        names.forEach((name, index) => {
          const raw = values[index];
          const ref = refOfRedisKey(name);
          if (!raw || !ref || found.length >= limit) return;
          const { owner, record } = parsed(raw);
          const lastTouched = owner === noOwner ? record.firstSeenAt : (record.leaseUntil ?? 0);
          const idleLongEnough = lastTouched < idle && (owner === noOwner || lastTouched <= now);
          if (record.status === "in_progress" && idleLongEnough) found.push(toRecord(ref, record));
        });
      } while (cursor !== "0" && found.length < limit);
      if (found.length >= limit) break;
    }
    return found;
  }

  /** Keeps the recovery point; the next claim takes over at once. */
  release(lease: Lease): Promise<void> {
    return this.replace(lease, (record) => ({ owner: noOwner, record: unleased(record) }));
  }
}
