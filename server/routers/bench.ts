import { randomUUID } from "node:crypto";
import { appError } from "../errors";
import { cartSchema, placeOrder } from "../services/orders";
import { createTRPCRouter, customerProcedure } from "../trpc";

/** Baselines for `npm run bench`, off unless ENABLE_BENCH_PROCEDURES=true. */
const benchProcedure = customerProcedure.use(({ ctx, next }) => {
  if (ctx.env.ENABLE_BENCH_PROCEDURES !== "true") throw appError("NOT_FOUND", "No such procedure.");
  return next();
});

export const benchRouter = createTRPCRouter({
  /** The same business write as orders.place, without the idempotency layer. */
  placeOrderUnguarded: benchProcedure
    .input(cartSchema)
    .mutation(({ ctx, input }) =>
      ctx.db.transaction(async (tx) => ({ order: await placeOrder(tx, ctx.customerId, randomUUID(), input) })),
    ),
});
