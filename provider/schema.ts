/** The simulated payment provider's own tables, in its own database: the app never reads them. */
import { sql } from "drizzle-orm";
import { char, datetime, int, mysqlEnum, mysqlTable, varchar } from "drizzle-orm/mysql-core";

const createdAt = () => datetime("created_at", { mode: "date", fsp: 3 }).notNull().default(sql`CURRENT_TIMESTAMP(3)`);

export const charges = mysqlTable("charges", {
  id: varchar("id", { length: 32 }).primaryKey(),
  /** The Idempotency-Key the merchant sent: one charge per key, like any good payment API. */
  idempotencyKey: varchar("idempotency_key", { length: 255 }).notNull().unique(),
  requestHash: char("request_hash", { length: 64 }).notNull(),
  amountCents: int("amount_cents").notNull(),
  currency: char("currency", { length: 3 }).notNull(),
  cardLast4: char("card_last4", { length: 4 }).notNull(),
  reference: varchar("reference", { length: 128 }).notNull(),
  status: mysqlEnum("status", ["succeeded", "declined"]).notNull(),
  declineCode: varchar("decline_code", { length: 64 }),
  refundedCents: int("refunded_cents").notNull().default(0),
  createdAt: createdAt(),
});

export const refunds = mysqlTable("refunds", {
  id: varchar("id", { length: 32 }).primaryKey(),
  idempotencyKey: varchar("idempotency_key", { length: 255 }).notNull().unique(),
  chargeId: varchar("charge_id", { length: 32 })
    .notNull()
    .references(() => charges.id),
  amountCents: int("amount_cents").notNull(),
  createdAt: createdAt(),
});
