import { and, asc, eq } from "drizzle-orm";
import { z } from "zod";
import { orders, payments } from "@/db/schema";
import { appError } from "../errors";
import { idempotentProcedure } from "../idempotency/procedure";
import { rowId } from "../inputs";
import { cartSchema, loadOrder, placeOrder } from "../services/orders";
import { viewOf } from "../services/payments";
import { refundedCentsByPayment } from "../services/refunds";
import { createTRPCRouter, customerProcedure } from "../trpc";

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
  get: customerProcedure.input(z.object({ orderId: rowId })).query(async ({ ctx, input }) => {
    const [owned] = await ctx.db
      .select({ id: orders.id })
      .from(orders)
      .where(and(eq(orders.id, input.orderId), eq(orders.customerId, ctx.customerId)));
    if (!owned) throw appError("NOT_FOUND", `Order ${input.orderId} was not found.`);
    const order = await loadOrder(ctx.db, owned.id);
    const rows = await ctx.db.select().from(payments).where(eq(payments.orderId, owned.id)).orderBy(asc(payments.id));
    const refunded = await refundedCentsByPayment(
      ctx.db,
      rows.map((row) => row.id),
    );
    const refundedCents = [...refunded.values()].reduce((sum, cents) => sum + cents, 0);
    return { order, payments: rows.map(viewOf), refundedCents };
  }),
});
