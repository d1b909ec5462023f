/** The simulated payment provider's own tables, in its own database: the app never reads them. */
import { sql } from "drizzle-orm";
import { char, datetime, int, mysqlEnum, mysqlTable, varchar } from "drizzle-orm/mysql-core";

const createdAt = () => datetime("created_at", { mode: "date", fsp: 3 }).notNull().default(sql`CURRENT_TIMESTAMP(3)`);

/**
 * One row per Idempotency-Key the merchant ever sent or cancelled. `canceled` is a tombstone: the merchant voided
 * the key before any charge existed, so a request with that key arriving later loses the race for this unique key
 * and is refused (the columns describing the charge stay empty then).
 */
export const charges = mysqlTable("charges", {
  id: varchar("id", { length: 32 }).primaryKey(),
  /** The Idempotency-Key the merchant sent: one charge per key, like any good payment API. */
  idempotencyKey: varchar("idempotency_key", { length: 255 }).notNull().unique(),
  requestHash: char("request_hash", { length: 64 }),
  amountCents: int("amount_cents"),
  currency: char("currency", { length: 3 }),
  cardLast4: char("card_last4", { length: 4 }),
  reference: varchar("reference", { length: 128 }),
  status: mysqlEnum("status", ["succeeded", "declined", "canceled"]).notNull(),
  declineCode: varchar("decline_code", { length: 64 }),
  refundedCents: int("refunded_cents").notNull().default(0),
  createdAt: createdAt(),
});

/** As charges: one row per key, `canceled` a tombstone with no charge or amount. */
export const refunds = mysqlTable("refunds", {
  id: varchar("id", { length: 32 }).primaryKey(),
  idempotencyKey: varchar("idempotency_key", { length: 255 }).notNull().unique(),
  chargeId: varchar("charge_id", { length: 32 }).references(() => charges.id),
  amountCents: int("amount_cents"),
  status: mysqlEnum("status", ["succeeded", "canceled"]).notNull().default("succeeded"),
  createdAt: createdAt(),
});
