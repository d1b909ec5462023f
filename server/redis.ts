/**
 * The Redis connection, configured to fail closed: no command waits in an offline queue or is re-sent after a
 * reconnect (a claim sent late could hold a key for a request that already answered), and connecting and every
 * command are bounded by a timeout. A dropped connection is retried forever with a short backoff, so the first
 * request after Redis is back finds it connected.
 */
import { Cluster, Redis } from "ioredis";
import { type Env, env } from "./env";
import type { RedisConnection } from "./idempotency/redis-store";

/** Bounds both connecting and each command; a store call waits at most this long for a connection. */
export const redisTimeoutMs = 1000;

/** Fail closed: no offline queue, no re-sent commands, every wait bounded (see the top of this file). */
const failClosed = {
  connectTimeout: redisTimeoutMs,
  // ioredis fails a command unanswered by then; its late reply, if it comes, is matched to it and dropped.
  commandTimeout: redisTimeoutMs,
  maxRetriesPerRequest: 0,
  enableOfflineQueue: false,
  autoResendUnfulfilledCommands: false,
} as const;

export function openRedis(url: string, { reportOutages = true } = {}): Redis {
  const redis = new Redis(url, {
    ...failClosed,
    // A tick's commands are written together: in `npm run bench:store` about 1.6× the first executions and 1.7×
    // the replays of sending each alone.
    enableAutoPipelining: true,
    // Stays under redisTimeoutMs, so a call waiting for the connection sees the next attempt.
    retryStrategy: (attempt) => Math.min(attempt * 50, 500),
  });
  if (reportOutages) reportOutagesOf(redis, `Redis at ${redis.options.host}:${redis.options.port}`);
  // Its caller expects it down (the lab's "Redis down" pattern): each command's failure reaches the command, and
  // the connection's own errors, unheard, would each be logged as "[ioredis] Unhandled error event".
  else redis.on("error", () => {});
  return redis;
}

/**
 * A Redis Cluster (`REDIS_CLUSTER_NODES`, host:port pairs): the same fail-closed connections to each node. After a
 * failover, a command sent to the old primary fails (503) and the slots are looked up again, so the next one
 * reaches the replica that took over.
 */
export function openRedisCluster(nodes: string): Cluster {
  const startup = nodes.split(",").map((node) => {
    const [host, port] = node.split(":");
    return { host: host as string, port: Number(port) };
  });
  const cluster = new Cluster(startup, {
    redisOptions: failClosed,
    enableOfflineQueue: false,
    enableAutoPipelining: true,
    clusterRetryStrategy: (attempt) => Math.min(attempt * 50, 500),
    // A moved slot is learnt from the MOVED reply at once; this only bounds how stale the map can get otherwise.
    slotsRefreshInterval: 2000,
  });
  reportOutagesOf(cluster, `Redis Cluster at ${nodes}`);
  return cluster;
}

/** The process's kind of Redis, from the environment: a Cluster when REDIS_CLUSTER_NODES is set. */
export function openConfiguredRedis(settings: Pick<Env, "REDIS_URL" | "REDIS_CLUSTER_NODES">): RedisConnection {
  return settings.REDIS_CLUSTER_NODES ? openRedisCluster(settings.REDIS_CLUSTER_NODES) : openRedis(settings.REDIS_URL);
}

/** How many replicas must confirm each write of the store: one on a Cluster, none on a single Redis. */
export function confirmingReplicasOf(redis: RedisConnection): number {
  return redis.isCluster ? 1 : 0;
}

// One line per outage rather than one per reconnect attempt; a URL is left out as it may hold a password.
function reportOutagesOf(redis: RedisConnection, where: string): void {
  let down = false;
  redis.on("error", (error: Error) => {
    if (down) return;
    down = true;
    console.error(`${where} is unreachable (${error.message}): idempotent mutations answer 503 until it is back`);
  });
  redis.on("ready", () => {
    if (!down) return;
    down = false;
    console.error(`${where} is reachable again`);
  });
}

// One connection per server process; kept on globalThis so dev-mode module reloads do not leak connections.
const holder = globalThis as typeof globalThis & { appRedis?: RedisConnection };

export function appRedis(): RedisConnection {
  holder.appRedis ??= openConfiguredRedis(env());
  return holder.appRedis;
}

/** Closes the process's connection, if one was opened (for scripts that must exit when done). */
export async function closeAppRedis(): Promise<void> {
  await holder.appRedis?.quit();
  holder.appRedis = undefined;
}
