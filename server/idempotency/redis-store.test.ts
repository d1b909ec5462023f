import { Redis } from "ioredis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type RedisServer, startRedisServer } from "@/testing/redis-server";
import { openRedis } from "../redis";
import { RedisIdempotencyStore } from "./redis-store";
import { StoreUnavailableError } from "./store";
import { claimRequest, describeStoreConformance, transactOnBusinessDatabase } from "./store-conformance";

let server: RedisServer;
let redis: Redis;

beforeAll(async () => {
  server = await startRedisServer(6391);
  redis = openRedis(server.url);
});

afterAll(async () => {
  redis?.disconnect();
  await server?.stop();
});

describeStoreConformance(
  "Redis",
  async (clock) => new RedisIdempotencyStore(redis, transactOnBusinessDatabase, () => clock.now().getTime()),
);

const request = () => claimRequest();

describe("Redis store when Redis fails", () => {
  it("fails closed while Redis is down, and serves the next call once it is back", async () => {
    const store = new RedisIdempotencyStore(redis, transactOnBusinessDatabase);
    const req = request();
    await server.stop();
    await expect(store.claim(req)).rejects.toBeInstanceOf(StoreUnavailableError);
    await expect(store.read(req)).rejects.toBeInstanceOf(StoreUnavailableError);
    await server.start();
    expect(await store.claim(req)).toMatchObject({ outcome: "claimed" });
  });

  it("fails closed when Redis answers too slowly, and undoes the claim Redis runs late", async () => {
    const store = new RedisIdempotencyStore(redis, transactOnBusinessDatabase);
    const req = request();
    const admin = new Redis(server.url);
    try {
      // Redis holds every client's commands for 1.5 s: longer than the store's 1 s command timeout.
      await admin.call("CLIENT", "PAUSE", "1500", "ALL");
      await expect(store.claim(req)).rejects.toBeInstanceOf(StoreUnavailableError);
    } finally {
      admin.disconnect();
    }
    // Sent after the late claim and its undo on the same connection, so answered after both: the key is free.
    expect(await store.read(req)).toBeNull();
    expect(await store.claim({ ...req, fingerprint: "b".repeat(64) })).toMatchObject({ outcome: "claimed" });
  });
});
