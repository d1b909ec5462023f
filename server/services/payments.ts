/**
 * Paying an order: a side effect outside our database (the card charge) that cannot be rolled back, so the
 * work runs in atomic phases, each committed before the next, with a recovery point recorded after each:
 *
 *   started → payment_created (payment row pending, order held as `paying`)
 *           → charge_attempted (recorded *before* the provider is called)
 *           → finished (payment succeeded or failed, order paid or released, outcome stored)
 *
 * A retry, a takeover after a crash, or the completer resumes from the last point. The provider's
 * Idempotency-Key is derived from the payment, so asking again never charges again. A resumer without the card
 * (the completer, or a customer's newer attempt on the same order) never concludes "not charged" from a lookup
 * miss: a charge request may still be on its way. It cancels the key at the provider first, which either returns
 * the charge made with it or guarantees that none ever will be, and settles by that.
 */
import { createHash } from "node:crypto";
import { and, eq, sql } from "drizzle-orm";
import type { Database, Executor } from "@/db/client";
import { orders, payments } from "@/db/schema";
import { appError } from "../errors";
import type { IdempotencySettings, LeasedStep } from "../idempotency";
import {
  type PaymentProvider,
  type ProviderCharge,
  ProviderNoAnswerError,
  ProviderRejectedError,
  ProviderUnavailableError,
} from "./payment-provider";
import { committedRow, finishedWorkRan, heldByEarlier, resumeUnderKey } from "./resume";

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

/**
 * The recovery points of a payment, in order: each names the last phase committed, and where a resumer starts.
 * Tests may crash a request at a point (`payments.pay:<point>`): it lands in the phase that starts there.
 */
export type PaymentRecoveryPoint = "started" | "payment_created" | "charge_attempted" | "finished";
export type PaymentStep = LeasedStep<PaymentRecoveryPoint>;

export interface PayRequest {
  customerId: string;
  requestKey: string;
  orderId: number;
  /** The full card number when the customer is here; null when a resumer finishes the payment without it. */
  card: string | null;
  cardLast4: string;
}

export interface PaymentDependencies {
  db: Database;
  provider: PaymentProvider;
  /** The idempotency layer, to resume an earlier attempt on the same order under that attempt's own key. */
  settings: IdempotencySettings;
  /** Where a test or the lab may crash the process, after each committed recovery point. */
  checkpoint?: (point: PaymentRecoveryPoint) => void | Promise<void>;
}

async function paymentOfRequest(db: Executor, customerId: string, requestKey: string) {
  const [payment] = await db
    .select()
    .from(payments)
    .where(and(eq(payments.customerId, customerId), eq(payments.requestKey, requestKey)));
  return payment;
}

/**
 * Phase 1: hold the order for this payment and create the pending payment row, in one transaction. When another
 * payment holds the order, that payment is returned instead, for the caller to resolve first.
 */
async function createPayment(db: Database, request: PayRequest): Promise<{ created: Payment } | { heldBy: Payment }> {
  return db.transaction(async (tx) => {
    const [order] = await tx
      .select()
      .from(orders)
      .where(and(eq(orders.id, request.orderId), eq(orders.customerId, request.customerId)))
      .for("update");
    if (!order) throw appError("NOT_FOUND", `Order ${request.orderId} was not found.`);
    if (order.status === "paid" || order.status === "partially_refunded" || order.status === "refunded") {
      throw appError("CONFLICT", `Order ${order.id} is already paid.`);
    }
    if (order.status === "paying") {
      const [holder] = await tx
        .select()
        .from(payments)
        .where(and(eq(payments.orderId, order.id), eq(payments.status, "pending")))
        .limit(1);
      if (holder) return { heldBy: holder };
      throw heldByEarlier("Another payment for this order", 1000);
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
    const created = await paymentOfRequest(tx, request.customerId, request.requestKey);
    return { created: created as Payment };
  });
}

/**
 * Phase 1 for a customer who is here: an earlier attempt still holding the order (a provider failure, a client
 * that never came back) is resolved first, under its own key, so a new card pays within seconds. Only an earlier
 * attempt that is truly still running makes this one wait: a retryable CONFLICT with that attempt's lease left.
 */
async function createPaymentResolvingEarlier(deps: PaymentDependencies, request: PayRequest): Promise<Payment> {
  for (let attempt = 0; attempt < 3; attempt++) {
    const result = await createPayment(deps.db, request);
    if ("created" in result) return result.created;
    const resolved = await resumePayment(deps, result.heldBy);
    if (resolved.outcome === "held") {
      throw heldByEarlier("Another payment for this order", resolved.retryAfterMs ?? 1000);
    }
  }
  throw heldByEarlier("Another payment for this order", 1000);
}

type Settlement =
  | { status: "succeeded"; chargeId: string }
  | { status: "failed"; chargeId: string | null; declineCode: string };

function settlementOf(charge: ProviderCharge): Settlement {
  if (charge.status === "succeeded") return { status: "succeeded", chargeId: charge.id };
  if (charge.status === "declined") {
    return { status: "failed", chargeId: charge.id, declineCode: charge.declineCode ?? "declined" };
  }
  return { status: "failed", chargeId: null, declineCode: notCompleted };
}

/** A payment that never charged: its key was cancelled at the provider before any charge was made with it. */
const notCompleted = "not_completed";
/** The provider refused the request itself (a 4xx other than a decline): nothing was charged. */
const providerRefused = "provider_refused";

/** Phase 3: record the provider's answer and settle the order, in one transaction. */
async function settlePayment(db: Database, payment: Payment, settlement: Settlement): Promise<Payment> {
  const succeeded = settlement.status === "succeeded";
  await db.transaction(async (tx) => {
    await tx
      .update(payments)
      .set({
        status: settlement.status,
        providerChargeId: settlement.chargeId,
        declineCode: settlement.status === "failed" ? settlement.declineCode : null,
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
  if (payment.declineCode === notCompleted) {
    throw appError(
      "PAYMENT_REQUIRED",
      "This payment was interrupted before your card was charged. Nothing was charged: pay again to complete the order.",
      { payment: viewOf(payment) },
    );
  }
  if (payment.declineCode === providerRefused) {
    throw appError(
      "PAYMENT_REQUIRED",
      "The payment provider refused this payment request. Nothing was charged: try again with a new payment.",
      { payment: viewOf(payment) },
    );
  }
  throw appError(
    "PAYMENT_REQUIRED",
    `Your card was declined (${payment.declineCode ?? "declined"}). Nothing was charged: try another card.`,
    { payment: viewOf(payment) },
  );
}

/** Provider trouble that settles nothing: the key keeps its recovery point and a retry resumes. */
export function providerTrouble(error: unknown, what: "charge" | "refund"): never {
  if (error instanceof ProviderUnavailableError) {
    const nothingDone = what === "charge" ? "nothing was charged" : "nothing was refunded";
    throw appError(
      "SERVICE_UNAVAILABLE",
      `The payment provider is unavailable and ${nothingDone}. Retry in a moment; it is safe to retry.`,
      { retryAfterMs: 2000 },
    );
  }
  if (error instanceof ProviderNoAnswerError) {
    const notTwice = what === "charge" ? "your card will not be charged twice" : "it will not be refunded twice";
    throw appError("GATEWAY_TIMEOUT", `We did not hear back from the payment provider. Retry: ${notTwice}.`, {
      retryAfterMs: 1000,
    });
  }
  throw error;
}

/**
 * The provider's answer for the payment's key, as a settlement: the charge made with the card, or, for a resumer
 * without it, the fence (the key cancelled, returning any charge made with it).
 */
async function askProvider(deps: PaymentDependencies, request: PayRequest, payment: Payment): Promise<Settlement> {
  try {
    if (request.card === null) return settlementOf(await deps.provider.cancelCharge(payment.providerKey));
    // Asking again after a lost answer is safe: the provider answers a known key with the charge it made.
    const charge = await deps.provider.charge(payment.providerKey, {
      amountCents: payment.amountCents,
      currency: payment.currency,
      cardNumber: request.card,
      reference: `order-${payment.orderId}`,
    });
    return settlementOf(charge);
  } catch (error) {
    if (error instanceof ProviderRejectedError) {
      return { status: "failed", chargeId: null, declineCode: providerRefused };
    }
    return providerTrouble(error, "charge");
  }
}

/**
 * Runs (or resumes) a payment: one phase per recovery point, each committed and recorded before the next, from
 * wherever `step.recoveryPoint` says the last attempt got to.
 */
export async function pay(deps: PaymentDependencies, request: PayRequest, step: PaymentStep) {
  let payment = await paymentOfRequest(deps.db, request.customerId, request.requestKey);
  for (;;) {
    switch (step.recoveryPoint) {
      case "started": {
        if (!payment) {
          // A resumer that finds no payment: the request stopped before doing anything, so its key binds nothing.
          if (request.card === null) return step.forget();
          payment = await createPaymentResolvingEarlier(deps, request);
        }
        await step.advance("payment_created");
        await deps.checkpoint?.("payment_created");
        break;
      }
      case "payment_created": {
        const created = committedRow(payment, "payment", step.recoveryPoint);
        if (created.status !== "pending") return outcomeOf(created);
        // Recorded *before* the provider is asked: from here on, a resumer must find out what the provider did.
        if (request.card !== null) {
          await step.advance("charge_attempted");
          break;
        }
        return outcomeOf(await settlePayment(deps.db, created, await askProvider(deps, request, created)));
      }
      case "charge_attempted": {
        const attempted = committedRow(payment, "payment", step.recoveryPoint);
        if (attempted.status !== "pending") return outcomeOf(attempted);
        const settlement = await askProvider(deps, request, attempted);
        await deps.checkpoint?.("charge_attempted");
        return outcomeOf(await settlePayment(deps.db, attempted, settlement));
      }
      case "finished":
        throw finishedWorkRan("payment", request.requestKey);
    }
  }
}

export const payProcedurePath = "payments.pay";

/**
 * Refuses, before any key is claimed, a payment for an order that is not the caller's: a key is stored only for a
 * request that may act on its target.
 */
export async function assertOwnOrder(db: Executor, customerId: string, orderId: number): Promise<void> {
  const [owned] = await db
    .select({ id: orders.id })
    .from(orders)
    .where(and(eq(orders.id, orderId), eq(orders.customerId, customerId)));
  if (!owned) throw appError("NOT_FOUND", `Order ${orderId} was not found.`);
}

/**
 * Finishes a pending payment without its card, under its own key: settled by the charge the provider made with
 * the payment's key, or as not completed once that key is cancelled. "held" while its own request still runs.
 */
export function resumePayment(deps: PaymentDependencies, payment: Payment) {
  const request: PayRequest = {
    customerId: payment.customerId,
    requestKey: payment.requestKey,
    orderId: payment.orderId,
    card: null,
    cardLast4: payment.cardLast4,
  };
  return resumeUnderKey(
    deps.settings,
    {
      scope: payment.customerId,
      key: payment.requestKey,
      procedurePath: payProcedurePath,
      fingerprint: { input: paymentFingerprintInput({ orderId: payment.orderId, card: payment.cardLast4 }) },
    },
    (step: PaymentStep) => pay({ ...deps, checkpoint: undefined }, request, step),
  );
}
