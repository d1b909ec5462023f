/**
 * The Redis connection, configured to fail closed: no command waits in an offline queue or is re-sent after a
 * reconnect (a claim sent late could hold a key for a request that already answered), and connecting and every
 * command are bounded by a timeout. A dropped connection is retried forever with a short backoff, so the first
 * request after Redis is back finds it connected.
 */
import { Redis } from "ioredis";
import { env } from "./env";

/** Bounds both connecting and each command; a store call waits at most this long for a connection. */
export const redisTimeoutMs = 1000;

export function openRedis(url: string, { reportOutages = true } = {}): Redis {
  const redis = new Redis(url, {
    connectTimeout: redisTimeoutMs,
    // ioredis fails a command unanswered by then; its late reply, if it comes, is matched to it and dropped.
    commandTimeout: redisTimeoutMs,
    // A tick's commands are written together: in `npm run bench:store` about 1.6× the first executions and 1.7×
    // the replays of sending each alone.
    enableAutoPipelining: true,
    maxRetriesPerRequest: 0,
    enableOfflineQueue: false,
    autoResendUnfulfilledCommands: false,
    // Stays under redisTimeoutMs, so a call waiting for the connection sees the next attempt.
    retryStrategy: (attempt) => Math.min(attempt * 50, 500),
  });
  // One line per outage rather than one per reconnect attempt; the URL is left out as it may hold a password.
  const where = `Redis at ${redis.options.host}:${redis.options.port}`;
  let down = false;
  redis.on("error", (error: Error) => {
    if (down || !reportOutages) return;
    down = true;
    console.error(`${where} is unreachable (${error.message}): idempotent mutations answer 503 until it is back`);
  });
  redis.on("ready", () => {
    if (!down) return;
    down = false;
    console.error(`${where} is reachable again`);
  });
  return redis;
}

// One connection per server process; kept on globalThis so dev-mode module reloads do not leak connections.
const holder = globalThis as typeof globalThis & { appRedis?: Redis };

export function appRedis(): Redis {
  holder.appRedis ??= openRedis(env().REDIS_URL);
  return holder.appRedis;
}

/** Closes the process's connection, if one was opened (for scripts that must exit when done). */
export async function closeAppRedis(): Promise<void> {
  await holder.appRedis?.quit();
  holder.appRedis = undefined;
}
