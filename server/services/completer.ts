/**
 * Finishes work abandoned mid-flight (a crashed server, a provider that failed, a client that never came back)
 * without any client retry, so that nothing stays unresolved past the lease plus one background interval:
 *
 * - a payment or refund still pending once its lease could have lapsed is resumed under its own key and settled
 *   by what the provider did with its key, cancelling that key first so a lookup miss is final;
 * - an idempotency key left in progress with nobody holding it is finished from its business row: a payment or
 *   refund is settled as above, a placed order is answered with that order, and a key under which nothing was
 *   done is forgotten (a retry with it runs anew, and the business unique indexes still stop a second write).
 */
import { and, eq, lt } from "drizzle-orm";
import type { Database } from "@/db/client";
import { orders, payments, refunds } from "@/db/schema";
import type { IdempotencyRecord, IdempotencySettings } from "../idempotency";
import { loadOrder } from "./orders";
import type { PaymentProvider } from "./payment-provider";
import { payProcedurePath, resumePayment } from "./payments";
import { refundProcedurePath, resumeRefund } from "./refunds";
import { type ResumeOutcome, resumeUnderKey } from "./resume";

export interface CompletionReport {
  subject: string;
  outcome: ResumeOutcome | "error";
  detail?: string;
}

export interface CompleterDependencies {
  db: Database;
  provider: PaymentProvider;
  settings: IdempotencySettings;
}

/** How many rows of each kind one pass looks at: a backlog is worked off over several passes. */
const batchSize = 200;

async function report(subject: string, resume: () => Promise<{ outcome: ResumeOutcome }>): Promise<CompletionReport> {
  try {
    return { subject, outcome: (await resume()).outcome };
  } catch (error) {
    return { subject, outcome: "error", detail: error instanceof Error ? error.message : String(error) };
  }
}

/** Finishes one key from its record: through its business row when there is one, else by forgetting it. */
async function finishKey(deps: CompleterDependencies, record: IdempotencyRecord): Promise<{ outcome: ResumeOutcome }> {
  const { db, settings } = deps;
  if (record.procedurePath === payProcedurePath) {
    const [payment] = await db
      .select()
      .from(payments)
      .where(and(eq(payments.customerId, record.scope), eq(payments.requestKey, record.key)));
    if (payment) return resumePayment(deps, payment);
  } else if (record.procedurePath === refundProcedurePath) {
    const [refund] = await db.select().from(refunds).where(eq(refunds.requestKey, record.key));
    if (refund) return resumeRefund(deps, refund);
  } else if (record.procedurePath === "orders.place") {
    const [order] = await db
      .select({ id: orders.id })
      .from(orders)
      .where(and(eq(orders.customerId, record.scope), eq(orders.placementKey, record.key)));
    if (order) {
      return resumeUnderKey(settings, { ...record, fingerprint: { value: record.fingerprint } }, async () => ({
        order: await loadOrder(db, order.id),
      }));
    }
  }
  return resumeUnderKey(settings, { ...record, fingerprint: { value: record.fingerprint } }, (step) => step.forget());
}

export async function completeAbandonedWork(deps: CompleterDependencies): Promise<CompletionReport[]> {
  const { db, settings } = deps;
  const leaseLapsed = new Date(Date.now() - settings.leaseMs);
  const reports: CompletionReport[] = [];

  const pendingPayments = await db
    .select()
    .from(payments)
    .where(and(eq(payments.status, "pending"), lt(payments.createdAt, leaseLapsed)))
    .limit(batchSize);
  for (const payment of pendingPayments) {
    reports.push(await report(`payment ${payment.id}`, () => resumePayment(deps, payment)));
  }

  const pendingRefunds = await db
    .select()
    .from(refunds)
    .where(and(eq(refunds.status, "pending"), lt(refunds.createdAt, leaseLapsed)))
    .limit(batchSize);
  for (const refund of pendingRefunds) {
    reports.push(await report(`refund ${refund.id}`, () => resumeRefund(deps, refund)));
  }

  for (const record of await settings.store.abandoned(leaseLapsed, batchSize)) {
    reports.push(await report(`key ${record.procedurePath} ${record.key}`, () => finishKey(deps, record)));
  }
  return reports;
}
