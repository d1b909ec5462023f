/**
 * orders.place through HTTP with the default MySQL store: the shared scenarios (orders-conformance.ts), and what
 * only a store inside the business database gives: a crash before commit leaves neither key nor order.
 */
import { randomUUID } from "node:crypto";
import { count, eq } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { openDatabase } from "@/db/client";
import { idempotencyKeys } from "@/db/schema";
import { type AppServer, startAppServer } from "@/testing/app-server";
import { ShopClient } from "@/testing/shop-client";
import { cart, describeOrderPlacement, ordersWithKey } from "./orders-conformance";

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

async function keysOf(customerId: string) {
  const [row] = await database.db
    .select({ n: count() })
    .from(idempotencyKeys)
    .where(eq(idempotencyKeys.customerId, customerId));
  return row?.n ?? 0;
}

describeOrderPlacement("MySQL", database, () => ({ serverA, serverB, storedKeys: keysOf }));

describe("orders.place with the MySQL store", () => {
  it("leaves nothing behind when the server dies between claim and commit, and the retry succeeds", async () => {
    const crashing = await startAppServer({
      port: 3203,
      env: { DATABASE_URL: databaseUrl, ENABLE_FAULT_INJECTION: "true" },
    });
    const shopper = new ShopClient(crashing.url);
    const customerId = await shopper.signIn();
    const key = randomUUID();
    await expect(
      shopper.mutation(
        "orders.place",
        { idempotencyKey: key, ...cart },
        { "x-fault-crash-at": "orders.place:before-commit" },
      ),
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
