/** Placing orders: prices and names come from the database, never from the client. */
import { randomInt } from "node:crypto";
import { and, eq, inArray } from "drizzle-orm";
import { z } from "zod";
import type { Executor } from "@/db/client";
import { driverErrorCodes, isDuplicateKeyError } from "@/db/errors";
import { customers, orderItems, type orderStatuses, orders, products } from "@/db/schema";
import { maxCartLines, maxQuantity } from "@/shop/limits";
import { appError } from "../errors";
import { rowId } from "../inputs";

export const cartSchema = z.object({
  items: z
    .array(
      z.object({
        productId: rowId,
        quantity: z.number().int().min(1).max(maxQuantity),
      }),
    )
    .min(1, "must hold at least one product")
    .max(maxCartLines)
    .refine((items) => new Set(items.map((item) => item.productId)).size === items.length, {
      message: "must list each product once (use quantity for more)",
    }),
});

export type Cart = z.infer<typeof cartSchema>;

/** Order numbers fill the INT column: 1 … 2^31 − 1. */
const maxOrderNumber = 2 ** 31 - 1;

export interface PlacedOrder {
  id: number;
  status: (typeof orderStatuses)[number];
  totalCents: number;
  currency: string;
  version: number;
  items: { productId: number; name: string; quantity: number; unitPriceCents: number }[];
}

export async function loadOrder(tx: Executor, orderId: number): Promise<PlacedOrder> {
  const [order] = await tx.select().from(orders).where(eq(orders.id, orderId));
  if (!order) throw appError("NOT_FOUND", `Order ${orderId} does not exist.`);
  const items = await tx
    .select({
      productId: orderItems.productId,
      name: orderItems.productName,
      quantity: orderItems.quantity,
      unitPriceCents: orderItems.unitPriceCents,
    })
    .from(orderItems)
    .where(eq(orderItems.orderId, orderId))
    .orderBy(orderItems.id);
  const { id, status, totalCents, currency, version } = order;
  return { id, status, totalCents, currency, version, items };
}

/**
 * Creates the order for a cart. `placementKey` is unique per customer in the database, so even a key whose
 * idempotency record has expired cannot create a second order: the existing one is returned instead.
 */
export async function placeOrder(
  tx: Executor,
  customerId: string,
  placementKey: string,
  cart: Cart,
): Promise<PlacedOrder> {
  const ids = cart.items.map((item) => item.productId);
  const found = await tx
    .select({ id: products.id, name: products.name, priceCents: products.priceCents, currency: products.currency })
    .from(products)
    .where(inArray(products.id, ids));
  const byId = new Map(found.map((product) => [product.id, product]));
  const missing = ids.filter((id) => !byId.has(id));
  if (missing.length > 0) {
    throw appError("BAD_REQUEST", `Unknown product ${missing.join(", ")}. Refresh the catalog and try again.`);
  }
  const currencies = new Set(found.map((product) => product.currency));
  if (currencies.size > 1) throw appError("BAD_REQUEST", "An order can hold products of one currency only.");

  const lines = cart.items.map((item) => {
    const product = byId.get(item.productId) as (typeof found)[number];
    return {
      productId: product.id,
      name: product.name,
      quantity: item.quantity,
      unitPriceCents: product.priceCents,
    };
  });
  const currency = found[0]?.currency as string;
  const totalCents = lines.reduce((sum, line) => sum + line.quantity * line.unitPriceCents, 0);

  // A random order number; one already taken (about n / 2^31 for n orders) is a duplicate on PRIMARY: draw again.
  const insertOrder = async () => {
    for (let draw = 1; ; draw++) {
      const id = randomInt(1, maxOrderNumber + 1);
      try {
        await tx.insert(orders).values({ id, customerId, placementKey, totalCents, currency });
        return id;
      } catch (error) {
        if (draw >= 5 || !isDuplicateKeyError(error, "PRIMARY")) throw error;
      }
    }
  };
  let orderId: number;
  try {
    try {
      orderId = await insertOrder();
    } catch (error) {
      // A guest's first write: their row is created now rather than on their first visit. InnoDB undoes only the
      // failed statement, so the transaction carries on.
      if (!driverErrorCodes(error).includes("ER_NO_REFERENCED_ROW_2")) throw error;
      await tx.insert(customers).ignore().values({ id: customerId });
      orderId = await insertOrder();
    }
  } catch (error) {
    if (!isDuplicateKeyError(error)) throw error;
    const [existing] = await tx
      .select({ id: orders.id })
      .from(orders)
      .where(and(eq(orders.customerId, customerId), eq(orders.placementKey, placementKey)));
    if (!existing) throw error;
    return loadOrder(tx, existing.id);
  }
  await tx.insert(orderItems).values(
    lines.map((line) => ({
      orderId,
      productId: line.productId,
      productName: line.name,
      quantity: line.quantity,
      unitPriceCents: line.unitPriceCents,
    })),
  );
  return { id: orderId, status: "awaiting_payment", totalCents, currency, version: 1, items: lines };
}

/** The orders a customer placed under any of these keys (the training lab's count of the protected side). */
export async function ordersPlacedWithKeys(db: Executor, customerId: string, keys: string[]): Promise<number[]> {
  if (keys.length === 0) return [];
  const placed = await db
    .select({ id: orders.id })
    .from(orders)
    .where(and(eq(orders.customerId, customerId), inArray(orders.placementKey, keys)));
  return placed.map((order) => order.id);
}
