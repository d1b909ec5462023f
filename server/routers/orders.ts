import { z } from "zod";
import { rowId } from "../inputs";
import { customerOrderView } from "../services/order-views";
import { cartSchema, placeOrder } from "../services/orders";
import { createTRPCRouter, customerProcedure, idempotentProcedure } from "../trpc";

export const ordersRouter = createTRPCRouter({
  /** Places the cart as an order, once per idempotency key: a retried "place order" yields the same order. */
  place: idempotentProcedure(cartSchema).mutation(async ({ ctx, input }) =>
    ctx.idempotency.inTransaction(async (tx) => ({
      order: await placeOrder(tx, ctx.customerId, ctx.idempotency.key, { items: input.items }),
    })),
  ),

  /**
   * One of the caller's own orders with its payments and what the merchant refunded; anyone else's order does not
   * exist for them.
   */
  get: customerProcedure
    .input(z.object({ orderId: rowId }))
    .query(({ ctx, input }) => customerOrderView(ctx.db, ctx.customerId, input.orderId)),
});
