import { z } from "zod";
import { testCardNumbers } from "@/shop/test-cards";
import { idempotencySettings } from "../idempotency-settings";
import { amountCents, rowId } from "../inputs";
import { configuredProvider } from "../services/payment-provider";
import { assertOwnOrder, type PaymentStep, pay, paymentFingerprintInput } from "../services/payments";
import { customerOfPayment, type RefundStep, refund } from "../services/refunds";
import { adminIdempotentProcedure, createTRPCRouter, idempotentProcedure } from "../trpc";

const payInput = z.object({
  orderId: rowId,
  card: z.enum(testCardNumbers, { error: "must be one of the test cards (see the checkout page)" }),
});

const refundInput = z.object({
  paymentId: rowId,
  amountCents,
});

export const paymentsRouter = createTRPCRouter({
  /** Pays an order once per key, resumable after any failure; the card number is never stored. */
  pay: idempotentProcedure(payInput, { fingerprintOf: paymentFingerprintInput }).mutation(async ({ ctx, input }) => {
    await assertOwnOrder(ctx.db, ctx.customerId, input.orderId);
    return ctx.idempotency.withLease((step: PaymentStep) =>
      pay(
        {
          db: ctx.db,
          provider: configuredProvider(ctx.env),
          settings: idempotencySettings(ctx.db, ctx.env),
          checkpoint: ctx.idempotency.checkpoint,
        },
        {
          customerId: ctx.customerId,
          requestKey: ctx.idempotency.key,
          orderId: input.orderId,
          card: input.card,
          cardLast4: input.card.slice(-4),
        },
        step,
      ),
    );
  }),

  /**
   * The merchant refunds part of a succeeded payment, once per key; refunds never add up to more than was paid.
   * The payment's customer is looked up before the key is claimed, so refunding a missing payment stores nothing.
   */
  refund: adminIdempotentProcedure(refundInput).mutation(async ({ ctx, input }) => {
    const customerId = await customerOfPayment(ctx.db, input.paymentId);
    return ctx.idempotency.withLease((step: RefundStep) =>
      refund(
        { db: ctx.db, provider: configuredProvider(ctx.env), settings: idempotencySettings(ctx.db, ctx.env) },
        { customerId, requestKey: ctx.idempotency.key, ...input },
        step,
      ),
    );
  }),
});
