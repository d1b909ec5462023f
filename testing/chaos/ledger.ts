/**
 * Both ledgers as they are after the soak, read straight from the source: the app's tables through an admin
 * connection (not the app's code), the provider's through its paged HTTP listing, and the Redis store's keys by
 * SCAN. The checker judges these against the history.
 */
import { Redis } from "ioredis";
import mysql from "mysql2/promise";
import { providerAuth } from "../provider-server";
import { adminUrl } from "../test-database";
import type { Cluster } from "./cluster";

export interface OrderRow {
  id: number;
  customerId: string;
  placementKey: string;
  status: string;
  totalCents: number;
}

export interface PaymentRow {
  id: number;
  orderId: number;
  customerId: string;
  requestKey: string;
  status: string;
  amountCents: number;
  refundedCents: number;
  providerKey: string;
  providerChargeId: string | null;
  declineCode: string | null;
}

export interface RefundRow {
  id: number;
  paymentId: number;
  customerId: string;
  requestKey: string;
  amountCents: number;
  status: string;
  providerKey: string;
  providerRefundId: string | null;
  failureCode: string | null;
}

/** An idempotency key from whichever store holds them. */
export interface KeyRow {
  store: "mysql" | "redis";
  name: string;
  procedurePath: string;
  status: string;
  recoveryPoint: string;
}

export interface RepairRow {
  providerObjectId: string;
  providerRefundKey: string;
  amountCents: number;
  status: string;
}

export interface ProviderCharge {
  id: string;
  idempotencyKey: string;
  status: "succeeded" | "declined" | "canceled";
  amountCents: number | null;
  currency: string | null;
  reference: string | null;
  refundedCents: number;
}

export interface ProviderRefund {
  id: string;
  idempotencyKey: string;
  chargeId: string | null;
  amountCents: number | null;
  status: "succeeded" | "canceled";
}

export interface Ledgers {
  orders: OrderRow[];
  payments: PaymentRow[];
  refunds: RefundRow[];
  keys: KeyRow[];
  repairs: RepairRow[];
  charges: ProviderCharge[];
  providerRefunds: ProviderRefund[];
}

// Binary key columns come back as Buffers.
const text = (value: unknown) => (Buffer.isBuffer(value) ? value.toString("utf8") : String(value));

async function appTables(cluster: Cluster) {
  const connection = await mysql.createConnection({ uri: adminUrl, database: cluster.appDatabase.database });
  const select = async (sql: string) => (await connection.query(sql))[0] as Record<string, unknown>[];
  try {
    const orders = (
      await select("SELECT id, customer_id, placement_key, status, total_cents FROM orders ORDER BY id")
    ).map(
      (r): OrderRow => ({
        id: Number(r.id),
        customerId: text(r.customer_id),
        placementKey: text(r.placement_key),
        status: text(r.status),
        totalCents: Number(r.total_cents),
      }),
    );
    const payments = (
      await select(
        `SELECT id, order_id, customer_id, request_key, status, amount_cents, refunded_cents, provider_key,
                provider_charge_id, decline_code FROM payments ORDER BY id`,
      )
    ).map(
      (r): PaymentRow => ({
        id: Number(r.id),
        orderId: Number(r.order_id),
        customerId: text(r.customer_id),
        requestKey: text(r.request_key),
        status: text(r.status),
        amountCents: Number(r.amount_cents),
        refundedCents: Number(r.refunded_cents),
        providerKey: text(r.provider_key),
        providerChargeId: r.provider_charge_id === null ? null : text(r.provider_charge_id),
        declineCode: r.decline_code === null ? null : text(r.decline_code),
      }),
    );
    const refunds = (
      await select(
        `SELECT id, payment_id, customer_id, request_key, amount_cents, status, provider_key, provider_refund_id,
                failure_code FROM refunds ORDER BY id`,
      )
    ).map(
      (r): RefundRow => ({
        id: Number(r.id),
        paymentId: Number(r.payment_id),
        customerId: text(r.customer_id),
        requestKey: text(r.request_key),
        amountCents: Number(r.amount_cents),
        status: text(r.status),
        providerKey: text(r.provider_key),
        providerRefundId: r.provider_refund_id === null ? null : text(r.provider_refund_id),
        failureCode: r.failure_code === null ? null : text(r.failure_code),
      }),
    );
    const keys = (
      await select("SELECT customer_id, idempotency_key, procedure_path, status, recovery_point FROM idempotency_keys")
    ).map(
      (r): KeyRow => ({
        store: "mysql",
        name: `${text(r.customer_id)}/${text(r.idempotency_key)}`,
        procedurePath: text(r.procedure_path),
        status: text(r.status),
        recoveryPoint: text(r.recovery_point),
      }),
    );
    const repairs = (
      await select("SELECT provider_object_id, provider_refund_key, amount_cents, status FROM reconciliation_repairs")
    ).map(
      (r): RepairRow => ({
        providerObjectId: text(r.provider_object_id),
        providerRefundKey: text(r.provider_refund_key),
        amountCents: Number(r.amount_cents),
        status: text(r.status),
      }),
    );
    return { orders, payments, refunds, keys, repairs };
  } finally {
    await connection.end();
  }
}

/** Every idempotency key in the Redis store: `idem:…` strings, the owner token (36 chars) then the record JSON. */
async function redisKeys(url: string): Promise<KeyRow[]> {
  const redis = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 1 });
  await redis.connect();
  try {
    const keys: KeyRow[] = [];
    let cursor = "0";
    do {
      const [next, names] = await redis.scan(cursor, "MATCH", "idem:*", "COUNT", 1000);
      cursor = next;
      for (const name of names) {
        const raw = await redis.get(name);
        if (raw === null) continue;
        const newline = raw.indexOf("\n", 36);
        const record = JSON.parse(raw.slice(36, newline === -1 ? undefined : newline)) as Record<string, string>;
        keys.push({
          store: "redis",
          name,
          procedurePath: String(record.procedurePath),
          status: String(record.status),
          recoveryPoint: String(record.recoveryPoint),
        });
      }
    } while (cursor !== "0");
    return keys;
  } finally {
    redis.disconnect();
  }
}

async function providerPages<T extends { id: string }>(providerUrl: string, kind: "charges" | "refunds") {
  const all: T[] = [];
  let after = "";
  for (;;) {
    const response = await fetch(`${providerUrl}/v1/${kind}?after=${encodeURIComponent(after)}&limit=500`, {
      headers: providerAuth,
    });
    if (!response.ok) throw new Error(`provider ${kind} listing answered HTTP ${response.status}`);
    const page = (await response.json()) as { data: T[]; hasMore: boolean };
    all.push(...page.data);
    const last = page.data.at(-1);
    if (!page.hasMore || !last) return all;
    after = last.id;
  }
}

export async function readLedgers(cluster: Cluster): Promise<Ledgers> {
  const [app, redisStoreKeys, charges, providerRefunds] = await Promise.all([
    appTables(cluster),
    cluster.redis ? redisKeys(cluster.redis.url) : Promise.resolve([]),
    providerPages<ProviderCharge>(cluster.providerUrl, "charges"),
    providerPages<ProviderRefund>(cluster.providerUrl, "refunds"),
  ]);
  return { ...app, keys: [...app.keys, ...redisStoreKeys], charges, providerRefunds };
}

/** What is still unresolved (contract §4, "nothing stays unresolved"): empty once everything has settled. */
export function unresolvedIn(ledgers: Pick<Ledgers, "orders" | "payments" | "refunds" | "keys">): string[] {
  return [
    ...ledgers.orders.filter((o) => o.status === "paying").map((o) => `order ${o.id} is paying`),
    ...ledgers.payments.filter((p) => p.status === "pending").map((p) => `payment ${p.id} is pending`),
    ...ledgers.refunds.filter((r) => r.status === "pending").map((r) => `refund ${r.id} is pending`),
    ...ledgers.keys
      .filter((k) => k.status === "in_progress")
      .map((k) => `${k.store} key ${k.name} (${k.procedurePath}) is in progress at ${k.recoveryPoint}`),
  ];
}

/** Only what `unresolvedIn` needs, for polling while background work settles. */
export async function readUnresolved(cluster: Cluster): Promise<string[]> {
  const [app, redisStoreKeys] = await Promise.all([
    appTables(cluster),
    cluster.redis ? redisKeys(cluster.redis.url) : Promise.resolve([]),
  ]);
  return unresolvedIn({ ...app, keys: [...app.keys, ...redisStoreKeys] });
}
