/** The app's Redis connection: batched writes keep every reply with its command, and every command is bounded. */
import { once } from "node:events";
import { Redis } from "ioredis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type RedisServer, startRedisServer } from "@/testing/redis-server";
import { openRedis, redisTimeoutMs } from "./redis";

let server: RedisServer;
let redis: Redis;

beforeAll(async () => {
  server = await startRedisServer(6394);
  redis = openRedis(server.url);
  await once(redis, "ready");
});

afterAll(async () => {
  redis?.disconnect();
  await server?.stop();
});

describe("openRedis", () => {
  it("answers each command of a tick's batch with its own reply", async () => {
    const keys = Array.from({ length: 200 }, (_, index) => `batch:${index}`);
    await Promise.all(keys.map((key, index) => redis.set(key, String(index))));
    expect(await Promise.all(keys.map((key) => redis.get(key)))).toEqual(keys.map((_, index) => String(index)));
  });

  it("fails a command Redis does not answer in time, and later commands still get their own replies", async () => {
    await redis.set("late", "first");
    const admin = new Redis(server.url);
    try {
      // Redis holds every client's commands for 2 s: longer than the bound.
      await admin.call("CLIENT", "PAUSE", "2000", "ALL");
      const started = Date.now();
      await expect(redis.get("late")).rejects.toThrow(`Redis did not answer within ${redisTimeoutMs} ms`);
      const waited = Date.now() - started;
      expect(waited).toBeGreaterThanOrEqual(redisTimeoutMs - 50);
      expect(waited).toBeLessThan(redisTimeoutMs * 1.5);
    } finally {
      admin.disconnect();
    }
    // The overdue GET's reply arrives after the pause and is matched to it, not to these.
    await redis.set("after", "second");
    expect(await redis.get("after")).toBe("second");
    expect(await redis.get("late")).toBe("first");
  });
});
