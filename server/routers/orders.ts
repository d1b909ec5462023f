import { idempotentProcedure } from "../idempotency/procedure";
import { cartSchema, placeOrder } from "../services/orders";
import { createTRPCRouter } from "../trpc";

export const ordersRouter = createTRPCRouter({
  /** Places the cart as an order, once per idempotency key: a retried "place order" yields the same order. */
  place: idempotentProcedure(cartSchema).mutation(async ({ ctx, input }) =>
    ctx.idempotency.inTransaction(async (tx) => ({
      order: await placeOrder(tx, ctx.customerId, ctx.idempotency.key, { items: input.items }),
    })),
  ),
});
