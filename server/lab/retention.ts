/**
 * The lab's rows are kept for a day: the background work deletes older ones, so a lab left open on a shared
 * demo server never grows without bound. `npm run lab:reset` deletes them all between groups.
 */
import { type Column, lt } from "drizzle-orm";
import type { Executor } from "@/db/client";
import { labCharges, labEvents, labLinks, labOrders, labProducts } from "@/db/schema";

export const labRetentionMs = 24 * 3600_000;

/** Deletes the lab's rows made before `before` (all of them without it); returns how many went. */
export async function deleteLabRecords(db: Executor, before?: Date): Promise<number> {
  const madeBefore = (createdAt: Column) => (before ? lt(createdAt, before) : undefined);
  const results = await Promise.all([
    db.delete(labEvents).where(madeBefore(labEvents.createdAt)),
    db.delete(labOrders).where(madeBefore(labOrders.createdAt)),
    db.delete(labCharges).where(madeBefore(labCharges.createdAt)),
    db.delete(labProducts).where(madeBefore(labProducts.createdAt)),
    db.delete(labLinks).where(madeBefore(labLinks.createdAt)),
  ]);
  return results.reduce((sum, [result]) => sum + result.affectedRows, 0);
}
