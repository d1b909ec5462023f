/**
 * The Redis store (IDEMPOTENCY_STORE=redis, Redis 7 or newer). Each (scope, key) is one string holding the record
 * as JSON: procedurePath, fingerprint, status, recoveryPoint, the lease (owner token and leaseUntil) while held,
 * the outcome once completed, firstSeenAt and expiresAt. It expires with the retention TTL, counted from the
 * first claim; later writes keep that TTL.
 *
 * Every operation is one round trip, and the two that every request makes are plain commands:
 * - claim is `SET key record NX GET PX retention`: it creates the key with the caller's lease, or leaves it
 *   alone and returns it, so a replay costs this one command. The PX is the retention, not the lease: an
 *   unfinished key must outlive a lapsed lease, so that the retry taking it over resumes from its recovery point.
 * - read is one GET.
 * Taking over a lapsed lease, advance, complete and release are Lua scripts, each an atomic check-and-write; the
 * last three check the owner token, so only the holder writes.
 *
 * Times come from the app's clock, as in the MySQL store (servers are NTP-synchronised; leases are seconds long).
 *
 * Redis lives outside the business database, so there is no `withinTransaction`: the protocol claims, runs the
 * business transaction, and completes after its commit. If the store is lost in between, the business unique
 * indexes stop a second write.
 */
import { randomUUID } from "node:crypto";
import { type Redis, ReplyError } from "ioredis";
import { redisTimeoutMs } from "../redis";
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
  StoreUnavailableError,
} from "./store";

/** The JSON kept under a key. Times are epoch milliseconds; `outcome` is the StoredOutcome as JSON text. */
interface StoredRecord {
  procedurePath: string;
  fingerprint: string;
  status: IdempotencyRecord["status"];
  recoveryPoint: string;
  owner?: string;
  leaseUntil?: number;
  outcome?: string;
  firstSeenAt: number;
  expiresAt: number;
}

/** KEYS: record. ARGV: the record as the caller read it, the record with the caller's lease. */
const takeOverScript = `
local current = redis.call('GET', KEYS[1])
if current ~= ARGV[1] then return current end
redis.call('SET', KEYS[1], ARGV[2], 'KEEPTTL')
return 1
`;

/** The record if ARGV[1] holds its lease, else nil. Script writes keep the key's TTL. */
const heldRecord = `
local function held()
  local raw = redis.call('GET', KEYS[1])
  if not raw then return nil end
  local record = cjson.decode(raw)
  if record.owner ~= ARGV[1] then return nil end
  return record
end
local function save(record) redis.call('SET', KEYS[1], cjson.encode(record), 'KEEPTTL') end
`;

/** KEYS: record. ARGV: owner token, recovery point, new leaseUntil. Returns 1, or 0 when the lease is not held. */
const advanceScript = `${heldRecord}
local record = held()
if not record then return 0 end
record.recoveryPoint = ARGV[2]
record.leaseUntil = tonumber(ARGV[3])
save(record)
return 1
`;

/** KEYS: record. ARGV: owner token, outcome JSON, final recovery point. */
const completeScript = `${heldRecord}
local record = held()
if not record then return 0 end
record.owner = nil
record.leaseUntil = nil
record.status = 'completed'
record.recoveryPoint = ARGV[3]
record.outcome = ARGV[2]
save(record)
return 1
`;

/**
 * KEYS: record. ARGV: owner token, first recovery point. Keeps the recovery point; the next claim takes over at
 * once. A key released before any step was recorded is forgotten instead: there is nothing to resume, and like
 * a claim rolled back with the business transaction in MySQL, it binds no request (a corrected retry may reuse it).
 */
const releaseScript = `${heldRecord}
local record = held()
if not record then return 0 end
if record.recoveryPoint == ARGV[2] then
  redis.call('DEL', KEYS[1])
  return 1
end
record.owner = nil
record.leaseUntil = nil
save(record)
return 1
`;

interface Scripts {
  idempotencyTakeOver(key: string, seen: string, taken: string): Promise<1 | string | null>;
  idempotencyAdvance(key: string, owner: string, recoveryPoint: string, leaseUntil: number): Promise<0 | 1>;
  idempotencyComplete(key: string, owner: string, outcome: string, finalPoint: string): Promise<0 | 1>;
  idempotencyRelease(key: string, owner: string, firstPoint: string): Promise<0 | 1>;
}

/** The Redis key of a (scope, key) pair; the scope's length keeps pairs from running together. */
export function redisKey(ref: KeyRef): string {
  return `idem:${ref.scope.length}:${ref.scope}:${ref.key}`;
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
    outcome: stored.outcome === undefined ? null : (JSON.parse(stored.outcome) as StoredOutcome),
    firstSeenAt: new Date(stored.firstSeenAt),
    expiresAt: new Date(stored.expiresAt),
  };
}

/** Redis answers that mean "not now" rather than "wrong": fail closed like an outage. */
const unavailableReply = /^(LOADING|BUSY|MASTERDOWN|READONLY|TRYAGAIN|CLUSTERDOWN|OOM|NOREPLICAS)\b/;

/** Connection failures, timeouts and "not now" replies become StoreUnavailableError; anything else is a bug. */
function storeError(error: unknown): unknown {
  if (error instanceof ReplyError && !unavailableReply.test((error as Error).message)) return error;
  const reason = error instanceof Error ? error.message : String(error);
  return new StoreUnavailableError(`The Redis idempotency store is unavailable: ${reason}`, { cause: error });
}

export class RedisIdempotencyStore implements IdempotencyStore {
  /** A claim returns a completed record in its one command, so reading first would only add a round trip. */
  readonly claimIsSingleRoundTrip = true;
  private readonly redis: Redis & Scripts;
  private connected?: Promise<void>;

  constructor(redis: Redis) {
    redis.defineCommand("idempotencyTakeOver", { numberOfKeys: 1, lua: takeOverScript });
    redis.defineCommand("idempotencyAdvance", { numberOfKeys: 1, lua: advanceScript });
    redis.defineCommand("idempotencyComplete", { numberOfKeys: 1, lua: completeScript });
    redis.defineCommand("idempotencyRelease", { numberOfKeys: 1, lua: releaseScript });
    this.redis = redis as Redis & Scripts;
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
        redisTimeoutMs,
      );
    });
    try {
      await Promise.race([this.connected, timeout]);
    } finally {
      clearTimeout(timer);
    }
  }

  private async run<T>(command: () => Promise<T>): Promise<T> {
    if (this.redis.status !== "ready") await this.untilConnected();
    try {
      return await command();
    } catch (error) {
      throw storeError(error);
    }
  }

  async read(ref: KeyRef): Promise<IdempotencyRecord | null> {
    const raw = await this.run(() => this.redis.get(redisKey(ref)));
    return raw === null ? null : toRecord(ref, JSON.parse(raw) as StoredRecord);
  }

  async claim(request: ClaimRequest): Promise<ClaimResult> {
    const key = redisKey(request);
    const lease: Lease = { scope: request.scope, key: request.key, ownerToken: randomUUID() };
    const now = Date.now();
    const fresh: StoredRecord = {
      procedurePath: request.procedurePath,
      fingerprint: request.fingerprint,
      status: "in_progress",
      recoveryPoint: initialRecoveryPoint,
      owner: lease.ownerToken,
      leaseUntil: now + request.leaseMs,
      firstSeenAt: now,
      expiresAt: now + request.retentionMs,
    };
    let raw: string | null;
    try {
      raw = await this.run(() => this.redis.set(key, JSON.stringify(fresh), "PX", request.retentionMs, "NX", "GET"));
    } catch (error) {
      // A claim that timed out may still run later and hold the key for a request that has already answered.
      // Commands on one connection run in order, so a release sent after it undoes it; it is a no-op otherwise.
      if (error instanceof StoreUnavailableError) this.release(lease).catch(() => undefined);
      throw error;
    }
    if (raw === null) return { outcome: "claimed", lease, record: toRecord(request, fresh) };

    const existing = JSON.parse(raw) as StoredRecord;
    const leaseLive = existing.owner !== undefined && (existing.leaseUntil ?? 0) > now;
    if (existing.status === "completed" || existing.fingerprint !== request.fingerprint || leaseLive) {
      return { outcome: "existing", record: toRecord(request, existing) };
    }
    // An unfinished key whose lease lapsed or was released: the same request takes it over, keeping its progress,
    // provided nobody changed it since it was read.
    const taken: StoredRecord = { ...existing, owner: lease.ownerToken, leaseUntil: now + request.leaseMs };
    const result = await this.run(() => this.redis.idempotencyTakeOver(key, raw, JSON.stringify(taken)));
    if (result === 1) return { outcome: "claimed", lease, record: toRecord(request, taken) };
    // Gone (its retention passed) or changed by another request: let the caller look again.
    return result === null
      ? { outcome: "busy" }
      : { outcome: "existing", record: toRecord(request, JSON.parse(result) as StoredRecord) };
  }

  async advance(lease: Lease, recoveryPoint: string, leaseMs: number): Promise<void> {
    const held = await this.run(() =>
      this.redis.idempotencyAdvance(redisKey(lease), lease.ownerToken, recoveryPoint, Date.now() + leaseMs),
    );
    if (held !== 1) throw new LeaseLostError(lease);
  }

  async complete(lease: Lease, outcome: StoredOutcome): Promise<void> {
    const held = await this.run(() =>
      this.redis.idempotencyComplete(redisKey(lease), lease.ownerToken, JSON.stringify(outcome), finalRecoveryPoint),
    );
    if (held !== 1) throw new LeaseLostError(lease);
  }

  async release(lease: Lease): Promise<void> {
    const held = await this.run(() =>
      this.redis.idempotencyRelease(redisKey(lease), lease.ownerToken, initialRecoveryPoint),
    );
    if (held !== 1) throw new LeaseLostError(lease);
  }
}
