/**
 * Partial refunds of a succeeded payment. The amount is reserved on the payment first, under a row lock and a
 * CHECK constraint (refunded_cents between 0 and amount_cents), so concurrent refunds under different keys can
 * never add up to more than was paid; then the provider is asked under a key derived from the refund.
 */
import { and, eq, sql } from "drizzle-orm";
import type { Database, Executor } from "@/db/client";
import { payments, refunds } from "@/db/schema";
import { appError } from "../errors";
import type { LeasedStep } from "../idempotency/execute";
import { type PaymentProvider, ProviderNoAnswerError, ProviderUnavailableError } from "./payment-provider";
import { providerKeyFor } from "./payments";

export interface RefundView {
  id: number;
  paymentId: number;
  amountCents: number;
  status: "pending" | "succeeded";
}

type Refund = typeof refunds.$inferSelect;

const viewOf = ({ id, paymentId, amountCents, status }: Refund): RefundView => ({ id, paymentId, amountCents, status });

async function refundOfRequest(db: Executor, customerId: string, requestKey: string) {
  const [refund] = await db
    .select()
    .from(refunds)
    .where(and(eq(refunds.customerId, customerId), eq(refunds.requestKey, requestKey)));
  return refund;
}

export interface RefundRequest {
  customerId: string;
  requestKey: string;
  paymentId: number;
  amountCents: number;
}

async function reserveRefund(db: Database, request: RefundRequest): Promise<Refund> {
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
    return (await refundOfRequest(tx, request.customerId, request.requestKey)) as Refund;
  });
}

export async function refund(
  deps: { db: Database; provider: PaymentProvider },
  request: RefundRequest,
  step: LeasedStep,
): Promise<{ refund: RefundView }> {
  const { db, provider } = deps;
  let row = await refundOfRequest(db, request.customerId, request.requestKey);
  if (!row) row = await reserveRefund(db, request);
  if (step.recoveryPoint === "started") await step.advance("refund_reserved");
  if (row.status === "succeeded") return { refund: viewOf(row) };

  const [payment] = await db.select().from(payments).where(eq(payments.id, row.paymentId));
  try {
    const answer = await provider.refund(row.providerKey, {
      chargeId: payment?.providerChargeId as string,
      amountCents: row.amountCents,
    });
    await db
      .update(refunds)
      .set({ status: "succeeded", providerRefundId: answer.id })
      .where(and(eq(refunds.id, row.id), eq(refunds.status, "pending")));
  } catch (error) {
    if (error instanceof ProviderUnavailableError || error instanceof ProviderNoAnswerError) {
      throw appError(
        "SERVICE_UNAVAILABLE",
        "The payment provider did not confirm the refund. Retry with the same key.",
        {
          retryAfterMs: 2000,
        },
      );
    }
    throw error;
  }
  return { refund: viewOf((await refundOfRequest(db, request.customerId, request.requestKey)) as Refund) };
}
