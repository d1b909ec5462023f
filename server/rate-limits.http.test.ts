/**
 * Per-client limits through HTTP against a production server with small budgets: each answers 429 with
 * Retry-After, does nothing, stores nothing, and holds across servers (the budgets live in the database).
 */
import { randomUUID } from "node:crypto";
import { count, eq } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { openDatabase } from "@/db/client";
import { customers, idempotencyKeys, orders } from "@/db/schema";
import { type AppServer, startAppServer } from "@/testing/app-server";
import { testMerchant } from "@/testing/merchant";
import { ShopClient } from "@/testing/shop-client";

const databaseUrl = inject("databaseUrl");
const database = openDatabase(databaseUrl);
let serverA: AppServer;
let serverB: AppServer;

beforeAll(async () => {
  const env = {
    DATABASE_URL: databaseUrl,
    RATE_LIMIT_WRITES_PER_MINUTE: "3",
    RATE_LIMIT_SESSIONS_PER_MINUTE: "2",
    RATE_LIMIT_LOGINS_PER_HOUR: "3",
  };
  [serverA, serverB] = await Promise.all([startAppServer({ port: 3270, env }), startAppServer({ port: 3271, env })]);
}, 60_000);

afterAll(async () => {
  await Promise.all([serverA?.stop(), serverB?.stop()]);
  await database.close();
});

/** A client at its own made-up address, as the proxy in front of the shop would report it. */
function clientAt(address: string) {
  return { "x-forwarded-for": address };
}

function expectLimited(result: { status: number; headers: Headers; data: { data: { code: string } } }) {
  expect(result.status).toBe(429);
  expect(result.data.data.code).toBe("TOO_MANY_REQUESTS");
  expect(Number(result.headers.get("retry-after"))).toBeGreaterThan(0);
}

describe("rate limits", () => {
  it("limits each guest's writes across servers: the one over budget gets 429, places nothing, stores no key", async () => {
    const shopper = new ShopClient(serverA.url);
    const customerId = await shopper.signIn();
    const place = (server: AppServer, idempotencyKey: string) =>
      shopper.on(server.url).mutation("orders.place", { idempotencyKey, items: [{ productId: 1, quantity: 1 }] });
    for (const server of [serverA, serverB, serverA]) expect((await place(server, randomUUID())).status).toBe(200);
    const key = randomUUID();
    const limited = await place(serverB, key);
    expectLimited(limited);
    expect(limited.data.data.retryAfterMs).toBeGreaterThan(0);
    const [placed] = await database.db.select({ n: count() }).from(orders).where(eq(orders.customerId, customerId));
    expect(placed?.n).toBe(3);
    const [record] = await database.db.select().from(idempotencyKeys).where(eq(idempotencyKeys.idempotencyKey, key));
    expect(record).toBeUndefined();

    // Another guest has a budget of its own.
    const other = new ShopClient(serverA.url);
    await other.signIn();
    const fresh = { idempotencyKey: randomUUID(), items: [{ productId: 1, quantity: 1 }] };
    expect((await other.mutation("orders.place", fresh)).status).toBe(200);
  });

  it("limits new guest sessions per client address, and a refused one leaves no cookie and no row", async () => {
    const address = `198.51.100.${Math.floor(Math.random() * 250) + 1}`;
    const before = (await database.db.select({ n: count() }).from(customers))[0]?.n;
    const newSession = (server: AppServer, from = address) =>
      fetch(`${server.url}/api/trpc/session.me`, { headers: clientAt(from) });
    expect((await newSession(serverA)).status).toBe(200);
    expect((await newSession(serverB)).status).toBe(200);
    const limited = await newSession(serverA);
    expect(limited.status).toBe(429);
    expect(Number(limited.headers.get("retry-after"))).toBeGreaterThan(0);
    expect(limited.headers.get("set-cookie")).toBeNull();
    expect((await newSession(serverA, "203.0.113.7")).status).toBe(200);
    expect((await database.db.select({ n: count() }).from(customers))[0]?.n).toBe(before);
  });

  it("limits merchant sign-in attempts per email, so even the right password waits once the budget is spent", async () => {
    const guesser = new ShopClient(serverA.url);
    for (let attempt = 0; attempt < 3; attempt++) {
      const wrong = await guesser.mutation(
        "merchant.login",
        { email: testMerchant.email, password: `guess-${attempt}` },
        clientAt(`192.0.2.${attempt + 1}`),
      );
      expect(wrong.status).toBe(401);
    }
    const limited = await guesser.mutation("merchant.login", testMerchant, clientAt("192.0.2.99"));
    expectLimited(limited);
    expect(limited.headers.get("set-cookie")).toBeNull();
  });
});
