/**
 * The unprotected twins of orders.place and payments.pay: no idempotency key, no unique constraint. Every request
 * that reaches them places an order or makes a charge, so a retry or a double click shows up as a duplicate. They
 * write only the lab's own tables; the order twin reads the shop's catalog for prices, as the shop does.
 */
import { and, count, eq, inArray } from "drizzle-orm";
import type { Executor } from "@/db/client";
import { labCharges, labOrders, products } from "@/db/schema";
import type { Cart } from "../services/orders";
import { twinReached } from "./instruments";

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
  await twinReached("twin-order");
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

/**
 * Pays without a key: the twin's provider charges on every request it receives. `answerLost`: the provider charged,
 * but its answer never came back (a timeout), which the caller reports as it would any lost answer.
 */
export async function chargeUnprotected(
  db: Executor,
  labSession: string,
  run: string,
  amountCents: number,
  answerLost: boolean,
): Promise<{ charged: true } | { answerLost: true }> {
  await db.insert(labCharges).values({ labSession, run, amountCents });
  // Where the shop's payment has recorded `charge_attempted`; the twin has recorded nothing, so a retry charges.
  await twinReached("twin-charge", "charge_attempted");
  return answerLost ? { answerLost: true } : { charged: true };
}

/** How many charges the twin's provider made in one run. */
export async function countLabCharges(db: Executor, labSession: string, run: string): Promise<number> {
  const [row] = await db
    .select({ made: count() })
    .from(labCharges)
    .where(and(eq(labCharges.labSession, labSession), eq(labCharges.run, run)));
  return row?.made ?? 0;
}
