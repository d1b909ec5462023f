/**
 * Paying an order: a side effect outside our database (the card charge) that cannot be rolled back, so the
 * work runs in atomic phases, each committed before the next, with a recovery point recorded after each:
 *
 *   started → payment_created (payment row pending, order held as `paying`)
 *           → charge_attempted (recorded *before* the provider is called)
 *           → finished (payment succeeded or failed, order paid or released, outcome stored)
 *
 * A retry, a takeover after a crash, or the completer resumes from the last point. The provider's
 * Idempotency-Key is derived from the payment, so asking again never charges again.
 */
import { createHash } from "node:crypto";
import { and, eq, sql } from "drizzle-orm";
import type { Database, Executor } from "@/db/client";
import { orders, payments } from "@/db/schema";
import { appError } from "../errors";
import type { LeasedStep } from "../idempotency/execute";
import {
  type PaymentProvider,
  type ProviderCharge,
  ProviderNoAnswerError,
  ProviderUnavailableError,
} from "./payment-provider";

export type Payment = typeof payments.$inferSelect;

export interface PaymentView {
  id: number;
  orderId: number;
  status: Payment["status"];
  amountCents: number;
  currency: string;
  cardLast4: string;
  providerChargeId: string | null;
  declineCode: string | null;
}

export function viewOf(payment: Payment): PaymentView {
  const { id, orderId, status, amountCents, currency, cardLast4, providerChargeId, declineCode } = payment;
  return { id, orderId, status, amountCents, currency, cardLast4, providerChargeId, declineCode };
}

/** What identifies a payment request for idempotency: never the card number, only its last four digits. */
export function paymentFingerprintInput(input: { orderId: number; card: string }) {
  return { orderId: input.orderId, cardLast4: input.card.slice(-4) };
}

/** The provider's Idempotency-Key for a payment: a pure function of the payment's identity. */
export function providerKeyFor(customerId: string, requestKey: string): string {
  return `eoc_pay_${createHash("sha256").update(`${customerId}\n${requestKey}`).digest("hex").slice(0, 40)}`;
}

export interface PayRequest {
  customerId: string;
  requestKey: string;
  orderId: number;
  /** The full card number, present when the customer is here; absent when the completer resumes. */
  card: string | null;
  cardLast4: string;
}

export interface PaymentDependencies {
  db: Database;
  provider: PaymentProvider;
  /** Where tests may crash the process, after each committed recovery point. */
  checkpoint?: (point: string) => void;
}

async function paymentOfRequest(db: Executor, customerId: string, requestKey: string) {
  const [payment] = await db
    .select()
    .from(payments)
    .where(and(eq(payments.customerId, customerId), eq(payments.requestKey, requestKey)));
  return payment;
}

/** Phase 1: hold the order for this payment and create the pending payment row, in one transaction. */
async function createPayment(db: Database, request: PayRequest): Promise<Payment> {
  return db.transaction(async (tx) => {
    const [order] = await tx
      .select()
      .from(orders)
      .where(and(eq(orders.id, request.orderId), eq(orders.customerId, request.customerId)))
      .for("update");
    if (!order) throw appError("NOT_FOUND", `Order ${request.orderId} was not found.`);
    if (order.status === "paid") throw appError("CONFLICT", `Order ${order.id} is already paid.`);
    if (order.status === "paying") {
      throw appError("CONFLICT", "Another payment for this order is in progress. Wait a moment, then reload.", {
        retryable: true,
        retryAfterMs: 2000,
      });
    }
    await tx
      .update(orders)
      .set({ status: "paying", version: sql`${orders.version} + 1` })
      .where(eq(orders.id, order.id));
    await tx.insert(payments).values({
      orderId: order.id,
      customerId: request.customerId,
      requestKey: request.requestKey,
      amountCents: order.totalCents,
      currency: order.currency,
      cardLast4: request.cardLast4,
      providerKey: providerKeyFor(request.customerId, request.requestKey),
    });
    const [payment] = await tx
      .select()
      .from(payments)
      .where(and(eq(payments.customerId, request.customerId), eq(payments.requestKey, request.requestKey)));
    return payment as Payment;
  });
}

/** Phase 3: record the provider's answer and settle the order, in one transaction. */
async function settlePayment(db: Database, payment: Payment, charge: ProviderCharge | null): Promise<Payment> {
  const succeeded = charge?.status === "succeeded";
  await db.transaction(async (tx) => {
    await tx
      .update(payments)
      .set({
        status: succeeded ? "succeeded" : "failed",
        providerChargeId: charge?.id ?? null,
        declineCode: charge ? charge.declineCode : "not_completed",
        version: sql`${payments.version} + 1`,
      })
      .where(and(eq(payments.id, payment.id), eq(payments.status, "pending")));
    await tx
      .update(orders)
      .set({ status: succeeded ? "paid" : "awaiting_payment", version: sql`${orders.version} + 1` })
      .where(and(eq(orders.id, payment.orderId), eq(orders.status, "paying")));
  });
  return (await paymentOfRequest(db, payment.customerId, payment.requestKey)) as Payment;
}

/** A settled payment as the caller's answer: the payment, or the decline as a typed (stored, replayed) error. */
function outcomeOf(payment: Payment): { payment: PaymentView } {
  if (payment.status === "succeeded") return { payment: viewOf(payment) };
  if (payment.declineCode === "not_completed") {
    throw appError(
      "PAYMENT_REQUIRED",
      "This payment was interrupted before your card was charged. Nothing was charged: pay again to complete the order.",
      { payment: viewOf(payment) },
    );
  }
  throw appError(
    "PAYMENT_REQUIRED",
    `Your card was declined (${payment.declineCode ?? "declined"}). Nothing was charged: try another card.`,
    { payment: viewOf(payment) },
  );
}

function providerTrouble(error: unknown): never {
  if (error instanceof ProviderUnavailableError) {
    throw appError(
      "SERVICE_UNAVAILABLE",
      "The payment provider is unavailable and nothing was charged. Retry in a moment; it is safe to retry.",
      { retryAfterMs: 2000 },
    );
  }
  if (error instanceof ProviderNoAnswerError) {
    throw appError(
      "GATEWAY_TIMEOUT",
      "We did not hear back from the payment provider. Retry: your card will not be charged twice.",
      { retryAfterMs: 1000 },
    );
  }
  throw error;
}

/**
 * Runs (or resumes) a payment from `step.recoveryPoint`. With `card` null (the completer), a payment whose charge
 * cannot be found is settled as not completed rather than charged.
 */
export async function pay(deps: PaymentDependencies, request: PayRequest, step: LeasedStep) {
  const { db, provider } = deps;
  let payment = await paymentOfRequest(db, request.customerId, request.requestKey);
  if (!payment) {
    if (request.card === null) {
      throw appError(
        "PAYMENT_REQUIRED",
        `This payment for order ${request.orderId} was interrupted before it started. Nothing was charged: pay again.`,
      );
    }
    payment = await createPayment(db, request);
  }
  if (step.recoveryPoint === "started") {
    await step.advance("payment_created");
    deps.checkpoint?.("payment_created");
  }
  if (payment.status !== "pending") return outcomeOf(payment);

  let charge: ProviderCharge | null = null;
  try {
    // Once a charge may have been attempted (or when we cannot tell, as the completer), ask for it by key first.
    if (step.recoveryPoint === "charge_attempted" || request.card === null) {
      charge = await provider.findCharge(payment.providerKey);
    }
    if (!charge && request.card !== null) {
      if (step.recoveryPoint !== "charge_attempted") await step.advance("charge_attempted");
      charge = await provider.charge(payment.providerKey, {
        amountCents: payment.amountCents,
        currency: payment.currency,
        cardNumber: request.card,
        reference: `order-${payment.orderId}`,
      });
    }
  } catch (error) {
    providerTrouble(error);
  }
  deps.checkpoint?.("charge_attempted");
  return outcomeOf(await settlePayment(db, payment, charge));
}
