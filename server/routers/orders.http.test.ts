/**
 * orders.place through HTTP with the default MySQL store: the shared scenarios (orders-conformance.ts), and what
 * only a store inside the business database gives: a crash before commit leaves neither key nor order.
 */
import { randomUUID } from "node:crypto";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { openDatabase } from "@/db/client";
import { type AppServer, startAppServer, startLabServer } from "@/testing/app-server";
import { cart, describeOrderPlacement, mysqlKeyCount, ordersWithKey } from "@/testing/conformance/orders";
import { ShopClient } from "@/testing/shop-client";

const databaseUrl = inject("databaseUrl");
const database = openDatabase(databaseUrl);
let serverA: AppServer;
let serverB: AppServer;

beforeAll(async () => {
  [serverA, serverB] = await Promise.all([
    startAppServer({ port: 3201, env: { DATABASE_URL: databaseUrl } }),
    startAppServer({ port: 3202, env: { DATABASE_URL: databaseUrl } }),
  ]);
}, 60_000);

afterAll(async () => {
  await Promise.all([serverA?.stop(), serverB?.stop()]);
  await database.close();
});

const keysOf = mysqlKeyCount(database);

describeOrderPlacement("MySQL", database, () => ({ serverA, serverB, storedKeys: keysOf }));

describe("orders.place with the MySQL store", () => {
  it("leaves nothing behind when the server dies between claim and commit, and the retry succeeds", async () => {
    const crashing = await startLabServer({ port: 3203, env: { DATABASE_URL: databaseUrl } });
    const shopper = new ShopClient(crashing.url);
    const customerId = await shopper.signIn();
    const key = randomUUID();
    await expect(
      shopper.mutation("orders.place", { idempotencyKey: key, ...cart }, { "x-fault": "crash:before-commit" }),
    ).rejects.toThrow();
    await crashing.stop();
    expect(crashing.process.signalCode).toBe("SIGKILL");

    expect(await keysOf(customerId)).toBe(0);
    expect(await ordersWithKey(database, customerId, key)).toBe(0);

    const retry = await shopper.on(serverA.url).mutation("orders.place", { idempotencyKey: key, ...cart });
    expect(retry.status).toBe(200);
    expect(retry.data.idempotency.replayed).toBe(false);
    expect(await ordersWithKey(database, customerId, key)).toBe(1);
  });
});

describe("order numbers", () => {
  it("are random, not a count of the shop's orders, and the merchant still pages through them newest first", async () => {
    const shopper = new ShopClient(serverA.url);
    await shopper.signIn();
    const placed: number[] = [];
    for (let n = 0; n < 8; n++) {
      const result = await shopper.mutation("orders.place", { idempotencyKey: randomUUID(), ...cart });
      expect(result.status).toBe(200);
      placed.push(result.data.order.id);
    }
    const steps = placed.slice(1).map((id, index) => id - (placed[index] as number));
    expect(steps.filter((step) => step === 1).length, `order numbers ${placed.join(", ")}`).toBeLessThan(2);
    for (const id of placed) expect(id).toBeGreaterThan(0);

    const merchant = new ShopClient(serverB.url);
    await merchant.signInAsMerchant();
    const seen: number[] = [];
    let before: { createdAt: string; id: number } | undefined;
    for (let page = 0; page < 100; page++) {
      const listed = await merchant.query("merchant.orders", { limit: 3, ...(before ? { before } : {}) });
      expect(listed.status).toBe(200);
      const rows: { id: number; createdAt: string }[] = listed.data.orders;
      seen.push(...rows.map((row) => row.id));
      const last = rows.at(-1);
      if (!listed.data.hasMore || !last) break;
      before = { createdAt: last.createdAt, id: last.id };
    }
    expect(new Set(seen).size, "no order listed twice").toBe(seen.length);
    const positions = placed.map((id) => seen.indexOf(id));
    expect(
      positions.every((position) => position >= 0),
      "every order listed",
    ).toBe(true);
    expect(positions, "newest first").toEqual([...positions].sort((a, b) => b - a));
  });
});
