/**
 * How this app configures the idempotency layer: which store (IDEMPOTENCY_STORE), its timings, and which of the
 * app's errors are final outcomes. The layer itself reads no environment; it is handed these settings.
 */
import type { Database, Executor } from "@/db/client";
import { storeTransactionDatabase } from "./db";
import type { Env } from "./env";
import { appErrorPolicy } from "./errors";
import {
  CompletedRecordCache,
  type IdempotencySettings,
  type IdempotencyStore,
  MysqlIdempotencyStore,
  RedisIdempotencyStore,
} from "./idempotency";
import type { RedisConnection } from "./idempotency/redis-store";
import { appRedis, confirmingReplicasOf } from "./redis";
import { shareWithSiblingProcesses } from "./shared-replay-cache";

// One store and one replay cache per process, shared by every request (and kept across dev-mode reloads).
const holder = globalThis as typeof globalThis & {
  idempotencyStore?: IdempotencyStore<Executor>;
  completedRecords?: CompletedRecordCache;
};

/**
 * The process's replay cache, shared with the server's other processes. The server makes it at start-up
 * (server/main.ts), so that it hears of every record the others learn, not only those after its first request.
 */
export function processReplayCache(): CompletedRecordCache {
  if (!holder.completedRecords) {
    holder.completedRecords = new CompletedRecordCache();
    shareWithSiblingProcesses(holder.completedRecords);
  }
  return holder.completedRecords;
}

/** The process's idempotency settings, from the environment. */
export function idempotencySettings(db: Database, env: Env): IdempotencySettings<Executor> {
  holder.idempotencyStore ??= storeFor(db, env, appRedis, () => storeTransactionDatabase().db);
  return { ...timings(env), store: holder.idempotencyStore, completed: processReplayCache() };
}

/** Settings with a store of their own, on the connections given (for work that must not share the process's). */
export function separateIdempotencySettings(
  db: Database,
  env: Env,
  redis: () => RedisConnection,
): IdempotencySettings<Executor> {
  return { ...timings(env), store: storeFor(db, env, redis) };
}

/** `transactionDb`: the MySQL store's own pool for its transactions (see MysqlIdempotencyStore), if any. */
function storeFor(
  db: Database,
  env: Env,
  redis: () => RedisConnection,
  transactionDb?: () => Database,
): IdempotencyStore<Executor> {
  if (env.IDEMPOTENCY_STORE === "mysql") return new MysqlIdempotencyStore(db, undefined, transactionDb?.());
  const connection = redis();
  const transact = <R>(work: (business: Executor) => Promise<R>) => db.transaction((tx) => work(tx));
  return new RedisIdempotencyStore<Executor>(connection, transact, undefined, confirmingReplicasOf(connection));
}

function timings(env: Env) {
  return {
    waitMs: env.IDEMPOTENCY_WAIT_MS,
    leaseMs: env.IDEMPOTENCY_LEASE_MS,
    retentionMs: env.IDEMPOTENCY_TTL_HOURS * 3600_000,
    errors: appErrorPolicy,
  };
}
