/**
 * orders.place through HTTP with IDEMPOTENCY_STORE=redis: the shared scenarios (orders-conformance.ts) on two
 * servers sharing a private redis-server, then what happens when that Redis fails or restarts empty.
 */
import { randomUUID } from "node:crypto";
import { count, eq } from "drizzle-orm";
import type { Redis } from "ioredis";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { openDatabase } from "@/db/client";
import { idempotencyKeys, orders, products } from "@/db/schema";
import { type AppServer, startAppServer } from "@/testing/app-server";
import { cart, describeOrderPlacement, ordersWithKey } from "@/testing/conformance/orders";
import { deferred } from "@/testing/deferred";
import { type RedisServer, startRedisServer } from "@/testing/redis-server";
import { ShopClient } from "@/testing/shop-client";
import { redisKey } from "../idempotency";
import { openRedis } from "../redis";

const databaseUrl = inject("databaseUrl");
const database = openDatabase(databaseUrl);
let redisServer: RedisServer;
let redis: Redis;
let serverA: AppServer;
let serverB: AppServer;

beforeAll(async () => {
  redisServer = await startRedisServer(6392);
  redis = openRedis(redisServer.url);
  const env = { DATABASE_URL: databaseUrl, IDEMPOTENCY_STORE: "redis", REDIS_URL: redisServer.url };
  [serverA, serverB] = await Promise.all([startAppServer({ port: 3401, env }), startAppServer({ port: 3402, env })]);
}, 60_000);

afterAll(async () => {
  await Promise.all([serverA?.stop(), serverB?.stop()]);
  redis?.disconnect();
  await redisServer?.stop();
  await database.close();
});

/** How many idempotency keys a customer has in Redis. */
async function redisKeysOf(customerId: string): Promise<number> {
  const pattern = redisKey({ scope: customerId, key: "*" });
  let found = 0;
  let cursor = "0";
  do {
    const [next, keys] = await redis.scan(cursor, "MATCH", pattern, "COUNT", 1000);
    found += keys.length;
    cursor = next;
  } while (cursor !== "0");
  return found;
}

async function ordersOf(customerId: string): Promise<number> {
  const [row] = await database.db.select({ n: count() }).from(orders).where(eq(orders.customerId, customerId));
  return row?.n ?? 0;
}

async function until(condition: () => Promise<boolean>, what: string): Promise<void> {
  const deadline = Date.now() + 10_000;
  // The test's own connection may still be reconnecting after a restart: that is "not yet", not a failure.
  while (!(await condition().catch(() => false))) {
    if (Date.now() > deadline) throw new Error(`timed out waiting until ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

describeOrderPlacement("Redis", database, () => ({ serverA, serverB, storedKeys: redisKeysOf }));

describe("orders.place with the Redis store", () => {
  it("keeps its keys in Redis, not in MySQL", async () => {
    const shopper = new ShopClient(serverA.url);
    const customerId = await shopper.signIn();
    const placed = await shopper.mutation("orders.place", { idempotencyKey: randomUUID(), ...cart });
    expect(placed.status).toBe(200);
    expect(await redisKeysOf(customerId)).toBe(1);
    const [row] = await database.db
      .select({ n: count() })
      .from(idempotencyKeys)
      .where(eq(idempotencyKeys.customerId, customerId));
    expect(row?.n).toBe(0);
  });

  it("fails closed while Redis is down: 503s and no order; once it is back, the retry places exactly one", async () => {
    const shopper = new ShopClient(serverA.url);
    const customerId = await shopper.signIn();
    const key = randomUUID();
    expect((await shopper.mutation("orders.place", { idempotencyKey: randomUUID(), ...cart })).status).toBe(200);

    await redisServer.stop();
    const during = await Promise.all(
      [serverA, serverB, serverA, serverB].map((server) =>
        shopper.on(server.url).mutation("orders.place", { idempotencyKey: key, ...cart }),
      ),
    );
    for (const result of during) {
      expect(result.status).toBe(503);
      expect(result.data.data).toMatchObject({ code: "SERVICE_UNAVAILABLE", retryAfterMs: 1000 });
      expect(result.data.message).toMatch(/nothing was done/);
    }
    expect(await ordersOf(customerId)).toBe(1);

    await redisServer.start();
    const retry = await shopper.mutation("orders.place", { idempotencyKey: key, ...cart });
    expect(retry.status).toBe(200);
    expect(retry.data.idempotency.replayed).toBe(false);
    const replay = await shopper.on(serverB.url).mutation("orders.place", { idempotencyKey: key, ...cart });
    expect(replay.data.idempotency.replayed).toBe(true);
    expect(replay.data.order).toEqual(retry.data.order);
    expect(await ordersWithKey(database, customerId, key)).toBe(1);
    expect(await ordersOf(customerId)).toBe(2);
  });

  it("keeps the order whose completion Redis missed, and gives it to the retry after Redis restarts", async () => {
    const shopper = new ShopClient(serverA.url);
    const customerId = await shopper.signIn();
    const key = randomUUID();

    // Holding the product's row makes the order line insert (its foreign-key check) wait after the key is claimed.
    const productReleased = deferred();
    const productLocked = deferred();
    const productId = cart.items[0]?.productId as number;
    const holding = database.db.transaction(async (tx) => {
      await tx.select().from(products).where(eq(products.id, productId)).for("update");
      productLocked.resolve();
      await productReleased.promise;
    });
    await productLocked.promise;
    const placing = shopper.mutation("orders.place", { idempotencyKey: key, ...cart });
    await until(async () => (await redis.exists(redisKey({ scope: customerId, key }))) === 1, "the key is claimed");
    await redisServer.stop();
    productReleased.resolve();
    await holding;

    // The order committed, but its outcome could not be stored: a retryable 503, never a 500.
    const lost = await placing;
    expect(lost.status).toBe(503);
    expect(lost.data.data.code).toBe("SERVICE_UNAVAILABLE");
    expect(lost.data.message).toMatch(/will not be done twice/);
    expect(await ordersWithKey(database, customerId, key)).toBe(1);

    // Redis came back empty: the key is new to it, and the orders unique index hands back the committed order.
    await redisServer.start();
    const retry = await shopper.mutation("orders.place", { idempotencyKey: key, ...cart });
    expect(retry.status).toBe(200);
    expect(retry.data.idempotency.replayed).toBe(false);
    const [placed] = await database.db.select({ id: orders.id }).from(orders).where(eq(orders.customerId, customerId));
    expect(retry.data.order.id).toBe(placed?.id);
    expect(await ordersOf(customerId)).toBe(1);
  });

  it("after a restart without persistence loses every key, a retried key still yields its one order", async () => {
    const shopper = new ShopClient(serverA.url);
    const customerId = await shopper.signIn();
    const input = { idempotencyKey: randomUUID(), ...cart };
    const first = await shopper.mutation("orders.place", input);
    expect(first.status).toBe(200);

    await redisServer.stop();
    await redisServer.start();
    await until(async () => redis.status === "ready", "the test's own client is reconnected");
    expect(await redis.dbsize()).toBe(0);

    const retry = await shopper.on(serverB.url).mutation("orders.place", input);
    expect(retry.status).toBe(200);
    // Redis forgot the key, so this is not a replay; the order is the same one, found by its unique index.
    expect(retry.data.idempotency.replayed).toBe(false);
    expect(JSON.stringify(retry.data.order)).toBe(JSON.stringify(first.data.order));
    expect(await ordersOf(customerId)).toBe(1);
    const replay = await shopper.mutation("orders.place", input);
    expect(replay.data.idempotency.replayed).toBe(true);
    expect(replay.data.order).toEqual(first.data.order);
  });
});
