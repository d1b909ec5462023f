import { and, desc, eq, inArray, lt, or } from "drizzle-orm";
import { z } from "zod";
import { orders, payments } from "@/db/schema";
import { appError } from "../errors";
import { rowId } from "../inputs";
import { clientAddress, consumeRateLimit } from "../rate-limits";
import { authenticateMerchant, merchantEmail, signOutEverywhere } from "../services/merchants";
import { refundedCentsByPayment } from "../services/refunds";
import {
  adminProcedure,
  createTRPCRouter,
  currentMerchant,
  endMerchantSession,
  publicProcedure,
  startMerchantSession,
} from "../trpc";

const loginInput = z.object({
  email: merchantEmail,
  // Bounded so a huge "password" cannot make the server hash megabytes; the real rule is set-up's.
  password: z.string().min(1).max(256),
});

const orderListInput = z.object({
  /** The last order of the previous page: the list goes on with the orders placed before it. */
  before: z.object({ createdAt: z.iso.datetime(), id: rowId }).optional(),
  limit: z.number().int().min(1).max(100).default(25),
});

/** The merchant's session and back office. Signing in and out need no idempotency key: both are idempotent. */
export const merchantRouter = createTRPCRouter({
  /** Who is signed in as the merchant, or null. */
  me: publicProcedure.query(async ({ ctx }) => {
    const merchant = await currentMerchant(ctx);
    return { merchant: merchant && { email: merchant.email } };
  }),

  /** Attempts count per email and per client address, so guessing is slow whichever one an attacker varies. */
  login: publicProcedure.input(loginInput).mutation(async ({ ctx, input }) => {
    await consumeRateLimit("logins", `email:${input.email}`, ctx.resHeaders);
    await consumeRateLimit("logins", `address:${clientAddress(ctx.reqHeaders)}`, ctx.resHeaders);
    const merchant = await authenticateMerchant(ctx.db, input.email, input.password);
    if (!merchant) throw appError("UNAUTHORIZED", "That email and password do not match a merchant account.");
    startMerchantSession(ctx, merchant.id);
    return { merchant: { email: merchant.email } };
  }),

  /** Ends every session of this merchant account, on every device. */
  logout: adminProcedure.mutation(async ({ ctx }) => {
    await signOutEverywhere(ctx.db, ctx.merchant.id, Math.floor(Date.now() / 1000));
    endMerchantSession(ctx);
    return { signedOut: true };
  }),

  /** The newest orders first, each with its succeeded payment and what has been refunded of it. */
  orders: adminProcedure.input(orderListInput).query(async ({ ctx, input }) => {
    const before = input.before && { createdAt: new Date(input.before.createdAt), id: input.before.id };
    const page = await ctx.db
      .select()
      .from(orders)
      .where(
        before &&
          or(
            lt(orders.createdAt, before.createdAt),
            and(eq(orders.createdAt, before.createdAt), lt(orders.id, before.id)),
          ),
      )
      .orderBy(desc(orders.createdAt), desc(orders.id))
      .limit(input.limit + 1);
    const shown = page.slice(0, input.limit);
    const paid =
      shown.length === 0
        ? []
        : await ctx.db
            .select()
            .from(payments)
            .where(
              and(
                inArray(
                  payments.orderId,
                  shown.map((order) => order.id),
                ),
                eq(payments.status, "succeeded"),
              ),
            );
    const refunded = await refundedCentsByPayment(
      ctx.db,
      paid.map((payment) => payment.id),
    );
    const paymentOf = new Map(paid.map((payment) => [payment.orderId, payment]));
    return {
      orders: shown.map((order) => {
        const payment = paymentOf.get(order.id);
        return {
          id: order.id,
          status: order.status,
          totalCents: order.totalCents,
          currency: order.currency,
          createdAt: order.createdAt.toISOString(),
          payment: payment && {
            id: payment.id,
            amountCents: payment.amountCents,
            cardLast4: payment.cardLast4,
            refundedCents: refunded.get(payment.id) ?? 0,
            // Pending refunds hold their amount too, so this is what a new refund may still take.
            refundableCents: payment.amountCents - payment.refundedCents,
          },
        };
      }),
      hasMore: page.length > input.limit,
    };
  }),
});
