/**
 * payments.pay, payments.refund and orders.get through HTTP: production servers, the simulated provider as its
 * own process, the database as the judge. Every test counts the provider's charges for its order. Written once;
 * each idempotency store's test file runs it: `describePayments("MySQL", { storeEnv: () => ({}), ports })`.
 */
import { execFile } from "node:child_process";
import { randomUUID } from "node:crypto";
import { promisify } from "node:util";
import { and, eq } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { type DatabaseHandle, openDatabase } from "@/db/client";
import { idempotencyKeys, orders, payments } from "@/db/schema";
import { merchantScope } from "@/server/idempotency";
import { type AppServer, startAppServer, startLabServer, testSessionSecret } from "@/testing/app-server";
import { type ProviderServer, providerAuth, startProviderServer } from "@/testing/provider-server";
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
  /** The record the store in use holds for a key, as text, or null when it holds none. */
  storedRecord: (scope: string, key: string) => Promise<string | null>;
  /** The database each of the two app servers connects to (by default both the run's): nodes of one cluster. */
  serverDatabaseUrls?: () => [string, string];
}

/** `storedRecord` for the default MySQL store: the key's row, as text. */
export function mysqlStoredRecord(database: DatabaseHandle): PaymentSuiteOptions["storedRecord"] {
  return async (scope, key) => {
    const [record] = await database.db
      .select()
      .from(idempotencyKeys)
      .where(and(eq(idempotencyKeys.customerId, scope), eq(idempotencyKeys.idempotencyKey, key)));
    return record ? JSON.stringify(record) : null;
  };
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
    provider = await startProviderServer({
      port: providerPort,
      databaseUrl: providerDatabase.appUrl,
      faultControl: true,
    });
    const env = { DATABASE_URL: databaseUrl, PAYMENT_PROVIDER_URL: provider.url, ...options.storeEnv() };
    const [urlA, urlB] = options.serverDatabaseUrls?.() ?? [databaseUrl, databaseUrl];
    [serverA, serverB] = await Promise.all([
      startAppServer({ port: portA, env: { ...env, DATABASE_URL: urlA } }),
      startAppServer({ port: portB, env: { ...env, DATABASE_URL: urlB } }),
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

  async function merchantOn(server = serverA) {
    const merchant = new ShopClient(server.url);
    await merchant.signInAsMerchant();
    return merchant;
  }

  const succeededCharges = async (orderId: number) =>
    (await provider.chargesFor(orderId)).filter((charge) => charge.status === "succeeded");
  const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
  const healthyProvider = { latencyMs: 0, failureRate: 0 };
  const orderStatus = async (orderId: number) =>
    (await database.db.select().from(orders).where(eq(orders.id, orderId)))[0]?.status;

  /** One pass of `npm run completer`, as cron would run it, with the given lease. */
  const runCompleter = (leaseMs: number) =>
    run("node_modules/.bin/tsx", ["scripts/completer.ts"], {
      env: {
        ...process.env,
        DATABASE_URL: databaseUrl,
        SESSION_SECRET: testSessionSecret,
        PAYMENT_PROVIDER_URL: provider.url,
        IDEMPOTENCY_LEASE_MS: String(leaseMs),
        ...options.storeEnv(),
      },
    });

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

    it("a charge arriving at the provider after the completer settled the payment is refused: one charge per order", async () => {
      // The finding: the completer read a lookup miss as "never charged" while the charge was still on its way.
      const impatient = await startAppServer({
        port: crashPort,
        env: {
          DATABASE_URL: databaseUrl,
          PAYMENT_PROVIDER_URL: provider.url,
          PAYMENT_PROVIDER_TIMEOUT_MS: "500",
          IDEMPOTENCY_LEASE_MS: "1000",
          ...options.storeEnv(),
        },
      });
      try {
        const { shopper, orderId } = await shopperWithOrder(impatient);
        await provider.setFaults({ latencyMs: 4000, failureRate: 0 });
        const sentAt = Date.now();
        const late = await shopper.mutation("payments.pay", { idempotencyKey: randomUUID(), orderId, card: cards.ok });
        await provider.setFaults(healthyProvider);
        expect(late.status).toBe(504);

        await sleep(1100);
        const completer = await runCompleter(1000);
        expect(completer.stdout).toMatch(/payment \d+: finished/);
        expect(await orderStatus(orderId)).toBe("awaiting_payment");
        const [settled] = await database.db.select().from(payments).where(eq(payments.orderId, orderId));
        expect(settled).toMatchObject({ status: "failed", declineCode: "not_completed" });

        // Wait until the slow charge has reached the provider, then pay again with a new key.
        await sleep(Math.max(0, sentAt + 4500 - Date.now()));
        const again = await shopper.mutation("payments.pay", { idempotencyKey: randomUUID(), orderId, card: cards.ok });
        expect(again.status).toBe(200);
        expect(await succeededCharges(orderId)).toHaveLength(1);
        const fenced = await fetch(`${provider.url}/v1/charges/by-key/${settled?.providerKey}`, {
          headers: providerAuth,
        });
        expect((await fenced.json()).status).toBe("canceled");

        // A refund whose answer is lost answers 504 like a lost charge, and its retry refunds once.
        const refundInput = { idempotencyKey: randomUUID(), paymentId: again.data.payment.id, amountCents: 300 };
        await provider.setFaults({ latencyMs: 1000, failureRate: 0 });
        const merchant = await merchantOn(impatient);
        const lostRefund = await merchant.mutation("payments.refund", refundInput);
        await provider.setFaults(healthyProvider);
        expect(lostRefund.status).toBe(504);
        await sleep(1000);
        const refundRetry = await merchant.mutation("payments.refund", refundInput);
        expect(refundRetry.status).toBe(200);
        expect(refundRetry.data.refund).toMatchObject({ amountCents: 300, status: "succeeded" });
      } finally {
        await provider.setFaults(healthyProvider);
        await impatient.stop();
      }
    });

    it("a new card right after a provider failure pays at once: the earlier attempt is settled first", async () => {
      const { shopper, orderId } = await shopperWithOrder();
      const failedInput = { idempotencyKey: randomUUID(), orderId, card: cards.providerError };
      expect((await shopper.mutation("payments.pay", failedInput)).status).toBe(503);
      expect(await orderStatus(orderId)).toBe("paying");

      const startedAt = Date.now();
      const paid = await shopper.mutation("payments.pay", { idempotencyKey: randomUUID(), orderId, card: cards.ok });
      expect(paid.status).toBe(200);
      expect(Date.now() - startedAt).toBeLessThan(5000);
      expect(await succeededCharges(orderId)).toHaveLength(1);

      // The earlier key now answers what became of it, and never charges.
      const earlier = await shopper.mutation("payments.pay", failedInput);
      expect(earlier.status).toBe(402);
      expect(earlier.data.message).toMatch(/interrupted.*Nothing was charged/);
      expect(await succeededCharges(orderId)).toHaveLength(1);
    });

    it("a new attempt after a lost charge answer finds that charge: the order is paid once", async () => {
      const { shopper, orderId } = await shopperWithOrder();
      const lost = await shopper.mutation("payments.pay", {
        idempotencyKey: randomUUID(),
        orderId,
        card: cards.lostResponse,
      });
      expect(lost.status).toBe(504);

      const second = await shopper.mutation("payments.pay", { idempotencyKey: randomUUID(), orderId, card: cards.ok });
      expect(second.status).toBe(409);
      expect(second.data.message).toMatch(/already paid/);
      expect(await orderStatus(orderId)).toBe("paid");
      expect(await succeededCharges(orderId)).toHaveLength(1);
    });

    it("only an attempt truly still running makes a new one wait, with a retryable 409 and an honest retryAfterMs", async () => {
      const { shopper, orderId } = await shopperWithOrder();
      await provider.setFaults({ latencyMs: 1500, failureRate: 0 });
      try {
        const first = shopper.mutation("payments.pay", { idempotencyKey: randomUUID(), orderId, card: cards.ok });
        await sleep(500);
        const second = await shopper.mutation("payments.pay", {
          idempotencyKey: randomUUID(),
          orderId,
          card: cards.ok,
        });
        expect(second.status).toBe(409);
        expect(second.data.data).toMatchObject({ code: "CONFLICT", retryable: true });
        expect(second.data.data.retryAfterMs).toBeGreaterThan(0);
        expect(second.data.data.retryAfterMs).toBeLessThanOrEqual(30_000);
        expect((await first).status).toBe(200);
      } finally {
        await provider.setFaults(healthyProvider);
      }
      expect(await succeededCharges(orderId)).toHaveLength(1);
    });

    it("is the only caller the provider answers: no API key or a wrong one gets 401 and moves no money", async () => {
      const { orderId } = await shopperWithOrder();
      const charge = (authorization?: string) =>
        fetch(`${provider.url}/v1/charges`, {
          method: "POST",
          headers: {
            "content-type": "application/json",
            "idempotency-key": randomUUID(),
            ...(authorization ? { authorization } : {}),
          },
          body: JSON.stringify({
            amountCents: 100,
            currency: "EUR",
            cardNumber: cards.ok,
            reference: `order-${orderId}`,
          }),
        });
      expect((await charge()).status).toBe(401);
      expect((await charge(`Bearer ${"x".repeat(43)}`)).status).toBe(401);
      expect((await fetch(`${provider.url}/v1/charges`)).status).toBe(401);
      expect(await provider.chargesFor(orderId)).toHaveLength(0);
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
      const record = await options.storedRecord(shopper.customerId as string, key);
      expect(record).not.toBeNull();
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

    it("stores no idempotency key for a payment or refund of an order or payment the caller does not have", async () => {
      const shopper = new ShopClient(serverA.url);
      await shopper.signIn();
      const payKey = randomUUID();
      expect(
        (await shopper.mutation("payments.pay", { idempotencyKey: payKey, orderId: 2_000_000_000, card: cards.ok }))
          .status,
      ).toBe(404);
      const refundKey = randomUUID();
      const merchant = await merchantOn();
      expect(
        (
          await merchant.mutation("payments.refund", {
            idempotencyKey: refundKey,
            paymentId: 2_000_000_000,
            amountCents: 1,
          })
        ).status,
      ).toBe(404);
      expect(await options.storedRecord(shopper.customerId as string, payKey)).toBeNull();
      expect(await options.storedRecord(merchantScope, refundKey)).toBeNull();
    });

    it("finishes a payment whose server crashed after charging, with the completer and no client retry", async () => {
      const crashing = await startLabServer({
        port: crashPort,
        env: {
          DATABASE_URL: databaseUrl,
          PAYMENT_PROVIDER_URL: provider.url,
          IDEMPOTENCY_LEASE_MS: "1500",
          ...options.storeEnv(),
        },
      });
      const { shopper, orderId } = await shopperWithOrder(crashing);
      const input = { idempotencyKey: randomUUID(), orderId, card: cards.ok };
      await expect(shopper.mutation("payments.pay", input, { "x-fault": "crash:charge_attempted" })).rejects.toThrow();
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
      expect(completer.stdout).toContain(`payment ${pending?.id}: finished`);
      const [order] = await database.db.select().from(orders).where(eq(orders.id, orderId));
      expect(order?.status).toBe("paid");

      const retry = await shopper.on(serverA.url).mutation("payments.pay", input);
      expect(retry.status).toBe(200);
      expect(retry.data.idempotency.replayed).toBe(true);
      expect(await succeededCharges(orderId)).toHaveLength(1);
    });
  });

  describe(`payments.refund (${storeName} store)`, () => {
    /** A paid order of a guest, and the merchant who may refund it. */
    async function paidOrder() {
      const { shopper, orderId, totalCents } = await shopperWithOrder();
      const paid = await shopper.mutation("payments.pay", { idempotencyKey: randomUUID(), orderId, card: cards.ok });
      return { shopper, merchant: await merchantOn(), orderId, paymentId: paid.data.payment.id as number, totalCents };
    }

    it("is the merchant's: a guest, even the one who paid, gets 401 and nothing is refunded or stored", async () => {
      const { shopper, paymentId } = await paidOrder();
      const key = randomUUID();
      const refused = await shopper.mutation("payments.refund", { idempotencyKey: key, paymentId, amountCents: 100 });
      expect(refused.status).toBe(401);
      expect(refused.data.message).toMatch(/Sign in as the merchant/);
      const [payment] = await database.db.select().from(payments).where(eq(payments.id, paymentId));
      expect(payment?.refundedCents).toBe(0);
      expect(await options.storedRecord(merchantScope, key)).toBeNull();
      expect(await options.storedRecord(shopper.customerId as string, key)).toBeNull();
    });

    it("moves the order to partially_refunded, then refunded, and the shopper sees what came back", async () => {
      const { shopper, merchant, orderId, paymentId, totalCents } = await paidOrder();
      const part = await merchant.mutation("payments.refund", {
        idempotencyKey: randomUUID(),
        paymentId,
        amountCents: 400,
      });
      expect(part.status).toBe(200);
      let view = await shopper.query("orders.get", { orderId });
      expect(view.data.order.status).toBe("partially_refunded");
      expect(view.data.refundedCents).toBe(400);
      const rest = { idempotencyKey: randomUUID(), paymentId, amountCents: totalCents - 400 };
      expect((await merchant.mutation("payments.refund", rest)).status).toBe(200);
      view = await shopper.query("orders.get", { orderId });
      expect(view.data.order.status).toBe("refunded");
      expect(view.data.refundedCents).toBe(totalCents);
      const listed = await merchant.query("merchant.orders", { limit: 100 });
      const row = listed.data.orders.find((order: { id: number }) => order.id === orderId);
      expect(row).toMatchObject({ status: "refunded", payment: { refundedCents: totalCents, refundableCents: 0 } });
      // A refunded order cannot be paid again.
      const payAgain = await shopper.mutation("payments.pay", {
        idempotencyKey: randomUUID(),
        orderId,
        card: cards.ok,
      });
      expect(payAgain.status).toBe(409);
    });

    it("refunds part of a payment once per key", async () => {
      const { merchant, paymentId } = await paidOrder();
      const input = { idempotencyKey: randomUUID(), paymentId, amountCents: 500 };
      const first = await merchant.mutation("payments.refund", input);
      const replay = await merchant.mutation("payments.refund", input);
      expect(first.status).toBe(200);
      expect(first.data.refund).toMatchObject({ paymentId, amountCents: 500, status: "succeeded" });
      expect(replay.data.refund).toEqual(first.data.refund);
      const [payment] = await database.db.select().from(payments).where(eq(payments.id, paymentId));
      expect(payment?.refundedCents).toBe(500);
    });

    it("a refund stranded by a provider outage does not block the next one, which settles it first", async () => {
      const { merchant, paymentId, totalCents } = await paidOrder();
      const strandedInput = { idempotencyKey: randomUUID(), paymentId, amountCents: totalCents };
      await provider.setFaults({ latencyMs: 0, failureRate: 1 });
      const stranded = await merchant.mutation("payments.refund", strandedInput);
      await provider.setFaults(healthyProvider);
      expect(stranded.status).toBe(503);

      const whole = await merchant.mutation("payments.refund", {
        idempotencyKey: randomUUID(),
        paymentId,
        amountCents: totalCents,
      });
      expect(whole.status).toBe(200);
      expect(whole.data.refund).toMatchObject({ amountCents: totalCents, status: "succeeded" });
      const earlier = await merchant.mutation("payments.refund", strandedInput);
      expect(earlier.status).toBe(422);
      expect(earlier.data.message).toMatch(/interrupted.*Nothing was refunded/);
      const [payment] = await database.db.select().from(payments).where(eq(payments.id, paymentId));
      expect(payment?.refundedCents).toBe(totalCents);
    });

    it("answers a refund the provider refuses with a typed 422 and gives the reserved amount back", async () => {
      const { merchant, paymentId, totalCents } = await paidOrder();
      const [payment] = await database.db.select().from(payments).where(eq(payments.id, paymentId));
      // Someone refunded the whole charge at the provider directly, behind the shop's back.
      const direct = await fetch(`${provider.url}/v1/refunds`, {
        method: "POST",
        headers: { "content-type": "application/json", "idempotency-key": randomUUID(), ...providerAuth },
        body: JSON.stringify({ chargeId: payment?.providerChargeId, amountCents: totalCents }),
      });
      expect(direct.status).toBe(201);
      const refused = await merchant.mutation("payments.refund", {
        idempotencyKey: randomUUID(),
        paymentId,
        amountCents: 500,
      });
      expect(refused.status).toBe(422);
      expect(refused.data.message).toMatch(/refused this refund/);
      const [after] = await database.db.select().from(payments).where(eq(payments.id, paymentId));
      expect(after?.refundedCents).toBe(0);
    });

    it("never lets concurrent refunds under different keys exceed the payment", async () => {
      const { merchant, paymentId, totalCents } = await paidOrder();
      const results = await Promise.all(
        Array.from({ length: 6 }, () =>
          merchant.mutation("payments.refund", { idempotencyKey: randomUUID(), paymentId, amountCents: 1000 }),
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
