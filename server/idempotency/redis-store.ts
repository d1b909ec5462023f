/**
 * The Redis store (IDEMPOTENCY_STORE=redis). Each (scope, key) has two Redis keys:
 *
 * - the record, a hash (procedurePath, fingerprint, status, recoveryPoint, owner, leaseUntil, outcome,
 *   firstSeenAt, expiresAt) that expires with the retention TTL, counted from the first claim;
 * - the lease, `SET lease owner NX PX leaseMs`: it vanishes on its own when its holder stops renewing it, which
 *   is what lets a retry take over.
 *
 * Every operation is one round trip: `read` is one HGETALL, the others are Lua scripts, so each check-and-write
 * is atomic. The `owner` field fences writes: only the holder's token may advance, complete or release.
 * Times come from Redis (`TIME`), one clock for every app server.
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

const now = `
local time = redis.call('TIME')
local now = tonumber(time[1]) * 1000 + math.floor(tonumber(time[2]) / 1000)
local function ms(value) return string.format('%.0f', value) end
`;

/**
 * KEYS: record, lease. ARGV: owner token, procedure path, fingerprint, lease ms, retention ms, first recovery point.
 * Returns {1, now} for a new key, {1, fields} for a takeover, {0, fields} for someone else's record.
 */
const claimScript = `
local status = redis.call('HGET', KEYS[1], 'status')
if status == 'completed' then return {0, redis.call('HGETALL', KEYS[1])} end
${now}
local leaseUntil = ms(now + tonumber(ARGV[4]))
if not status then
  redis.call('HSET', KEYS[1], 'procedurePath', ARGV[2], 'fingerprint', ARGV[3], 'status', 'in_progress',
    'recoveryPoint', ARGV[6], 'owner', ARGV[1], 'leaseUntil', leaseUntil,
    'firstSeenAt', ms(now), 'expiresAt', ms(now + tonumber(ARGV[5])))
  redis.call('PEXPIRE', KEYS[1], ARGV[5])
  -- A lease left over from a record past its retention goes with it: the key is as good as new.
  redis.call('SET', KEYS[2], ARGV[1], 'PX', ARGV[4])
  return {1, now}
end
if redis.call('HGET', KEYS[1], 'fingerprint') == ARGV[3] and redis.call('SET', KEYS[2], ARGV[1], 'NX', 'PX', ARGV[4]) then
  redis.call('HSET', KEYS[1], 'owner', ARGV[1], 'leaseUntil', leaseUntil)
  return {1, redis.call('HGETALL', KEYS[1])}
end
return {0, redis.call('HGETALL', KEYS[1])}
`;

/** KEYS: record, lease. ARGV: owner token, recovery point, lease ms. Returns 1, or 0 when the lease is not held. */
const advanceScript = `
if redis.call('HGET', KEYS[1], 'owner') ~= ARGV[1] then return 0 end
${now}
redis.call('HSET', KEYS[1], 'recoveryPoint', ARGV[2], 'leaseUntil', ms(now + tonumber(ARGV[3])))
redis.call('SET', KEYS[2], ARGV[1], 'PX', ARGV[3])
return 1
`;

/** KEYS: record, lease. ARGV: owner token, outcome JSON, final recovery point. The record keeps its TTL. */
const completeScript = `
if redis.call('HGET', KEYS[1], 'owner') ~= ARGV[1] then return 0 end
redis.call('HSET', KEYS[1], 'status', 'completed', 'recoveryPoint', ARGV[3], 'outcome', ARGV[2])
redis.call('HDEL', KEYS[1], 'owner', 'leaseUntil')
redis.call('DEL', KEYS[2])
return 1
`;

/**
 * KEYS: record, lease. ARGV: owner token, first recovery point. Keeps the recovery point; the next claim takes over
 * at once. A key released before any step was recorded is forgotten instead: there is nothing to resume, and like
 * a claim rolled back with the business transaction in MySQL, it binds no request (a corrected retry may reuse it).
 */
const releaseScript = `
if redis.call('HGET', KEYS[1], 'owner') ~= ARGV[1] then return 0 end
if redis.call('HGET', KEYS[1], 'recoveryPoint') == ARGV[2] then
  redis.call('DEL', KEYS[1], KEYS[2])
  return 1
end
redis.call('HDEL', KEYS[1], 'owner', 'leaseUntil')
redis.call('DEL', KEYS[2])
return 1
`;

type Fields = Record<string, string>;
type ClaimReply = [claimed: 0 | 1, nowOrFields: number | string[]];

interface Scripts {
  idempotencyClaim(record: string, lease: string, ...args: (string | number)[]): Promise<ClaimReply>;
  idempotencyAdvance(
    record: string,
    lease: string,
    owner: string,
    recoveryPoint: string,
    leaseMs: number,
  ): Promise<0 | 1>;
  idempotencyComplete(
    record: string,
    lease: string,
    owner: string,
    outcome: string,
    finalPoint: string,
  ): Promise<0 | 1>;
  idempotencyRelease(record: string, lease: string, owner: string, firstPoint: string): Promise<0 | 1>;
}

/**
 * The record key and its lease key. The length prefix keeps (scope, key) pairs from running together; the braces
 * are a hash tag, so both keys of a pair share a Redis Cluster slot as a script touching both requires.
 */
export function redisKeys(ref: KeyRef): { record: string; lease: string } {
  const record = `idem:{${ref.scope.length}:${ref.scope}:${ref.key}}`;
  return { record, lease: `${record}:lease` };
}

function toFields(flat: string[]): Fields {
  const fields: Fields = {};
  for (let index = 0; index < flat.length; index += 2) fields[flat[index] as string] = flat[index + 1] as string;
  return fields;
}

function toRecord(ref: KeyRef, fields: Fields): IdempotencyRecord {
  return {
    scope: ref.scope,
    key: ref.key,
    procedurePath: fields.procedurePath as string,
    fingerprint: fields.fingerprint as string,
    status: fields.status as IdempotencyRecord["status"],
    recoveryPoint: fields.recoveryPoint as string,
    leaseExpiresAt: fields.leaseUntil === undefined ? null : new Date(Number(fields.leaseUntil)),
    outcome: fields.outcome === undefined ? null : (JSON.parse(fields.outcome) as StoredOutcome),
    firstSeenAt: new Date(Number(fields.firstSeenAt)),
    expiresAt: new Date(Number(fields.expiresAt)),
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
  /** A claim is one round trip that also returns a completed record, so reading first would only add one. */
  readonly claimIsSingleRoundTrip = true;
  private readonly redis: Redis & Scripts;
  private connected?: Promise<void>;

  constructor(redis: Redis) {
    redis.defineCommand("idempotencyClaim", { numberOfKeys: 2, lua: claimScript });
    redis.defineCommand("idempotencyAdvance", { numberOfKeys: 2, lua: advanceScript });
    redis.defineCommand("idempotencyComplete", { numberOfKeys: 2, lua: completeScript });
    redis.defineCommand("idempotencyRelease", { numberOfKeys: 2, lua: releaseScript });
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
    const fields = await this.run(() => this.redis.hgetall(redisKeys(ref).record));
    return fields.status === undefined ? null : toRecord(ref, fields);
  }

  async claim(request: ClaimRequest): Promise<ClaimResult> {
    const { record, lease: leaseKey } = redisKeys(request);
    const lease: Lease = { scope: request.scope, key: request.key, ownerToken: randomUUID() };
    let reply: ClaimReply;
    try {
      reply = await this.run(() =>
        this.redis.idempotencyClaim(
          record,
          leaseKey,
          lease.ownerToken,
          request.procedurePath,
          request.fingerprint,
          request.leaseMs,
          request.retentionMs,
          initialRecoveryPoint,
        ),
      );
    } catch (error) {
      // A claim that timed out may still run later and hold the key for a request that has already answered.
      // Commands on one connection run in order, so a release sent after it undoes it; it is a no-op otherwise.
      if (error instanceof StoreUnavailableError) this.release(lease).catch(() => undefined);
      throw error;
    }
    const [claimed, detail] = reply;
    if (typeof detail === "number") {
      const firstSeenAt = new Date(detail);
      return {
        outcome: "claimed",
        lease,
        record: {
          scope: request.scope,
          key: request.key,
          procedurePath: request.procedurePath,
          fingerprint: request.fingerprint,
          status: "in_progress",
          recoveryPoint: initialRecoveryPoint,
          leaseExpiresAt: new Date(detail + request.leaseMs),
          outcome: null,
          firstSeenAt,
          expiresAt: new Date(detail + request.retentionMs),
        },
      };
    }
    const existing = toRecord(request, toFields(detail));
    return claimed === 1 ? { outcome: "claimed", lease, record: existing } : { outcome: "existing", record: existing };
  }

  async advance(lease: Lease, recoveryPoint: string, leaseMs: number): Promise<void> {
    const { record, lease: leaseKey } = redisKeys(lease);
    const held = await this.run(() =>
      this.redis.idempotencyAdvance(record, leaseKey, lease.ownerToken, recoveryPoint, leaseMs),
    );
    if (held !== 1) throw new LeaseLostError(lease);
  }

  async complete(lease: Lease, outcome: StoredOutcome): Promise<void> {
    const { record, lease: leaseKey } = redisKeys(lease);
    const held = await this.run(() =>
      this.redis.idempotencyComplete(record, leaseKey, lease.ownerToken, JSON.stringify(outcome), finalRecoveryPoint),
    );
    if (held !== 1) throw new LeaseLostError(lease);
  }

  async release(lease: Lease): Promise<void> {
    const { record, lease: leaseKey } = redisKeys(lease);
    const held = await this.run(() =>
      this.redis.idempotencyRelease(record, leaseKey, lease.ownerToken, initialRecoveryPoint),
    );
    if (held !== 1) throw new LeaseLostError(lease);
  }
}
