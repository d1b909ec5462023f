/** What customers and the merchant see of orders: an order with its payments, and pages of the newest orders. */
import { and, asc, desc, eq, inArray, lt, or } from "drizzle-orm";
import type { Executor } from "@/db/client";
import { orders, payments } from "@/db/schema";
import { appError } from "../errors";
import { loadOrder } from "./orders";
import { viewOf } from "./payments";
import { refundedCentsByPayment } from "./refunds";

/** One of the customer's own orders with its payments and what the merchant refunded; anyone else's is NOT_FOUND. */
export async function customerOrderView(db: Executor, customerId: string, orderId: number) {
  const [owned] = await db
    .select({ id: orders.id })
    .from(orders)
    .where(and(eq(orders.id, orderId), eq(orders.customerId, customerId)));
  if (!owned) throw appError("NOT_FOUND", `Order ${orderId} was not found.`);
  const order = await loadOrder(db, owned.id);
  const rows = await db.select().from(payments).where(eq(payments.orderId, owned.id)).orderBy(asc(payments.id));
  const refunded = await refundedCentsByPayment(
    db,
    rows.map((row) => row.id),
  );
  const refundedCents = [...refunded.values()].reduce((sum, cents) => sum + cents, 0);
  return { order, payments: rows.map(viewOf), refundedCents };
}

export interface OrderPage {
  /** The last order of the previous page: the page holds the orders placed before it. */
  before?: { createdAt: string; id: number };
  limit: number;
}

/** The newest orders first, each with its succeeded payment and what has been refunded of it. */
export async function merchantOrderPage(db: Executor, page: OrderPage) {
  const before = page.before && { createdAt: new Date(page.before.createdAt), id: page.before.id };
  const rows = await db
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
    .limit(page.limit + 1);
  const shown = rows.slice(0, page.limit);
  const paid =
    shown.length === 0
      ? []
      : await db
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
    db,
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
    hasMore: rows.length > page.limit,
  };
}
