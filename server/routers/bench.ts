import { randomUUID } from "node:crypto";
import { cartSchema, placeOrder } from "../services/orders";
import { createTRPCRouter, customerProcedure } from "../trpc";

/** Baselines for `npm run bench`, mounted only when ENABLE_BENCH_PROCEDURES=true (server/root.ts). */
export const benchRouter = createTRPCRouter({
  /**
   * A trivial write on the same path as orders.place: the guest's session, the same input validated, an answer,
   * and nothing else. What a replay is measured against.
   */
  acceptCart: customerProcedure
    .input(cartSchema)
    .mutation(({ ctx, input }) => ({ customerId: ctx.customerId, ...input })),

  /** The same business write as orders.place, without the idempotency layer. */
  placeOrderUnguarded: customerProcedure
    .input(cartSchema)
    .mutation(({ ctx, input }) =>
      ctx.db.transaction(async (tx) => ({ order: await placeOrder(tx, ctx.customerId, randomUUID(), input) })),
    ),
});
