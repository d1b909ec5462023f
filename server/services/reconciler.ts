/**
 * Reconciliation: the provider's ledger and ours must match one-to-one, by the provider key and the amount.
 * Every provider charge and refund that succeeded belongs to exactly one succeeded payment or refund of ours (or
 * to a repair recorded here), and every succeeded payment and refund of ours exists at the provider.
 *
 * What is safe to repair is repaired: a provider charge with no succeeded payment (money taken that the shop
 * never recorded) is refunded in full under a key derived from that charge, and the repair is recorded first,
 * so a crash mid-repair resumes with the same key and a second run finds nothing to do. What cannot be repaired
 * without a person (a succeeded payment the provider has no charge for, amounts that differ) is reported.
 * Pending payments and refunds are the completer's, not the reconciler's.
 */
import { createHash } from "node:crypto";
import { eq, sql } from "drizzle-orm";
import type { Database } from "@/db/client";
import { payments, reconciliationRepairs, refunds } from "@/db/schema";
import type { PaymentProvider, ProviderCharge } from "./payment-provider";

export interface ReconciliationReport {
  providerCharges: number;
  providerRefunds: number;
  matched: number;
  /** Left to the completer: a pending payment or refund of ours. */
  pending: number;
  repairs: string[];
  /** Differences a person must look at. */
  discrepancies: string[];
}

/** The provider key of the refund that gives back a stray charge: a pure function of that charge. */
export function repairKeyFor(chargeId: string): string {
  return `eoc_recon_${createHash("sha256").update(chargeId).digest("hex").slice(0, 40)}`;
}

async function collect<T>(items: AsyncIterable<T>): Promise<T[]> {
  const all: T[] = [];
  for await (const item of items) all.push(item);
  return all;
}

export async function reconcile(deps: { db: Database; provider: PaymentProvider }): Promise<ReconciliationReport> {
  const { db, provider } = deps;
  const [charges, providerRefunds, ourPayments, ourRefunds, repairs] = await Promise.all([
    collect(provider.allCharges()),
    collect(provider.allRefunds()),
    db.select().from(payments),
    db.select().from(refunds),
    db.select().from(reconciliationRepairs),
  ]);
  const report: ReconciliationReport = {
    providerCharges: charges.length,
    providerRefunds: providerRefunds.length,
    matched: 0,
    pending: 0,
    repairs: [],
    discrepancies: [],
  };
  const paymentByKey = new Map(ourPayments.map((payment) => [payment.providerKey, payment]));
  const repairByCharge = new Map(repairs.map((repair) => [repair.providerObjectId, repair]));
  const chargeByKey = new Map(charges.map((charge) => [charge.idempotencyKey, charge]));

  for (const charge of charges) {
    if (charge.status !== "succeeded") continue;
    const payment = paymentByKey.get(charge.idempotencyKey);
    if (payment?.status === "pending") {
      report.pending++;
    } else if (payment?.status === "succeeded") {
      if (payment.amountCents === charge.amountCents && payment.providerChargeId === charge.id) report.matched++;
      else report.discrepancies.push(`payment ${payment.id} and provider charge ${charge.id} differ`);
    } else {
      await repairStrayCharge(deps, charge, repairByCharge.get(charge.id), report);
    }
  }
  for (const payment of ourPayments) {
    if (payment.status !== "succeeded") continue;
    const charge = chargeByKey.get(payment.providerKey);
    if (charge?.status !== "succeeded") {
      report.discrepancies.push(`payment ${payment.id} succeeded but the provider has no succeeded charge for it`);
    }
  }

  const refundByKey = new Map(ourRefunds.map((refund) => [refund.providerKey, refund]));
  const repairByRefundKey = new Map(repairs.map((repair) => [repair.providerRefundKey, repair]));
  const providerRefundByKey = new Map(providerRefunds.map((refund) => [refund.idempotencyKey, refund]));
  for (const providerRefund of providerRefunds) {
    if (providerRefund.status !== "succeeded") continue;
    const ours = refundByKey.get(providerRefund.idempotencyKey);
    const repair = repairByRefundKey.get(providerRefund.idempotencyKey);
    if (ours?.status === "pending") report.pending++;
    else if (ours?.status === "succeeded" && ours.amountCents === providerRefund.amountCents) report.matched++;
    else if (repair && repair.amountCents === providerRefund.amountCents) report.matched++;
    else report.discrepancies.push(`provider refund ${providerRefund.id} matches no refund of ours`);
  }
  for (const refund of ourRefunds) {
    if (refund.status !== "succeeded") continue;
    if (providerRefundByKey.get(refund.providerKey)?.status !== "succeeded") {
      report.discrepancies.push(`refund ${refund.id} succeeded but the provider has no succeeded refund for it`);
    }
  }
  return report;
}

/** Gives a stray charge's money back, recording the repair before asking the provider, once per charge. */
async function repairStrayCharge(
  deps: { db: Database; provider: PaymentProvider },
  charge: ProviderCharge,
  recorded: typeof reconciliationRepairs.$inferSelect | undefined,
  report: ReconciliationReport,
) {
  if (recorded?.status === "done") {
    report.matched++;
    return;
  }
  let repair = recorded;
  if (!repair) {
    const amountCents = (charge.amountCents ?? 0) - charge.refundedCents;
    if (amountCents <= 0) {
      report.discrepancies.push(`provider charge ${charge.id} has no payment of ours and nothing left to refund`);
      return;
    }
    const row = {
      providerObjectId: charge.id,
      kind: "stray_charge_refunded" as const,
      providerRefundKey: repairKeyFor(charge.id),
      amountCents,
      currency: charge.currency ?? "",
    };
    await deps.db
      .insert(reconciliationRepairs)
      .values(row)
      .onDuplicateKeyUpdate({ set: { id: sql`id` } });
    [repair] = await deps.db
      .select()
      .from(reconciliationRepairs)
      .where(eq(reconciliationRepairs.providerObjectId, charge.id));
  }
  if (!repair) return;
  const refund = await deps.provider.refund(repair.providerRefundKey, {
    chargeId: charge.id,
    amountCents: repair.amountCents,
  });
  if (refund.status !== "succeeded") {
    report.discrepancies.push(`refund of stray charge ${charge.id} was refused by the provider`);
    return;
  }
  await deps.db.update(reconciliationRepairs).set({ status: "done" }).where(eq(reconciliationRepairs.id, repair.id));
  report.repairs.push(`refunded stray provider charge ${charge.id} (${repair.amountCents} ${repair.currency})`);
}
