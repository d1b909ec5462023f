import { randomUUID } from "node:crypto";
import { cartSchema, placeOrder } from "../server/services/orders";
import { createTRPCRouter, customerProcedure } from "../server/trpc";

/** Baselines for `npm run bench`, served only by the bench's own server (scripts/bench-server.ts), never by the shop. */
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
