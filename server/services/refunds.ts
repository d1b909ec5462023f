/**
 * Partial refunds of a succeeded payment, made by the merchant, with the same care as payments, in atomic phases:
 *
 *   started → refund_reserved (the amount reserved on the payment, the refund row pending)
 *           → refund_attempted (recorded *before* the provider is asked)
 *           → finished (refund succeeded, or failed with its reservation given back; outcome stored)
 *
 * The reservation happens under a row lock and a CHECK constraint (refunded_cents between 0 and amount_cents), so
 * concurrent refunds under different keys can never add up to more than was paid. The provider's key is derived
 * from the refund; a resumer never concludes "not refunded" from a lookup miss, but cancels the key first.
 */
import { and, eq, inArray, sql } from "drizzle-orm";
import type { Database, Executor } from "@/db/client";
import { orders, payments, refunds } from "@/db/schema";
import { appError } from "../errors";
import { type IdempotencySettings, type LeasedStep, merchantScope } from "../idempotency";
import { type PaymentProvider, type ProviderRefund, ProviderRejectedError } from "./payment-provider";
import { providerKeyFor, providerTrouble } from "./payments";
import { committedRow, finishedWorkRan, resumeUnderKey } from "./resume";

/** The recovery points of a refund, in order: each names the last phase committed, and where a resumer starts. */
export type RefundRecoveryPoint = "started" | "refund_reserved" | "refund_attempted" | "finished";
export type RefundStep = LeasedStep<RefundRecoveryPoint>;

export interface RefundView {
  id: number;
  paymentId: number;
  amountCents: number;
  status: Refund["status"];
}

export type Refund = typeof refunds.$inferSelect;

const viewOf = ({ id, paymentId, amountCents, status }: Refund): RefundView => ({ id, paymentId, amountCents, status });

/** Refund keys are the merchant's (`merchantScope`): unique by themselves, whoever's payment they refund. */
async function refundOfRequest(db: Executor, requestKey: string) {
  const [refund] = await db.select().from(refunds).where(eq(refunds.requestKey, requestKey));
  return refund;
}

export interface RefundRequest {
  customerId: string;
  requestKey: string;
  paymentId: number;
  amountCents: number;
  /** True when a resumer finishes the refund: it fences the provider key instead of asking for the refund. */
  resuming?: boolean;
}

export interface RefundDependencies {
  db: Database;
  provider: PaymentProvider;
  settings: IdempotencySettings;
}

/** Phase 1. When the amount does not fit only because other refunds are pending, those are returned instead. */
async function reserveRefund(
  db: Database,
  request: RefundRequest,
  returnPending: boolean,
): Promise<{ reserved: Refund } | { pending: Refund[] }> {
  return db.transaction(async (tx) => {
    const [payment] = await tx
      .select()
      .from(payments)
      .where(and(eq(payments.id, request.paymentId), eq(payments.customerId, request.customerId)))
      .for("update");
    if (!payment) throw appError("NOT_FOUND", `Payment ${request.paymentId} was not found.`);
    if (payment.status !== "succeeded") {
      throw appError("UNPROCESSABLE_CONTENT", `Payment ${payment.id} did not succeed, so there is nothing to refund.`);
    }
    const refundable = payment.amountCents - payment.refundedCents;
    if (request.amountCents > refundable && returnPending) {
      const pending = await tx
        .select()
        .from(refunds)
        .where(and(eq(refunds.paymentId, payment.id), eq(refunds.status, "pending")));
      const pendingCents = pending.reduce((sum, refund) => sum + refund.amountCents, 0);
      if (pending.length > 0 && request.amountCents <= refundable + pendingCents) return { pending };
    }
    if (request.amountCents > refundable) {
      throw appError(
        "UNPROCESSABLE_CONTENT",
        `A refund of ${request.amountCents} cents exceeds what is left to refund (${refundable} cents).`,
        { refundableCents: refundable },
      );
    }
    await tx
      .update(payments)
      .set({ refundedCents: sql`${payments.refundedCents} + ${request.amountCents}` })
      .where(eq(payments.id, payment.id));
    await tx.insert(refunds).values({
      paymentId: payment.id,
      customerId: request.customerId,
      requestKey: request.requestKey,
      amountCents: request.amountCents,
      providerKey: providerKeyFor(request.customerId, `refund:${request.requestKey}`),
    });
    return { reserved: (await refundOfRequest(tx, request.requestKey)) as Refund };
  });
}

/**
 * Phase 1 for a caller who is here: pending refunds that alone stand in the way and that nobody is working on
 * (a provider outage stranded them) are settled first. Refunds still running count as reserved: the amount is
 * refused as exceeding what is left, as it would be once they succeed.
 */
async function reserveResolvingPending(deps: RefundDependencies, request: RefundRequest): Promise<Refund> {
  const first = await reserveRefund(deps.db, request, true);
  if ("reserved" in first) return first.reserved;
  for (const pending of first.pending) await resumeRefund(deps, pending);
  const second = await reserveRefund(deps.db, request, false);
  if ("reserved" in second) return second.reserved;
  throw new Error("unreachable: a reservation that may not wait on pending refunds either succeeds or throws");
}

type RefundSettlement = { status: "succeeded"; providerRefundId: string } | { status: "failed"; failureCode: string };

const notCompleted = "not_completed";

function settlementOf(answer: ProviderRefund): RefundSettlement {
  return answer.status === "succeeded"
    ? { status: "succeeded", providerRefundId: answer.id }
    : { status: "failed", failureCode: notCompleted };
}

/** The order moves to `refunded` once its succeeded refunds add up to the payment, `partially_refunded` before. */
async function markOrderRefunded(tx: Executor, paymentId: number): Promise<void> {
  const [payment] = await tx.select().from(payments).where(eq(payments.id, paymentId));
  if (!payment) return;
  const refundedCents = (await refundedCentsByPayment(tx, [paymentId])).get(paymentId) ?? 0;
  await tx
    .update(orders)
    .set({
      status: refundedCents >= payment.amountCents ? "refunded" : "partially_refunded",
      version: sql`${orders.version} + 1`,
    })
    .where(eq(orders.id, payment.orderId));
}

/** Phase 3: record the outcome; a failed refund gives its reservation back, in the same transaction. */
async function settleRefund(db: Database, refund: Refund, settlement: RefundSettlement): Promise<Refund> {
  await db.transaction(async (tx) => {
    const settled = await tx
      .update(refunds)
      .set(
        settlement.status === "succeeded"
          ? { status: "succeeded", providerRefundId: settlement.providerRefundId }
          : { status: "failed", failureCode: settlement.failureCode },
      )
      .where(and(eq(refunds.id, refund.id), eq(refunds.status, "pending")));
    if (settled[0].affectedRows !== 1) return;
    if (settlement.status === "failed") {
      await tx
        .update(payments)
        .set({ refundedCents: sql`${payments.refundedCents} - ${refund.amountCents}` })
        .where(eq(payments.id, refund.paymentId));
    } else {
      await markOrderRefunded(tx, refund.paymentId);
    }
  });
  return (await refundOfRequest(db, refund.requestKey)) as Refund;
}

function outcomeOf(refund: Refund): { refund: RefundView } {
  if (refund.status === "succeeded") return { refund: viewOf(refund) };
  const reason =
    refund.failureCode === notCompleted
      ? "This refund was interrupted before the payment provider made it."
      : `The payment provider refused this refund (${refund.failureCode}).`;
  throw appError("UNPROCESSABLE_CONTENT", `${reason} Nothing was refunded: refund again with a new request.`, {
    refund: viewOf(refund),
  });
}

/**
 * The provider's answer for the refund's key, as a settlement: the refund made, or, for a resumer, the fence (the
 * key cancelled, returning any refund made with it).
 */
async function askProvider(
  deps: RefundDependencies,
  request: RefundRequest,
  refund: Refund,
): Promise<RefundSettlement> {
  try {
    if (request.resuming) return settlementOf(await deps.provider.cancelRefund(refund.providerKey));
    const [payment] = await deps.db.select().from(payments).where(eq(payments.id, refund.paymentId));
    if (!payment?.providerChargeId) return { status: "failed", failureCode: "no_provider_charge" };
    return settlementOf(
      await deps.provider.refund(refund.providerKey, {
        chargeId: payment.providerChargeId,
        amountCents: refund.amountCents,
      }),
    );
  } catch (error) {
    if (error instanceof ProviderRejectedError) return { status: "failed", failureCode: error.type };
    return providerTrouble(error, "refund");
  }
}

/**
 * Runs (or resumes) a refund: one phase per recovery point, each committed and recorded before the next, from
 * wherever `step.recoveryPoint` says the last attempt got to.
 */
export async function refund(
  deps: RefundDependencies,
  request: RefundRequest,
  step: RefundStep,
): Promise<{ refund: RefundView }> {
  let row = await refundOfRequest(deps.db, request.requestKey);
  if (row && row.paymentId !== request.paymentId) {
    // Only possible once the key's record has expired: the key itself still names its first refund.
    throw appError(
      "UNPROCESSABLE_CONTENT",
      `This idempotency key was already used to refund payment ${row.paymentId}. Use a new key for a new refund.`,
    );
  }
  for (;;) {
    switch (step.recoveryPoint) {
      case "started": {
        if (!row) {
          if (request.resuming) return step.forget();
          row = await reserveResolvingPending(deps, request);
        }
        await step.advance("refund_reserved");
        break;
      }
      case "refund_reserved": {
        const reserved = committedRow(row, "refund", step.recoveryPoint);
        if (reserved.status !== "pending") return outcomeOf(reserved);
        // Recorded *before* the provider is asked: from here on, a resumer must find out what the provider did.
        if (!request.resuming) {
          await step.advance("refund_attempted");
          break;
        }
        return outcomeOf(await settleRefund(deps.db, reserved, await askProvider(deps, request, reserved)));
      }
      case "refund_attempted": {
        const attempted = committedRow(row, "refund", step.recoveryPoint);
        if (attempted.status !== "pending") return outcomeOf(attempted);
        return outcomeOf(await settleRefund(deps.db, attempted, await askProvider(deps, request, attempted)));
      }
      case "finished":
        throw finishedWorkRan("refund", request.requestKey);
    }
  }
}

export const refundProcedurePath = "payments.refund";

/**
 * The customer whose payment this is, found before any key is claimed, so a refund of a payment that does not
 * exist stores nothing.
 */
export async function customerOfPayment(db: Executor, paymentId: number): Promise<string> {
  const [payment] = await db
    .select({ customerId: payments.customerId })
    .from(payments)
    .where(eq(payments.id, paymentId));
  if (!payment) throw appError("NOT_FOUND", `Payment ${paymentId} was not found.`);
  return payment.customerId;
}

/** Finishes a pending refund under its own key: settled by what the provider did with the refund's key. */
export function resumeRefund(deps: RefundDependencies, pending: Refund) {
  const request: RefundRequest = {
    customerId: pending.customerId,
    requestKey: pending.requestKey,
    paymentId: pending.paymentId,
    amountCents: pending.amountCents,
    resuming: true,
  };
  return resumeUnderKey(
    deps.settings,
    {
      scope: merchantScope,
      key: pending.requestKey,
      procedurePath: refundProcedurePath,
      fingerprint: { input: { paymentId: pending.paymentId, amountCents: pending.amountCents } },
    },
    (step: RefundStep) => refund(deps, request, step),
  );
}

/** What has been given back of each payment: succeeded refunds only (pending ones are not money returned yet). */
export async function refundedCentsByPayment(db: Executor, paymentIds: number[]): Promise<Map<number, number>> {
  if (paymentIds.length === 0) return new Map();
  const rows = await db
    .select({ paymentId: refunds.paymentId, cents: sql<string>`sum(${refunds.amountCents})` })
    .from(refunds)
    .where(and(inArray(refunds.paymentId, paymentIds), eq(refunds.status, "succeeded")))
    .groupBy(refunds.paymentId);
  return new Map(rows.map((row) => [row.paymentId, Number(row.cents)]));
}
