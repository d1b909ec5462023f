/**
 * orders.place through HTTP against two production servers (`npm start`) sharing one database and one
 * idempotency store, as the contract's outcome table (§2) says. Written once against the HTTP API; each store's
 * test file runs it: `describeOrderPlacement("MySQL", database, () => ({ serverA, serverB, storedKeys }))`.
 */
import { randomUUID } from "node:crypto";
import { and, count, eq } from "drizzle-orm";
import { beforeAll, describe, expect, it } from "vitest";
import type { DatabaseHandle } from "@/db/client";
import { idempotencyKeys, orders } from "@/db/schema";
import { maxQuantity } from "@/shop/limits";
import type { AppServer } from "@/testing/app-server";
import { ShopClient } from "@/testing/shop-client";

export interface OrderPlacementSetup {
  serverA: AppServer;
  serverB: AppServer;
  /** How many idempotency keys the store holds for a customer. */
  storedKeys(customerId: string): Promise<number>;
}

export const cart = { items: [{ productId: 1, quantity: 2 }] };

export async function ordersWithKey(database: DatabaseHandle, customerId: string, key: string): Promise<number> {
  const [row] = await database.db
    .select({ n: count() })
    .from(orders)
    .where(and(eq(orders.customerId, customerId), eq(orders.placementKey, key)));
  return row?.n ?? 0;
}

/** `storedKeys` for the default MySQL store: the customer's rows in its table. */
export function mysqlKeyCount(database: DatabaseHandle): OrderPlacementSetup["storedKeys"] {
  return async (customerId) => {
    const [row] = await database.db
      .select({ n: count() })
      .from(idempotencyKeys)
      .where(eq(idempotencyKeys.customerId, customerId));
    return row?.n ?? 0;
  };
}

export function describeOrderPlacement(storeName: string, database: DatabaseHandle, setup: () => OrderPlacementSetup) {
  describe(`orders.place with an idempotency key (${storeName} store)`, () => {
    let serverA: AppServer;
    let serverB: AppServer;
    let storedKeys: OrderPlacementSetup["storedKeys"];
    beforeAll(() => {
      ({ serverA, serverB, storedKeys } = setup());
    });

    it("places one order for 50 concurrent requests with one key split across two servers", async () => {
      const shopper = new ShopClient(serverA.url);
      const customerId = await shopper.signIn();
      const key = randomUUID();
      const results = await Promise.all(
        Array.from({ length: 50 }, (_, index) =>
          shopper
            .on(index % 2 === 0 ? serverA.url : serverB.url)
            .mutation("orders.place", { idempotencyKey: key, ...cart }),
        ),
      );

      expect(await ordersWithKey(database, customerId, key)).toBe(1);
      const successes = results.filter((result) => result.status === 200);
      const others = results.filter((result) => result.status !== 200);
      // Anything not answered within the wait is a retryable CONFLICT, never a second order or a 500.
      expect(others.map((result) => result.data.data.code)).toEqual(others.map(() => "CONFLICT"));
      expect(successes.length).toBeGreaterThan(0);
      const orderBodies = new Set(successes.map((result) => JSON.stringify(result.data.order)));
      expect(orderBodies.size).toBe(1);
      expect(successes.filter((result) => !result.data.idempotency.replayed)).toHaveLength(1);
      for (const replay of successes.filter((result) => result.data.idempotency.replayed)) {
        expect(replay.headers.get("idempotent-replayed")).toBe("true");
      }
    });

    it("replays the stored answer byte for byte, with the replay marker", async () => {
      const shopper = new ShopClient(serverA.url);
      await shopper.signIn();
      const input = { idempotencyKey: randomUUID(), ...cart };
      const first = await shopper.mutation("orders.place", input);
      const replay = await shopper.on(serverB.url).mutation("orders.place", input);
      expect(first.status).toBe(200);
      expect(first.headers.get("idempotent-replayed")).toBeNull();
      expect(replay.headers.get("idempotent-replayed")).toBe("true");
      expect(JSON.stringify(replay.data.order)).toBe(JSON.stringify(first.data.order));
      expect(replay.data.idempotency).toEqual({ ...first.data.idempotency, replayed: true });
    });

    it("accepts the key as an Idempotency-Key header on a single call, and refuses a differing pair", async () => {
      const shopper = new ShopClient(serverA.url);
      await shopper.signIn();
      const key = randomUUID();
      const viaHeader = await shopper.mutation("orders.place", cart, { "Idempotency-Key": key });
      const viaInput = await shopper.mutation("orders.place", { idempotencyKey: key, ...cart });
      expect(viaHeader.status).toBe(200);
      expect(viaInput.data.order.id).toBe(viaHeader.data.order.id);
      const both = await shopper.mutation("orders.place", { idempotencyKey: key, ...cart }, { "Idempotency-Key": "x" });
      expect(both.status).toBe(400);
    });

    it("answers 422 for the same key with another cart, and places nothing", async () => {
      const shopper = new ShopClient(serverA.url);
      const customerId = await shopper.signIn();
      const key = randomUUID();
      await shopper.mutation("orders.place", { idempotencyKey: key, ...cart });
      const other = await shopper.mutation("orders.place", {
        idempotencyKey: key,
        items: [{ productId: 2, quantity: 1 }],
      });
      expect(other.status).toBe(422);
      expect(other.data.data.code).toBe("UNPROCESSABLE_CONTENT");
      expect(other.data.message).toMatch(/new key/);
      expect(await ordersWithKey(database, customerId, key)).toBe(1);
    });

    it.each([
      ["missing", undefined],
      ["empty", ""],
      ["256 characters", "k".repeat(256)],
      ["non-ASCII", "clé-💳"],
      ["with a space", "two words"],
    ])("answers 400 for a %s key and stores nothing", async (_label, idempotencyKey) => {
      const shopper = new ShopClient(serverA.url);
      const customerId = await shopper.signIn();
      const result = await shopper.mutation("orders.place", { idempotencyKey, ...cart });
      expect(result.status).toBe(400);
      expect(result.data.data.code).toBe("BAD_REQUEST");
      expect(await storedKeys(customerId)).toBe(0);
    });

    it("accepts a 255-character key", async () => {
      const shopper = new ShopClient(serverA.url);
      await shopper.signIn();
      const result = await shopper.mutation("orders.place", { idempotencyKey: "k".repeat(255), ...cart });
      expect(result.status).toBe(200);
    });

    it("answers 400 for bad carts without claiming the key", async () => {
      const shopper = new ShopClient(serverA.url);
      const customerId = await shopper.signIn();
      for (const items of [[], [{ productId: 999_999, quantity: 1 }], [{ productId: 1, quantity: maxQuantity + 1 }]]) {
        const result = await shopper.mutation("orders.place", { idempotencyKey: randomUUID(), items });
        expect(result.status).toBe(400);
      }
      expect(await storedKeys(customerId)).toBe(0);
    });

    it("scopes keys to the customer: B reusing A's key gets its own order and never sees A's", async () => {
      const alice = new ShopClient(serverA.url);
      const bob = new ShopClient(serverB.url);
      await alice.signIn();
      await bob.signIn();
      const key = randomUUID();
      const aliceOrder = await alice.mutation("orders.place", { idempotencyKey: key, ...cart });
      const bobOrder = await bob.mutation("orders.place", {
        idempotencyKey: key,
        items: [{ productId: 3, quantity: 1 }],
      });
      expect(bobOrder.status).toBe(200);
      expect(bobOrder.data.idempotency.replayed).toBe(false);
      expect(bobOrder.data.order.id).not.toBe(aliceOrder.data.order.id);
      expect(bobOrder.data.order.items).toEqual([expect.objectContaining({ productId: 3 })]);
    });
  });
}
