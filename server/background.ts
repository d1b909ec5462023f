/**
 * Background work that runs by itself in every app server, with exactly one active runner across all of them:
 * each interval, a server takes or renews the `background` lease row in the database (the database's clock
 * decides, so servers' clocks need not agree); only its holder runs the passes. A runner that dies stops
 * renewing, and another server takes over once the lease (three intervals) has run out. The passes are safe to
 * overlap anyway: each payment, refund and key is finished under its own idempotency lease.
 *
 * - completer, every interval: pending payments and refunds and unfinished keys past their lease;
 * - retention purge, every interval: expired keys (MySQL store; Redis expires its own) and rate-limit budgets;
 * - reconciler, every RECONCILE_INTERVAL_MS.
 */
import { randomUUID } from "node:crypto";
import { sql } from "drizzle-orm";
import type { Database } from "@/db/client";
import { openDatabase } from "@/db/client";
import type { Env } from "./env";
import { type IdempotencySettings, MysqlIdempotencyStore } from "./idempotency";
import type { RedisConnection } from "./idempotency/redis-store";
import { separateIdempotencySettings } from "./idempotency-settings";
import { purgeExpiredRateLimits } from "./rate-limits";
import { openConfiguredRedis } from "./redis";
import { completeAbandonedWork } from "./services/completer";
import type { PaymentProvider } from "./services/payment-provider";
import { configuredProvider } from "./services/payment-provider";
import { reconcile } from "./services/reconciler";

export interface BackgroundDependencies {
  db: Database;
  provider: PaymentProvider;
  settings: IdempotencySettings;
  env: Pick<Env, "BACKGROUND_INTERVAL_MS" | "RECONCILE_INTERVAL_MS">;
  log?: (line: string) => void;
}

const job = "background";

/** Takes the lease if it is free or lapsed, renews it if ours; true while this runner holds it. */
export async function holdLease(db: Database, ownerToken: string, leaseMs: number): Promise<boolean> {
  await db.execute(sql`
    INSERT INTO background_leases (job, owner_token, locked_until)
    VALUES (${job}, ${ownerToken}, NOW(3) + INTERVAL ${leaseMs * 1000} MICROSECOND)
    ON DUPLICATE KEY UPDATE
      owner_token = IF(locked_until < NOW(3) OR owner_token = VALUES(owner_token), VALUES(owner_token), owner_token),
      locked_until = IF(owner_token = VALUES(owner_token), VALUES(locked_until), locked_until)`);
  const [rows] = (await db.execute(sql`SELECT owner_token FROM background_leases WHERE job = ${job}`)) as unknown as [
    { owner_token: string }[],
  ];
  return rows[0]?.owner_token === ownerToken;
}

/** Starts the loop; returns a function that stops it (and waits for a pass under way). */
export function startBackgroundWork(deps: BackgroundDependencies): () => Promise<void> {
  const { db, provider, settings, env } = deps;
  const log = deps.log ?? ((line: string) => console.log(line));
  const ownerToken = randomUUID();
  const intervalMs = env.BACKGROUND_INTERVAL_MS;
  let lastReconciled = 0;
  let running: Promise<void> = Promise.resolve();
  let stopped = false;

  let holding = false;
  async function pass() {
    const held = await holdLease(db, ownerToken, intervalMs * 3);
    if (held !== holding)
      log(held ? "background: this server now runs the background work" : "background: handed over");
    holding = held;
    if (!held) return;
    const reports = await completeAbandonedWork({ db, provider, settings });
    for (const report of reports) {
      log(`background: ${report.subject}: ${report.outcome}${report.detail ? ` (${report.detail})` : ""}`);
    }
    if (settings.store instanceof MysqlIdempotencyStore) await settings.store.purgeExpired(1000);
    await purgeExpiredRateLimits(db);
    if (Date.now() - lastReconciled >= env.RECONCILE_INTERVAL_MS) {
      const report = await reconcile({ db, provider });
      lastReconciled = Date.now();
      for (const line of [...report.repairs, ...report.discrepancies]) log(`reconciler: ${line}`);
    }
  }

  // Each pass is scheduled when the previous one ends, so a slow pass never piles up behind another.
  let timer: NodeJS.Timeout | undefined;
  const loop = async () => {
    running = pass().catch((error: unknown) => {
      log(`background: pass failed, retrying next interval: ${error instanceof Error ? error.message : error}`);
    });
    await running;
    if (!stopped) timer = setTimeout(loop, intervalMs).unref();
  };
  timer = setTimeout(loop, intervalMs).unref();
  return async () => {
    stopped = true;
    clearTimeout(timer);
    await running;
  };
}

/**
 * This server's background loop. It opens its own small pool, store and Redis connection rather than sharing the
 * request handlers', so that background passes never wait behind a burst of requests for a connection.
 */
export function startAppBackgroundWork(env: Env): () => Promise<void> {
  const database = openDatabase(env.DATABASE_URL, {
    poolSize: 2,
    lockWaitTimeoutSeconds: env.IDEMPOTENCY_WAIT_MS / 1000,
  });
  let redis: RedisConnection | undefined;
  const stop = startBackgroundWork({
    db: database.db,
    provider: configuredProvider(env),
    settings: separateIdempotencySettings(database.db, env, () => {
      redis ??= openConfiguredRedis(env);
      return redis;
    }),
    env,
  });
  return async () => {
    await stop();
    await Promise.all([database.close(), redis?.quit()]);
  };
}
