import type { Database } from "@/db/client";
import type { Env } from "../env";
import { appRedis } from "../redis";
import { CompletedRecordCache } from "./completed-cache";
import type { IdempotencySettings } from "./execute";
import { MysqlIdempotencyStore } from "./mysql-store";
import { RedisIdempotencyStore } from "./redis-store";
import type { IdempotencyStore } from "./store";

// One store and one replay cache per process, shared by every request (and kept across dev-mode reloads).
const holder = globalThis as typeof globalThis & {
  idempotencyStore?: IdempotencyStore;
  completedRecords?: CompletedRecordCache;
};

/** The process's idempotency settings, from the environment. */
export function idempotencySettings(db: Database, env: Env): IdempotencySettings {
  holder.idempotencyStore ??=
    env.IDEMPOTENCY_STORE === "redis" ? new RedisIdempotencyStore(appRedis()) : new MysqlIdempotencyStore(db);
  holder.completedRecords ??= new CompletedRecordCache();
  return {
    store: holder.idempotencyStore,
    completed: holder.completedRecords,
    waitMs: env.IDEMPOTENCY_WAIT_MS,
    leaseMs: env.IDEMPOTENCY_LEASE_MS,
    retentionMs: env.IDEMPOTENCY_TTL_HOURS * 3600_000,
  };
}
