/**
 * Finishes payments abandoned mid-flight (the server crashed, the client never came back) without any client
 * retry. A payment still pending past the lease is resumed under its own idempotency key, taking the lapsed
 * lease over, and settled by asking the provider for the charge under the payment's key: found, it is
 * recorded; not found, nothing was charged and the payment is settled as not completed.
 */
import { TRPCError } from "@trpc/server";
import { and, eq, lt } from "drizzle-orm";
import type { Database } from "@/db/client";
import { payments } from "@/db/schema";
import { type IdempotencySettings, IdempotentExecution } from "../idempotency/execute";
import { requestFingerprint } from "../idempotency/fingerprint";
import type { PaymentProvider } from "./payment-provider";
import { pay, paymentFingerprintInput } from "./payments";

export interface CompletionReport {
  paymentId: number;
  outcome: "succeeded" | "failed" | "still held" | "error";
  detail?: string;
}

export async function completeAbandonedPayments(deps: {
  db: Database;
  provider: PaymentProvider;
  settings: IdempotencySettings;
}): Promise<CompletionReport[]> {
  const { db, settings } = deps;
  const abandoned = await db
    .select()
    .from(payments)
    .where(and(eq(payments.status, "pending"), lt(payments.createdAt, new Date(Date.now() - settings.leaseMs))));

  const reports: CompletionReport[] = [];
  for (const payment of abandoned) {
    const input = { orderId: payment.orderId, card: payment.cardLast4 };
    const execution = new IdempotentExecution(
      {
        scope: payment.customerId,
        key: payment.requestKey,
        procedurePath: "payments.pay",
        fingerprint: requestFingerprint("payments.pay", paymentFingerprintInput(input)),
      },
      // Never wait on a live holder: it is not abandoned, and the next run will look again.
      { ...settings, waitMs: 0 },
    );
    try {
      await execution.withLease((step) =>
        pay(
          deps,
          {
            customerId: payment.customerId,
            requestKey: payment.requestKey,
            orderId: payment.orderId,
            card: null,
            cardLast4: payment.cardLast4,
          },
          step,
        ),
      );
      reports.push({ paymentId: payment.id, outcome: "succeeded" });
    } catch (error) {
      if (error instanceof TRPCError && error.code === "PAYMENT_REQUIRED") {
        reports.push({ paymentId: payment.id, outcome: "failed", detail: error.message });
      } else if (error instanceof TRPCError && error.code === "CONFLICT") {
        reports.push({ paymentId: payment.id, outcome: "still held" });
      } else {
        reports.push({ paymentId: payment.id, outcome: "error", detail: String(error) });
      }
    }
  }
  return reports;
}
