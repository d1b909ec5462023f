/**
 * Background work through real servers: nothing stays unresolved when nobody comes back, one server at a time
 * runs it, and the reconciler repairs a stray charge once. Its own database, provider and two app servers, with
 * a short lease and interval, so the stated bound (lease + one interval) is seconds.
 */
import { execFile } from "node:child_process";
import { randomUUID } from "node:crypto";
import { promisify } from "node:util";
import { and, eq } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { openDatabase } from "@/db/client";
import { idempotencyKeys, orders, payments, reconciliationRepairs, refunds } from "@/db/schema";
import { type AppServer, startAppServer, testSessionSecret } from "@/testing/app-server";
import { type ProviderServer, providerAuth, startProviderServer } from "@/testing/provider-server";
import { ShopClient } from "@/testing/shop-client";
import { createTestDatabase, type TestDatabase } from "@/testing/test-database";

const run = promisify(execFile);
const leaseMs = 1000;
const intervalMs = 300;
/** The stated bound, plus room for a pass that is itself waiting on the provider. */
const settleWithinMs = leaseMs + intervalMs + 2500;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe("background work (completer, reconciler, one runner across servers)", () => {
  let appDatabase: TestDatabase;
  let providerDatabase: TestDatabase;
  let provider: ProviderServer;
  let servers: AppServer[] = [];
  let db: ReturnType<typeof openDatabase>;

  const appEnv = () => ({
    DATABASE_URL: appDatabase.appUrl,
    PAYMENT_PROVIDER_URL: provider.url,
    PAYMENT_PROVIDER_TIMEOUT_MS: "500",
    IDEMPOTENCY_LEASE_MS: String(leaseMs),
    BACKGROUND_INTERVAL_MS: String(intervalMs),
    RECONCILE_INTERVAL_MS: "1000",
  });

  beforeAll(async () => {
    [appDatabase, providerDatabase] = await Promise.all([
      createTestDatabase("bg"),
      createTestDatabase("bgprov", "provider"),
    ]);
    provider = await startProviderServer({ port: 3260, databaseUrl: providerDatabase.appUrl, faultControl: true });
    servers = await Promise.all([3261, 3262].map((port) => startAppServer({ port, env: appEnv() })));
    db = openDatabase(appDatabase.appUrl);
  }, 90_000);

  afterAll(async () => {
    await Promise.all(servers.map((server) => server.stop()));
    await provider?.stop();
    await db?.close();
    await Promise.all([appDatabase?.drop(), providerDatabase?.drop()]);
  });

  async function shopperWithOrder() {
    const shopper = new ShopClient(servers[0]?.url as string);
    await shopper.signIn();
    const placed = await shopper.mutation("orders.place", {
      idempotencyKey: randomUUID(),
      items: [{ productId: 1, quantity: 2 }],
    });
    return { shopper, orderId: placed.data.order.id as number, totalCents: placed.data.order.totalCents as number };
  }

  /** Polls until `check` holds, failing once the bound has passed. */
  async function within<T>(ms: number, read: () => Promise<T>, check: (value: T) => boolean): Promise<T> {
    const deadline = Date.now() + ms;
    for (;;) {
      const value = await read();
      if (check(value)) return value;
      if (Date.now() > deadline) return value;
      await sleep(100);
    }
  }

  const keyStatus = async (key: string) =>
    (await db.db.select().from(idempotencyKeys).where(eq(idempotencyKeys.idempotencyKey, key)))[0]?.status;

  it("settles a payment whose provider failed and whose client never came back, within the lease plus one interval", async () => {
    const { shopper, orderId } = await shopperWithOrder();
    const key = randomUUID();
    const failed = await shopper.mutation("payments.pay", { idempotencyKey: key, orderId, card: "4000000000000119" });
    expect(failed.status).toBe(503);
    const settledAt = Date.now();
    const order = await within(
      settleWithinMs,
      async () => (await db.db.select().from(orders).where(eq(orders.id, orderId)))[0],
      (row) => row?.status === "awaiting_payment",
    );
    expect(order?.status).toBe("awaiting_payment");
    expect(Date.now() - settledAt).toBeLessThan(settleWithinMs);
    const [payment] = await db.db.select().from(payments).where(eq(payments.orderId, orderId));
    expect(payment).toMatchObject({ status: "failed", declineCode: "not_completed" });
    expect(await keyStatus(key)).toBe("completed");
  });

  it("records a charge whose answer was lost when the client never retries: the order ends paid", async () => {
    const { shopper, orderId } = await shopperWithOrder();
    const lost = await shopper.mutation("payments.pay", {
      idempotencyKey: randomUUID(),
      orderId,
      card: "4000000000000259",
    });
    expect(lost.status).toBe(504);
    const order = await within(
      settleWithinMs,
      async () => (await db.db.select().from(orders).where(eq(orders.id, orderId)))[0],
      (row) => row?.status === "paid",
    );
    expect(order?.status).toBe("paid");
    expect((await provider.chargesFor(orderId)).filter((charge) => charge.status === "succeeded")).toHaveLength(1);
  });

  it("settles a refund stranded by a provider outage once the provider is back, giving its amount back", async () => {
    const { shopper, orderId } = await shopperWithOrder();
    const paid = await shopper.mutation("payments.pay", {
      idempotencyKey: randomUUID(),
      orderId,
      card: "4242424242424242",
    });
    const paymentId = paid.data.payment.id as number;
    await provider.setFaults({ latencyMs: 0, failureRate: 1 });
    const key = randomUUID();
    const merchant = new ShopClient(shopper.baseUrl);
    await merchant.signInAsMerchant();
    const stranded = await merchant.mutation("payments.refund", { idempotencyKey: key, paymentId, amountCents: 700 });
    expect(stranded.status).toBe(503);
    await sleep(leaseMs + 2 * intervalMs);
    const [stillPending] = await db.db.select().from(refunds).where(eq(refunds.paymentId, paymentId));
    expect(stillPending?.status).toBe("pending");
    await provider.setFaults({ latencyMs: 0, failureRate: 0 });

    const refund = await within(
      settleWithinMs,
      async () => (await db.db.select().from(refunds).where(eq(refunds.paymentId, paymentId)))[0],
      (row) => row?.status !== "pending",
    );
    expect(refund).toMatchObject({ status: "failed", failureCode: "not_completed" });
    const [payment] = await db.db.select().from(payments).where(eq(payments.id, paymentId));
    expect(payment?.refundedCents).toBe(0);
    expect(await keyStatus(key)).toBe("completed");
  });

  it("refunds a stray provider charge once, recorded, and a second reconciliation finds nothing to do", async () => {
    const stray = await fetch(`${provider.url}/v1/charges`, {
      method: "POST",
      headers: { "content-type": "application/json", "idempotency-key": `stray-${randomUUID()}`, ...providerAuth },
      body: JSON.stringify({ amountCents: 1234, currency: "EUR", cardNumber: "4242424242424242", reference: "stray" }),
    });
    const charge = (await stray.json()) as { id: string };
    const repair = await within(
      settleWithinMs + 1000,
      async () =>
        (
          await db.db
            .select()
            .from(reconciliationRepairs)
            .where(and(eq(reconciliationRepairs.providerObjectId, charge.id), eq(reconciliationRepairs.status, "done")))
        )[0],
      (row) => row !== undefined,
    );
    expect(repair, servers.map((server) => server.output()).join("\n")).toMatchObject({
      amountCents: 1234,
      kind: "stray_charge_refunded",
    });
    const atProvider = await (
      await fetch(`${provider.url}/v1/charges?reference=stray`, { headers: providerAuth })
    ).json();
    expect(atProvider.data[0].refundedCents).toBe(1234);

    const again = await run("node_modules/.bin/tsx", ["scripts/reconcile.ts"], {
      env: { ...process.env, ...appEnv(), SESSION_SECRET: testSessionSecret },
    });
    expect(again.stdout).toMatch(/0 repaired, 0 discrepancies/);
  });

  it("runs the background work in one server at a time, and another takes over when it dies", async () => {
    const runners = () => servers.filter((server) => server.output().includes("now runs the background work"));
    expect(runners()).toHaveLength(1);
    const [runner] = runners();
    const survivor = servers.find((server) => server !== runner) as AppServer;
    await runner?.stop("crash");
    const takenOver = await within(
      3 * intervalMs + 2 * intervalMs + 2000,
      async () => survivor.output().includes("now runs the background work"),
      (value) => value,
    );
    expect(takenOver).toBe(true);
  });
});
