/**
 * The training lab's procedures (mounted only with ENABLE_LAB=true, server/root.ts). The protected side of every
 * scenario is the shop's own procedures, called as they are; what lives here is the unprotected twin, the
 * timeline, the key inspector and the counts a trainee checks.
 */
import { tracked } from "@trpc/server";
import { z } from "zod";
import { appError } from "../errors";
import { servedBy } from "../http/served-by";
import { idempotencyKeySchema } from "../idempotency/key";
import { idempotencySettings } from "../idempotency-settings";
import { amountCents } from "../inputs";
import { labEventsAfter } from "../lab/events";
import { comparePatterns } from "../lab/patterns";
import { labCookieValue } from "../lab/session";
import { chargeUnprotected, countLabCharges, countLabOrders, placeOrderUnprotected } from "../lab/twin";
import { appRedis } from "../redis";
import { cartSchema, ordersPlacedWithKeys } from "../services/orders";
import { configuredProvider } from "../services/payment-provider";
import { labSession, sessionCookie } from "../session";
import { createTRPCRouter, customerProcedure, labProcedure } from "../trpc";

const run = z.uuid();
/** How often a timeline looks for new attempts; events come through the database, from every process. */
const timelinePollMs = 300;

export const labRouter = createTRPCRouter({
  /** Opens the lab for this guest: its lab cookie lets its requests ask for faults. */
  start: customerProcedure.mutation(({ ctx }) => {
    const secure = ctx.env.SESSION_COOKIE_SECURE === "true";
    ctx.resHeaders.append("set-cookie", sessionCookie(labCookieValue(ctx.customerId, ctx.env), secure, labSession));
    return { customerId: ctx.customerId, servedBy };
  }),

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

  /** Every attempt of this lab session, live (server-sent events), resuming after the last one seen. */
  timeline: labProcedure
    .input(z.object({ lastEventId: z.coerce.number().int().min(0).optional() }).optional())
    .subscription(async function* ({ ctx, input, signal }) {
      let after = input?.lastEventId ?? 0;
      while (!signal?.aborted) {
        for (const event of await labEventsAfter(ctx.db, ctx.customerId, after)) {
          after = event.id;
          yield tracked(String(event.id), { ...event, createdAt: event.createdAt.toISOString() });
        }
        await new Promise((resolve) => setTimeout(resolve, timelinePollMs));
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
