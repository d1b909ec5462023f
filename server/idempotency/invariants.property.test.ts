/**
 * Invariant 1 of the contract, checked over random interleavings of duplicate requests through the real
 * route handler and database: for each (customer, key) at most one execution reaches the business write, and
 * every successful answer for it carries the same business payload.
 */
import { randomUUID } from "node:crypto";
import { and, count, eq } from "drizzle-orm";
import fc from "fast-check";
import { afterAll, describe, expect, inject, it } from "vitest";
import { openDatabase } from "@/db/client";
import { orders } from "@/db/schema";
import { handleApiRequest } from "@/server/http/api";

const database = openDatabase(inject("databaseUrl"));
afterAll(() => database.close());

const carts = [{ items: [{ productId: 1, quantity: 1 }] }, { items: [{ productId: 2, quantity: 3 }] }];

async function newCustomer(): Promise<{ cookie: string; customerId: string }> {
  const response = await handleApiRequest(new Request("http://shop.test/api/trpc/session.me"));
  const cookie = (response.headers.get("set-cookie") ?? "").split(";")[0] as string;
  return { cookie, customerId: (await response.json()).result.data.customerId };
}

async function place(cookie: string, body: unknown) {
  const response = await handleApiRequest(
    new Request("http://shop.test/api/trpc/orders.place", {
      method: "POST",
      headers: { "content-type": "application/json", cookie },
      body: JSON.stringify(body),
    }),
  );
  return { status: response.status, body: await response.json() };
}

const scenario = fc.array(
  fc.record({
    key: fc.integer({ min: 0, max: 2 }),
    cart: fc.integer({ min: 0, max: 1 }),
    delayMs: fc.integer({ min: 0, max: 20 }),
  }),
  { minLength: 2, maxLength: 10 },
);

describe("invariant 1 under random interleavings", () => {
  it("never executes a key twice, and every success for a key carries the same order", async () => {
    await fc.assert(
      fc.asyncProperty(scenario, async (requests) => {
        const { cookie, customerId } = await newCustomer();
        const keys = [randomUUID(), randomUUID(), randomUUID()];
        const answers = await Promise.all(
          requests.map(async (request) => {
            await new Promise((resolve) => setTimeout(resolve, request.delayMs));
            const sent = { idempotencyKey: keys[request.key], ...carts[request.cart] };
            return { request, ...(await place(cookie, sent)) };
          }),
        );

        for (const [index, key] of keys.entries()) {
          const forKey = answers.filter((answer) => answer.request.key === index);
          const [placed] = await database.db
            .select({ n: count() })
            .from(orders)
            .where(and(eq(orders.customerId, customerId), eq(orders.placementKey, key)));
          expect(placed?.n).toBe(forKey.length === 0 ? 0 : 1);

          const successes = forKey.filter((answer) => answer.status === 200);
          expect(
            new Set(successes.map((answer) => JSON.stringify(answer.body.result.data.order))).size,
          ).toBeLessThanOrEqual(1);
          expect(
            successes.filter((answer) => !answer.body.result.data.idempotency.replayed).length,
          ).toBeLessThanOrEqual(1);
          // A success answers the cart it was sent with; any other answer is a typed refusal, never a 500.
          for (const success of successes) {
            expect(success.body.result.data.order.items[0].productId).toBe(
              carts[success.request.cart]?.items[0]?.productId,
            );
          }
          for (const refusal of forKey.filter((answer) => answer.status !== 200)) {
            expect([409, 422]).toContain(refusal.status);
          }
        }
      }),
      { numRuns: 40 },
    );
  });
});
