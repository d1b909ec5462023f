/**
 * The unprotected twin of orders.place: the same cart, no idempotency key, no unique constraint. Every request that
 * reaches it places an order, so a retry or a double click shows up as a duplicate. It writes only the lab's own
 * table; it reads the shop's catalog for prices, as the shop does.
 */
import { and, count, eq, inArray } from "drizzle-orm";
import type { Executor } from "@/db/client";
import { labOrders, products } from "@/db/schema";
import type { Cart } from "../services/orders";

export async function placeOrderUnprotected(
  db: Executor,
  labSession: string,
  run: string,
  cart: Cart,
): Promise<{ labOrderId: number; totalCents: number }> {
  const prices = await db
    .select({ id: products.id, priceCents: products.priceCents })
    .from(products)
    .where(
      inArray(
        products.id,
        cart.items.map((item) => item.productId),
      ),
    );
  const priceOf = new Map(prices.map((product) => [product.id, product.priceCents]));
  const totalCents = cart.items.reduce((sum, item) => sum + item.quantity * (priceOf.get(item.productId) ?? 0), 0);
  const [inserted] = await db.insert(labOrders).values({ labSession, run, totalCents }).$returningId();
  return { labOrderId: (inserted as { id: number }).id, totalCents };
}

/** How many orders the twin placed in one run. */
export async function countLabOrders(db: Executor, labSession: string, run: string): Promise<number> {
  const [row] = await db
    .select({ placed: count() })
    .from(labOrders)
    .where(and(eq(labOrders.labSession, labSession), eq(labOrders.run, run)));
  return row?.placed ?? 0;
}
