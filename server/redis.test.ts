/** The app's Redis connection: concurrent commands keep their own replies, and every command is bounded. */
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
  it("answers each of many concurrent commands with its own reply", async () => {
    const keys = Array.from({ length: 200 }, (_, index) => `batch:${index}`);
    await Promise.all(keys.map((key, index) => redis.set(key, String(index))));
    expect(await Promise.all(keys.map((key) => redis.get(key)))).toEqual(keys.map((_, index) => String(index)));
  });

  it("fails a command Redis does not answer in time, and later commands still get their own replies", async () => {
    await redis.set("late", "first");
    const admin = new Redis(server.url);
    try {
      // Redis holds every client's commands for half as long again as the bound: the GET times out, and the
      // commands sent once it has (below) are answered within their own bound.
      await admin.call("CLIENT", "PAUSE", String(redisTimeoutMs * 1.5), "ALL");
      const started = Date.now();
      await expect(redis.get("late")).rejects.toThrow("Command timed out");
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
