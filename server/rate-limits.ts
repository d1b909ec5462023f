/**
 * Per-client request limits, kept in the app's database by rate-limiter-flexible so that every server counts
 * against the same budget. A client over its budget gets 429 TOO_MANY_REQUESTS with Retry-After.
 *
 * Who a client is: a guest by its session, a merchant by its account, and a client without a session (asking
 * for a new one, or signing in) by its address. The address is the first hop of X-Forwarded-For, which
 * the server fills in from the socket when the request does not bring one; deployed behind a proxy, that proxy
 * must set the header itself (overwrite, not append), or clients can pick their own address.
 */
import { lt } from "drizzle-orm";
import { RateLimiterMySQL, RateLimiterRes } from "rate-limiter-flexible";
import type { Executor } from "@/db/client";
import { rateLimits } from "@/db/schema";
import { appDatabase } from "./db";
import { type Env, env } from "./env";
import { appError } from "./errors";

export type RateLimitName = "writes" | "newSessions" | "logins";

interface Budget {
  points: number;
  durationSeconds: number;
}

function budgetOf(name: RateLimitName, settings: Env): Budget {
  switch (name) {
    case "writes":
      return { points: settings.RATE_LIMIT_WRITES_PER_MINUTE, durationSeconds: 60 };
    case "newSessions":
      return { points: settings.RATE_LIMIT_SESSIONS_PER_MINUTE, durationSeconds: 60 };
    case "logins":
      return { points: settings.RATE_LIMIT_LOGINS_PER_HOUR, durationSeconds: 3600 };
  }
}

const holder = globalThis as typeof globalThis & { rateLimiters?: Map<RateLimitName, RateLimiterMySQL | null> };

/** The limiter for one budget, or null when that budget is 0 (turned off). */
function limiter(name: RateLimitName): RateLimiterMySQL | null {
  holder.rateLimiters ??= new Map();
  let found = holder.rateLimiters.get(name);
  if (found === undefined) {
    const settings = env();
    const { points, durationSeconds } = budgetOf(name, settings);
    found =
      points === 0
        ? null
        : new RateLimiterMySQL({
            storeClient: appDatabase().db.$client.pool,
            storeType: "pool",
            dbName: new URL(settings.DATABASE_URL).pathname.slice(1),
            tableName: "rate_limits",
            // Created by the migrations: the app's user may not create tables. Expired rows go with the
            // background retention purge instead of a timer in every process.
            tableCreated: true,
            clearExpiredByTimeout: false,
            keyPrefix: name,
            points,
            duration: durationSeconds,
          });
    holder.rateLimiters.set(name, found);
  }
  return found;
}

/** The client's address as this server was told it (see the module comment). */
export function clientAddress(headers: Headers): string {
  return headers.get("x-forwarded-for")?.split(",")[0]?.trim() || "unknown";
}

/**
 * Counts one request of `client` against the named budget; over it, throws 429 with `retryAfterMs` and sets
 * Retry-After (whole seconds, rounded up).
 */
export async function consumeRateLimit(name: RateLimitName, client: string, resHeaders: Headers): Promise<void> {
  const budget = limiter(name);
  if (!budget) return;
  try {
    await budget.consume(client);
  } catch (rejection) {
    if (!(rejection instanceof RateLimiterRes)) throw rejection;
    const retryAfterSeconds = Math.max(1, Math.ceil(rejection.msBeforeNext / 1000));
    resHeaders.set("retry-after", String(retryAfterSeconds));
    throw appError("TOO_MANY_REQUESTS", `Too many requests. Try again in ${retryAfterSeconds} s.`, {
      retryAfterMs: retryAfterSeconds * 1000,
    });
  }
}

/** Retention: budgets whose window ended an hour ago are gone for good (run by the background work). */
export async function purgeExpiredRateLimits(db: Executor): Promise<number> {
  const [result] = await db.delete(rateLimits).where(lt(rateLimits.expire, Date.now() - 3_600_000));
  return result.affectedRows;
}
