/**
 * The whole data model of the idempotency contract (../shared/IDEMPOTENCY.md).
 * Every guarantee that can live in the database does: unique keys, not application checks, stop duplicates.
 */
import { sql } from "drizzle-orm";
import {
  bigint,
  char,
  check,
  datetime,
  index,
  int,
  mediumtext,
  mysqlEnum,
  mysqlTable,
  primaryKey,
  uniqueIndex,
  varbinary,
  varchar,
} from "drizzle-orm/mysql-core";

const createdAt = () => datetime("created_at", { mode: "date", fsp: 3 }).notNull().default(sql`CURRENT_TIMESTAMP(3)`);
const updatedAt = () => datetime("updated_at", { mode: "date", fsp: 3 }).notNull().default(sql`CURRENT_TIMESTAMP(3)`);

/**
 * A merchant account: catalog edits and refunds need its login. Sessions signed before `signedOutAt` (unix
 * seconds) are refused, so signing out ends every session of the account.
 */
export const merchants = mysqlTable("merchants", {
  id: int("id").autoincrement().primaryKey(),
  email: varchar("email", { length: 254 }).notNull().unique(),
  /** scrypt, self-describing (server/merchant/password.ts). */
  passwordHash: varchar("password_hash", { length: 255 }).notNull(),
  signedOutAt: int("signed_out_at").notNull().default(0),
  createdAt: createdAt(),
});

/** rate-limiter-flexible's table (RateLimiterMySQL), created here because the app's user may not create tables. */
export const rateLimits = mysqlTable("rate_limits", {
  key: varchar("key", { length: 255 }).primaryKey(),
  points: int("points").notNull().default(0),
  expire: bigint("expire", { mode: "number", unsigned: true }),
});

/** A guest shopper, identified by the signed session cookie. */
export const customers = mysqlTable("customers", {
  id: char("id", { length: 36 }).primaryKey(),
  createdAt: createdAt(),
});

export const products = mysqlTable("products", {
  id: int("id").autoincrement().primaryKey(),
  sku: varchar("sku", { length: 64 }).notNull().unique(),
  name: varchar("name", { length: 120 }).notNull(),
  description: varchar("description", { length: 500 }).notNull().default(""),
  priceCents: int("price_cents").notNull(),
  currency: char("currency", { length: 3 }).notNull(),
  /** Optimistic-locking version: every rename matches it and bumps it. */
  version: int("version").notNull().default(1),
  createdAt: createdAt(),
  updatedAt: updatedAt(),
});

export const categories = mysqlTable("categories", {
  id: int("id").autoincrement().primaryKey(),
  slug: varchar("slug", { length: 64 }).notNull().unique(),
  name: varchar("name", { length: 80 }).notNull(),
});

/** Linked with INSERT … ON DUPLICATE KEY UPDATE: the primary key makes a link exist at most once. */
export const productCategories = mysqlTable(
  "product_categories",
  {
    productId: int("product_id")
      .notNull()
      .references(() => products.id, { onDelete: "cascade" }),
    categoryId: int("category_id")
      .notNull()
      .references(() => categories.id, { onDelete: "cascade" }),
    createTime: datetime("create_time", { mode: "date", fsp: 3 }).notNull().default(sql`CURRENT_TIMESTAMP(3)`),
    updateTime: datetime("update_time", { mode: "date", fsp: 3 }).notNull().default(sql`CURRENT_TIMESTAMP(3)`),
  },
  (t) => [primaryKey({ columns: [t.productId, t.categoryId] })],
);

/**
 * `paying`: a payment holds the order (recovery point payment_created) until it succeeds or fails.
 * `partially_refunded` / `refunded`: the merchant gave back part or all of the paid amount.
 */
export const orderStatuses = ["awaiting_payment", "paying", "paid", "partially_refunded", "refunded"] as const;

export const orders = mysqlTable(
  "orders",
  {
    /**
     * Random, not sequential (services/orders.ts): an order's number, shown to its customer, tells nothing of the
     * shop's volume and cannot be stepped through.
     */
    id: int("id").primaryKey(),
    customerId: char("customer_id", { length: 36 })
      .notNull()
      .references(() => customers.id),
    /**
     * The idempotency key the order was placed with. Unique per customer, so a retried "place order" can never
     * create a second order even after its idempotency record has expired (defence in depth).
     */
    placementKey: varbinary("placement_key", { length: 255 }).notNull(),
    status: mysqlEnum("status", orderStatuses).notNull().default("awaiting_payment"),
    totalCents: int("total_cents").notNull(),
    currency: char("currency", { length: 3 }).notNull(),
    version: int("version").notNull().default(1),
    createdAt: createdAt(),
    updatedAt: updatedAt(),
  },
  (t) => [
    uniqueIndex("orders_customer_placement_key").on(t.customerId, t.placementKey),
    // The merchant's order list, newest first.
    index("orders_created").on(t.createdAt, t.id),
  ],
);

export const orderItems = mysqlTable(
  "order_items",
  {
    id: int("id").autoincrement().primaryKey(),
    orderId: int("order_id")
      .notNull()
      .references(() => orders.id, { onDelete: "cascade" }),
    productId: int("product_id")
      .notNull()
      .references(() => products.id),
    /** Name and price as they were when the order was placed: a later rename does not rewrite history. */
    productName: varchar("product_name", { length: 120 }).notNull(),
    unitPriceCents: int("unit_price_cents").notNull(),
    quantity: int("quantity").notNull(),
  },
  (t) => [uniqueIndex("order_items_order_product").on(t.orderId, t.productId)],
);

export const paymentStatuses = ["pending", "succeeded", "failed"] as const;

export const payments = mysqlTable(
  "payments",
  {
    id: int("id").autoincrement().primaryKey(),
    orderId: int("order_id")
      .notNull()
      .references(() => orders.id),
    customerId: char("customer_id", { length: 36 })
      .notNull()
      .references(() => customers.id),
    /** The idempotency key of the payments.pay request that created it: one payment per request, ever. */
    requestKey: varbinary("request_key", { length: 255 }).notNull(),
    status: mysqlEnum("status", paymentStatuses).notNull().default("pending"),
    amountCents: int("amount_cents").notNull(),
    refundedCents: int("refunded_cents").notNull().default(0),
    currency: char("currency", { length: 3 }).notNull(),
    /** Only the last four digits are ever stored. */
    cardLast4: char("card_last4", { length: 4 }).notNull(),
    /** The Idempotency-Key sent to the provider, derived from the payment: a resumed attempt reuses it. */
    providerKey: varchar("provider_key", { length: 255 }).notNull().unique(),
    providerChargeId: varchar("provider_charge_id", { length: 64 }),
    declineCode: varchar("decline_code", { length: 64 }),
    version: int("version").notNull().default(1),
    /**
     * Equals order_id only while the payment has succeeded. MariaDB has no partial indexes, so this generated
     * column carries the rule "an order has at most one succeeded payment" as a plain unique index
     * (NULLs never collide).
     */
    succeededOrderId: int("succeeded_order_id").generatedAlwaysAs(
      sql`(case when \`status\` = 'succeeded' then \`order_id\` end)`,
      { mode: "stored" },
    ),
    createdAt: createdAt(),
    updatedAt: updatedAt(),
  },
  (t) => [
    uniqueIndex("payments_one_success_per_order").on(t.succeededOrderId),
    uniqueIndex("payments_customer_request_key").on(t.customerId, t.requestKey),
    index("payments_order").on(t.orderId),
    // Concurrent refunds can never add up to more than was paid, whatever the application does.
    check("payments_refunds_within_amount", sql`refunded_cents between 0 and amount_cents`),
  ],
);

export const refundStatuses = ["pending", "succeeded", "failed"] as const;

export const refunds = mysqlTable(
  "refunds",
  {
    id: int("id").autoincrement().primaryKey(),
    paymentId: int("payment_id")
      .notNull()
      .references(() => payments.id),
    customerId: char("customer_id", { length: 36 })
      .notNull()
      .references(() => customers.id),
    requestKey: varbinary("request_key", { length: 255 }).notNull(),
    amountCents: int("amount_cents").notNull(),
    /**
     * pending: the amount is reserved on the payment and the provider has been or will be asked.
     * failed: the provider refused it or its key was cancelled unused; the reservation was given back.
     */
    status: mysqlEnum("status", refundStatuses).notNull().default("pending"),
    providerKey: varchar("provider_key", { length: 255 }).notNull().unique(),
    providerRefundId: varchar("provider_refund_id", { length: 64 }),
    /** Why a failed refund failed: `not_completed` (cancelled unused) or the provider's refusal. */
    failureCode: varchar("failure_code", { length: 64 }),
    createdAt: createdAt(),
    updatedAt: updatedAt(),
  },
  (t) => [
    index("refunds_payment").on(t.paymentId),
    index("refunds_customer").on(t.customerId),
    // Refunds are the merchant's: their keys share one scope (services/refunds.ts).
    uniqueIndex("refunds_request_key").on(t.requestKey),
  ],
);

export const idempotencyStatuses = ["in_progress", "completed"] as const;

/** The dedup table: one row per (customer, idempotency key). */
export const idempotencyKeys = mysqlTable(
  "idempotency_keys",
  {
    customerId: char("customer_id", { length: 36 }).notNull(),
    /** Binary, so keys compare byte for byte ("abc" and "ABC" are different keys). */
    idempotencyKey: varbinary("idempotency_key", { length: 255 }).notNull(),
    procedurePath: varchar("procedure_path", { length: 128 }).notNull(),
    /** SHA-256 (hex) of the procedure path and the canonical input without the key. */
    fingerprint: char("fingerprint", { length: 64 }).notNull(),
    status: mysqlEnum("status", idempotencyStatuses).notNull(),
    recoveryPoint: varchar("recovery_point", { length: 64 }).notNull(),
    /** The lease: only the holder of owner_token may advance, complete or release the key until locked_until. */
    ownerToken: char("owner_token", { length: 36 }),
    lockedUntil: datetime("locked_until", { mode: "date", fsp: 3 }),
    /** The final outcome as stored JSON text, replayed byte for byte. */
    response: mediumtext("response"),
    firstSeenAt: datetime("first_seen_at", { mode: "date", fsp: 3 }).notNull(),
    expiresAt: datetime("expires_at", { mode: "date", fsp: 3 }).notNull(),
    updatedAt: updatedAt(),
  },
  (t) => [
    // The key itself is the primary key: a claim inserts into one clustered index (plus the purge's expiry
    // index) rather than also into a surrogate id's.
    primaryKey({ name: "idempotency_keys_customer_key", columns: [t.customerId, t.idempotencyKey] }),
    index("idempotency_keys_expires_at").on(t.expiresAt),
    // The background resumer looks for unfinished keys whose lease has lapsed.
    index("idempotency_keys_unfinished").on(t.status, t.lockedUntil),
  ],
);

/**
 * Leases for background work (completer, reconciler, purge): whichever app server holds a job's row runs it,
 * so there is exactly one active runner across all servers; a runner that dies stops renewing and is replaced.
 */
export const backgroundLeases = mysqlTable("background_leases", {
  job: varchar("job", { length: 64 }).primaryKey(),
  ownerToken: char("owner_token", { length: 36 }).notNull(),
  lockedUntil: datetime("locked_until", { mode: "date", fsp: 3 }).notNull(),
});

/**
 * What the reconciler repaired at the provider: one row per provider object it acted on (unique), so a repair
 * is made once, and its refund key is derived from that object.
 */
export const reconciliationRepairs = mysqlTable("reconciliation_repairs", {
  id: int("id").autoincrement().primaryKey(),
  /** The provider's charge id the repair is about. */
  providerObjectId: varchar("provider_object_id", { length: 64 }).notNull().unique(),
  kind: mysqlEnum("kind", ["stray_charge_refunded"]).notNull(),
  providerRefundKey: varchar("provider_refund_key", { length: 255 }).notNull().unique(),
  amountCents: int("amount_cents").notNull(),
  currency: char("currency", { length: 3 }).notNull(),
  /** pending until the provider confirmed the refund. */
  status: mysqlEnum("status", ["pending", "done"]).notNull().default("pending"),
  createdAt: createdAt(),
  updatedAt: updatedAt(),
});

/*
 * The training lab's own tables (server/lab/). The lab's unprotected twin writes here and nowhere else: no key, no
 * unique constraint, so a trainee can watch a duplicate happen without it ever touching the shop's data.
 */

/** An order as the unprotected twin places it: one row per request that reached it, duplicates included. */
export const labOrders = mysqlTable(
  "lab_orders",
  {
    id: bigint("id", { mode: "number", unsigned: true }).autoincrement().primaryKey(),
    /** The trainee's guest id (the lab session's subject). */
    labSession: char("lab_session", { length: 36 }).notNull(),
    /** One run of one scenario. */
    run: char("run", { length: 36 }).notNull(),
    totalCents: int("total_cents").notNull(),
    createdAt: createdAt(),
  },
  (table) => [index("lab_orders_run").on(table.labSession, table.run)],
);

/**
 * One step of an attempt, as the lab's timeline and sequence diagrams show it: who sent it, which process served
 * it, what it reached, and how it ended.
 */
export const labEvents = mysqlTable(
  "lab_events",
  {
    id: bigint("id", { mode: "number", unsigned: true }).autoincrement().primaryKey(),
    labSession: char("lab_session", { length: 36 }).notNull(),
    run: varchar("run", { length: 36 }),
    /** One HTTP attempt: every step it reached shares it. */
    attempt: char("attempt", { length: 36 }),
    side: mysqlEnum("side", ["unprotected", "protected"]).notNull(),
    tab: varchar("tab", { length: 64 }),
    servedBy: varchar("served_by", { length: 128 }).notNull(),
    procedurePath: varchar("procedure_path", { length: 64 }).notNull(),
    idempotencyKey: varchar("idempotency_key", { length: 255 }),
    /** What happened: `arrived`, a named point of the work (`claimed`, `charge_attempted`, …) or `answered`. */
    step: varchar("step", { length: 32 }).notNull().default("answered"),
    /** What the step knows of itself: for `claimed`, the recovery point the claim found. */
    detail: varchar("detail", { length: 64 }),
    httpStatus: int("http_status").notNull(),
    outcome: varchar("outcome", { length: 64 }).notNull(),
    createdAt: createdAt(),
  },
  (table) => [index("lab_events_session").on(table.labSession, table.id)],
);

/**
 * A charge as the unprotected twin's provider makes it: the twin asks without a key, so the provider cannot know
 * a retry from a new purchase, and every request that reaches it charges.
 */
export const labCharges = mysqlTable(
  "lab_charges",
  {
    id: bigint("id", { mode: "number", unsigned: true }).autoincrement().primaryKey(),
    labSession: char("lab_session", { length: 36 }).notNull(),
    run: char("run", { length: 36 }).notNull(),
    amountCents: int("amount_cents").notNull(),
    createdAt: createdAt(),
  },
  (table) => [index("lab_charges_run").on(table.labSession, table.run)],
);

/**
 * A product as the twin's blind update edits it: a name and no version, so the last writer wins and the first
 * writer's edit is lost without anyone being told.
 */
export const labProducts = mysqlTable(
  "lab_products",
  {
    id: bigint("id", { mode: "number", unsigned: true }).autoincrement().primaryKey(),
    labSession: char("lab_session", { length: 36 }).notNull(),
    run: char("run", { length: 36 }).notNull(),
    name: varchar("name", { length: 200 }).notNull(),
    createdAt: createdAt(),
  },
  (table) => [index("lab_products_run").on(table.labSession, table.run)],
);

/** A product↔category link as the twin's plain INSERT makes it: no key over the pair, so a retry adds a row. */
export const labLinks = mysqlTable(
  "lab_links",
  {
    id: bigint("id", { mode: "number", unsigned: true }).autoincrement().primaryKey(),
    labSession: char("lab_session", { length: 36 }).notNull(),
    run: char("run", { length: 36 }).notNull(),
    productId: int("product_id").notNull(),
    categoryId: int("category_id").notNull(),
    createdAt: createdAt(),
  },
  (table) => [index("lab_links_run").on(table.labSession, table.run)],
);
