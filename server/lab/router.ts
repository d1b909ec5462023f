/**
 * The training lab's procedures, served by the lab server alone (server/lab/root.ts). The protected side of every
 * scenario is the shop's own procedures, called as they are; what lives here is the unprotected twin, the
 * timeline, the key inspector and the counts a trainee checks.
 */
import { tracked } from "@trpc/server";
import { z } from "zod";
import { appDatabase } from "../db";
import { appError } from "../errors";
import { servedBy } from "../http/served-by";
import { idempotencyKeySchema } from "../idempotency/key";
import { idempotencySettings } from "../idempotency-settings";
import { amountCents } from "../inputs";
import { appRedis } from "../redis";
import { cartSchema, ordersPlacedWithKeys } from "../services/orders";
import { configuredProvider } from "../services/payment-provider";
import { createTRPCRouter, customerProcedure } from "../trpc";
import { type LabEvent, LabEventFeed } from "./events";
import { comparePatterns } from "./patterns";
import { chargeUnprotected, countLabCharges, countLabOrders, placeOrderUnprotected } from "./twin";

const run = z.uuid();

/** On the lab server every guest is a trainee, their guest session their lab session. */
const labProcedure = customerProcedure;

const feed = new LabEventFeed(() => appDatabase().db);

/** A timeline event as the browser gets it. */
function onTheWire(event: LabEvent) {
  return { ...event, createdAt: event.createdAt.toISOString() };
}

export const labRouter = createTRPCRouter({
  /** Opens the lab for this guest (starting its session if it has none) and names the process that answered. */
  start: labProcedure.mutation(({ ctx }) => ({ customerId: ctx.customerId, servedBy })),

  /** orders.place without the guarantee: every request that arrives places an order. */
  placeOrderUnprotected: labProcedure
    .input(cartSchema.extend({ run }))
    .mutation(({ ctx, input }) => placeOrderUnprotected(ctx.db, ctx.customerId, input.run, { items: input.items })),

  /**
   * payments.pay without the guarantee: the twin's provider charges on every request. With `loseProviderAnswer`
   * it charges and its answer is lost, which the twin answers as the shop does: 504, retry.
   */
  payUnprotected: labProcedure
    .input(z.object({ run, amountCents, loseProviderAnswer: z.boolean() }))
    .mutation(async ({ ctx, input }) => {
      const charged = await chargeUnprotected(
        ctx.db,
        ctx.customerId,
        input.run,
        input.amountCents,
        input.loseProviderAnswer,
      );
      if ("answerLost" in charged) {
        throw appError("GATEWAY_TIMEOUT", "We did not hear back from the (unprotected) provider. Retry.");
      }
      return charged;
    }),

  /**
   * What a run left behind, both ways: the twin's orders and charges; the shop's orders under the run's keys, and
   * every charge the real provider made for those orders, whatever key it was asked with.
   */
  results: labProcedure
    .input(z.object({ run, keys: z.array(idempotencyKeySchema).max(10) }))
    .query(async ({ ctx, input }) => {
      const orderIds = await ordersPlacedWithKeys(ctx.db, ctx.customerId, input.keys);
      const provider = configuredProvider(ctx.env);
      const charges = await Promise.all(orderIds.map((id) => provider.chargesFor(`order-${id}`)));
      return {
        unprotectedOrders: await countLabOrders(ctx.db, ctx.customerId, input.run),
        protectedOrders: orderIds.length,
        unprotectedCharges: await countLabCharges(ctx.db, ctx.customerId, input.run),
        protectedCharges: charges.flat().filter((charge) => charge.status === "succeeded").length,
      };
    }),

  /** Scenario 9's patterns, each run both ways on the server (server/lab/patterns.ts). */
  comparePatterns: labProcedure
    .input(z.object({ run }))
    .mutation(({ ctx, input }) => comparePatterns(ctx.db, appRedis(), ctx.customerId, input.run)),

  /**
   * Every step of this lab session's attempts, live (server-sent events), resuming after the last one seen. The
   * process's one reader hands new rows to every subscriber; only the catch-up reads per subscriber.
   */
  timeline: labProcedure
    .input(z.object({ lastEventId: z.coerce.number().int().min(0).optional() }).optional())
    .subscription(async function* ({ ctx, input, signal }) {
      let after = input?.lastEventId ?? 0;
      const waiting: LabEvent[] = [];
      let wake = () => {};
      const unsubscribe = feed.subscribe(ctx.customerId, (events) => {
        waiting.push(...events);
        wake();
      });
      signal?.addEventListener("abort", () => wake());
      try {
        for (const event of await feed.backlog(ctx.customerId, after)) {
          after = event.id;
          yield tracked(String(event.id), onTheWire(event));
        }
        while (!signal?.aborted) {
          for (const event of waiting.splice(0)) {
            if (event.id <= after) continue;
            after = event.id;
            yield tracked(String(event.id), onTheWire(event));
          }
          await new Promise<void>((resolve) => {
            wake = resolve;
            if (waiting.length > 0 || signal?.aborted) resolve();
          });
        }
      } finally {
        unsubscribe();
      }
    }),

  /** A key's record in the idempotency store, as the protocol sees it. */
  inspectKey: labProcedure.input(z.object({ key: idempotencyKeySchema })).query(async ({ ctx, input }) => {
    const record = await idempotencySettings(ctx.db, ctx.env).store.read({ scope: ctx.customerId, key: input.key });
    if (!record) return null;
    return {
      key: record.key,
      procedurePath: record.procedurePath,
      fingerprint: record.fingerprint,
      status: record.status,
      recoveryPoint: record.recoveryPoint,
      leaseExpiresAt: record.leaseExpiresAt?.toISOString() ?? null,
      storedAnswer: record.outcome,
      firstSeenAt: record.firstSeenAt.toISOString(),
      expiresAt: record.expiresAt.toISOString(),
    };
  }),
});
