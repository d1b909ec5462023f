/**
 * payments.pay, payments.refund and orders.get through HTTP: production servers, the simulated provider as its
 * own process, the database as the judge. Every test counts the provider's charges for its order. Written once;
 * each idempotency store's test file runs it: `describePayments("MySQL", { storeEnv: () => ({}), ports })`.
 */
import { execFile } from "node:child_process";
import { randomUUID } from "node:crypto";
import { promisify } from "node:util";
import { eq } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { openDatabase } from "@/db/client";
import { idempotencyKeys, orders, payments } from "@/db/schema";
import { type AppServer, startAppServer, testSessionSecret } from "@/testing/app-server";
import { type ProviderServer, startProviderServer } from "@/testing/provider-server";
import { ShopClient } from "@/testing/shop-client";
import { createTestDatabase, type TestDatabase } from "@/testing/test-database";

const run = promisify(execFile);
const cards = {
  ok: "4242424242424242",
  declined: "4000000000000002",
  providerError: "4000000000000119",
  lostResponse: "4000000000000259",
};

export interface PaymentSuiteOptions {
  /** The idempotency store's variables for every server and the completer (empty for the default MySQL). */
  storeEnv: () => Record<string, string>;
  /** Four free ports: the provider, two app servers, and one server that crashes. */
  ports: [number, number, number, number];
}

export function describePayments(storeName: string, options: PaymentSuiteOptions) {
  const databaseUrl = inject("databaseUrl");
  const database = openDatabase(databaseUrl);
  const [providerPort, portA, portB, crashPort] = options.ports;
  let providerDatabase: TestDatabase;
  let provider: ProviderServer;
  let serverA: AppServer;
  let serverB: AppServer;

  beforeAll(async () => {
    providerDatabase = await createTestDatabase("provider", "provider");
    provider = await startProviderServer({ port: providerPort, databaseUrl: providerDatabase.appUrl });
    const env = { DATABASE_URL: databaseUrl, PAYMENT_PROVIDER_URL: provider.url, ...options.storeEnv() };
    [serverA, serverB] = await Promise.all([
      startAppServer({ port: portA, env }),
      startAppServer({ port: portB, env }),
    ]);
  }, 90_000);

  afterAll(async () => {
    await Promise.all([serverA?.stop(), serverB?.stop()]);
    await provider?.stop();
    await providerDatabase?.drop();
    await database.close();
  });

  async function shopperWithOrder(server = serverA) {
    const shopper = new ShopClient(server.url);
    await shopper.signIn();
    const placed = await shopper.mutation("orders.place", {
      idempotencyKey: randomUUID(),
      items: [{ productId: 1, quantity: 2 }],
    });
    expect(placed.status).toBe(200);
    return { shopper, orderId: placed.data.order.id as number, totalCents: placed.data.order.totalCents as number };
  }

  const succeededCharges = async (orderId: number) =>
    (await provider.chargesFor(orderId)).filter((charge) => charge.status === "succeeded");

  describe(`payments.pay (${storeName} store)`, () => {
    it("charges once, settles the order, and replays the receipt", async () => {
      const { shopper, orderId, totalCents } = await shopperWithOrder();
      const input = { idempotencyKey: randomUUID(), orderId, card: cards.ok };
      const paid = await shopper.mutation("payments.pay", input);
      expect(paid.status).toBe(200);
      expect(paid.data.payment).toMatchObject({
        orderId,
        status: "succeeded",
        amountCents: totalCents,
        cardLast4: "4242",
      });
      const replay = await shopper.on(serverB.url).mutation("payments.pay", input);
      expect(replay.headers.get("idempotent-replayed")).toBe("true");
      expect(replay.data.payment).toEqual(paid.data.payment);

      expect(await succeededCharges(orderId)).toHaveLength(1);
      const view = await shopper.query("orders.get", { orderId });
      expect(view.data.order.status).toBe("paid");
      expect(view.data.payments).toEqual([paid.data.payment]);
    });

    it("charges once for 20 concurrent requests with one key across two servers", async () => {
      const { shopper, orderId } = await shopperWithOrder();
      const input = { idempotencyKey: randomUUID(), orderId, card: cards.ok };
      const results = await Promise.all(
        Array.from({ length: 20 }, (_, index) =>
          shopper.on(index % 2 ? serverA.url : serverB.url).mutation("payments.pay", input),
        ),
      );
      const successes = results.filter((result) => result.status === 200);
      expect(successes.length).toBeGreaterThan(0);
      expect(new Set(successes.map((result) => JSON.stringify(result.data.payment))).size).toBe(1);
      for (const other of results.filter((result) => result.status !== 200)) {
        expect(other.data.data.code).toBe("CONFLICT");
      }
      expect(await succeededCharges(orderId)).toHaveLength(1);
    });

    it("stores a decline and replays it as the same error; a new key with another card then pays", async () => {
      const { shopper, orderId } = await shopperWithOrder();
      const declinedInput = { idempotencyKey: randomUUID(), orderId, card: cards.declined };
      const declined = await shopper.mutation("payments.pay", declinedInput);
      expect(declined.status).toBe(402);
      expect(declined.data.data).toMatchObject({
        code: "PAYMENT_REQUIRED",
        payment: { declineCode: "generic_decline" },
      });
      expect(declined.data.message).toMatch(/declined.*try another card/);
      const replay = await shopper.mutation("payments.pay", declinedInput);
      expect(replay.status).toBe(402);
      expect(replay.headers.get("idempotent-replayed")).toBe("true");
      expect(replay.data.message).toBe(declined.data.message);
      expect(await provider.chargesFor(orderId)).toHaveLength(1);

      const paid = await shopper.mutation("payments.pay", { idempotencyKey: randomUUID(), orderId, card: cards.ok });
      expect(paid.status).toBe(200);
      expect(await succeededCharges(orderId)).toHaveLength(1);
    });

    it("answers 503 when the provider fails before charging, and the same key stays retryable", async () => {
      const { shopper, orderId } = await shopperWithOrder();
      const input = { idempotencyKey: randomUUID(), orderId, card: cards.providerError };
      for (const attempt of [1, 2]) {
        const result = await shopper.mutation("payments.pay", input);
        expect(result.status, `attempt ${attempt}`).toBe(503);
        expect(result.data.message).toMatch(/nothing was charged/);
      }
      expect(await provider.chargesFor(orderId)).toHaveLength(0);
    });

    it("finds the charge whose answer was lost instead of charging again", async () => {
      const { shopper, orderId } = await shopperWithOrder();
      const input = { idempotencyKey: randomUUID(), orderId, card: cards.lostResponse };
      const lost = await shopper.mutation("payments.pay", input);
      expect(lost.status).toBe(504);
      expect(lost.data.message).toMatch(/will not be charged twice/);
      const [charge] = await succeededCharges(orderId);
      expect(charge).toBeDefined();

      const retry = await shopper.on(serverB.url).mutation("payments.pay", input);
      expect(retry.status).toBe(200);
      expect(retry.data.payment).toMatchObject({ status: "succeeded", providerChargeId: charge?.id });
      expect(await succeededCharges(orderId)).toHaveLength(1);
    });

    it("refuses a card that is not a test card, and never stores or fingerprints a full card number", async () => {
      const { shopper, orderId } = await shopperWithOrder();
      const refused = await shopper.mutation("payments.pay", {
        idempotencyKey: randomUUID(),
        orderId,
        card: "5555555555554444",
      });
      expect(refused.status).toBe(400);
      const key = randomUUID();
      await shopper.mutation("payments.pay", { idempotencyKey: key, orderId, card: cards.ok });
      const [record] = await database.db.select().from(idempotencyKeys).where(eq(idempotencyKeys.idempotencyKey, key));
      const [payment] = await database.db.select().from(payments).where(eq(payments.orderId, orderId));
      const stored = JSON.stringify({ record, payment });
      expect(stored).not.toContain(cards.ok);
      expect(stored).toContain('"cardLast4":"4242"');
    });

    it("answers NOT_FOUND for someone else's order, for paying and for reading", async () => {
      const { orderId } = await shopperWithOrder();
      const stranger = new ShopClient(serverA.url);
      await stranger.signIn();
      const pay = await stranger.mutation("payments.pay", { idempotencyKey: randomUUID(), orderId, card: cards.ok });
      expect(pay.status).toBe(404);
      expect((await stranger.query("orders.get", { orderId })).status).toBe(404);
      expect(await provider.chargesFor(orderId)).toHaveLength(0);
    });

    it("finishes a payment whose server crashed after charging, with the completer and no client retry", async () => {
      const crashing = await startAppServer({
        port: crashPort,
        env: {
          DATABASE_URL: databaseUrl,
          PAYMENT_PROVIDER_URL: provider.url,
          ENABLE_FAULT_INJECTION: "true",
          IDEMPOTENCY_LEASE_MS: "1500",
          ...options.storeEnv(),
        },
      });
      const { shopper, orderId } = await shopperWithOrder(crashing);
      const input = { idempotencyKey: randomUUID(), orderId, card: cards.ok };
      await expect(
        shopper.mutation("payments.pay", input, { "x-fault-crash-at": "payments.pay:charge_attempted" }),
      ).rejects.toThrow();
      await crashing.stop();
      expect(await succeededCharges(orderId)).toHaveLength(1);
      const [pending] = await database.db.select().from(payments).where(eq(payments.orderId, orderId));
      expect(pending?.status).toBe("pending");

      await new Promise((resolve) => setTimeout(resolve, 1600));
      const completer = await run("node_modules/.bin/tsx", ["scripts/completer.ts"], {
        env: {
          ...process.env,
          DATABASE_URL: databaseUrl,
          SESSION_SECRET: testSessionSecret,
          PAYMENT_PROVIDER_URL: provider.url,
          IDEMPOTENCY_LEASE_MS: "1500",
          ...options.storeEnv(),
        },
      });
      expect(completer.stdout).toContain(`payment ${pending?.id}: succeeded`);
      const [order] = await database.db.select().from(orders).where(eq(orders.id, orderId));
      expect(order?.status).toBe("paid");

      const retry = await shopper.on(serverA.url).mutation("payments.pay", input);
      expect(retry.status).toBe(200);
      expect(retry.data.idempotency.replayed).toBe(true);
      expect(await succeededCharges(orderId)).toHaveLength(1);
    });
  });

  describe(`payments.refund (${storeName} store)`, () => {
    async function paidOrder() {
      const { shopper, orderId, totalCents } = await shopperWithOrder();
      const paid = await shopper.mutation("payments.pay", { idempotencyKey: randomUUID(), orderId, card: cards.ok });
      return { shopper, paymentId: paid.data.payment.id as number, totalCents };
    }

    it("refunds part of a payment once per key", async () => {
      const { shopper, paymentId } = await paidOrder();
      const input = { idempotencyKey: randomUUID(), paymentId, amountCents: 500 };
      const first = await shopper.mutation("payments.refund", input);
      const replay = await shopper.mutation("payments.refund", input);
      expect(first.status).toBe(200);
      expect(first.data.refund).toMatchObject({ paymentId, amountCents: 500, status: "succeeded" });
      expect(replay.data.refund).toEqual(first.data.refund);
      const [payment] = await database.db.select().from(payments).where(eq(payments.id, paymentId));
      expect(payment?.refundedCents).toBe(500);
    });

    it("never lets concurrent refunds under different keys exceed the payment", async () => {
      const { shopper, paymentId, totalCents } = await paidOrder();
      const results = await Promise.all(
        Array.from({ length: 6 }, () =>
          shopper.mutation("payments.refund", { idempotencyKey: randomUUID(), paymentId, amountCents: 1000 }),
        ),
      );
      const refunded = results.filter((result) => result.status === 200).length;
      expect(refunded).toBe(Math.floor(totalCents / 1000));
      for (const refused of results.filter((result) => result.status !== 200)) {
        expect(refused.data.data.code).toBe("UNPROCESSABLE_CONTENT");
      }
      const [payment] = await database.db.select().from(payments).where(eq(payments.id, paymentId));
      expect(payment?.refundedCents).toBe(refunded * 1000);
    });
  });
}
