/**
 * The judge: the whole history against both ledgers, after everything settled. Pure (no I/O), so a test can feed
 * it a made-up history. Each violation names the invariant it breaks and carries its evidence. The run must also
 * prove it tested something: a history without successes of every kind, or a run without every fault kind, fails
 * as vacuous rather than passing.
 */
import {
  type Attempt,
  errorCode,
  errorData,
  type FaultEvent,
  type FaultKind,
  isRetryable,
  isStoredError,
  type OperationKind,
  resultOf,
} from "./history";
import { type Ledgers, type PaymentRow, type ProviderCharge, unresolvedIn } from "./ledger";

export interface Violation {
  invariant: string;
  message: string;
  evidence?: unknown;
}

export interface CheckInput {
  attempts: Attempt[];
  faults: FaultEvent[];
  ledgers: Ledgers;
  store: "mysql" | "redis";
  expectedFaults: FaultKind[];
}

export interface CheckResult {
  violations: Violation[];
  /** Provider charges with no succeeded payment that the reconciler refunded in full: safe, but should be 0. */
  reconcilerRepairs: { charge: ProviderCharge; payment: PaymentRow | undefined }[];
  /** Same-key successes whose idempotency meta changed only because Redis restarted (and lost keys) in between. */
  excusedByRedisRestart: number;
}

/** An order that was paid stays paid when the merchant refunds it, in part or in full. */
const paidStatuses = new Set(["paid", "partially_refunded", "refunded"]);

export const invariants = {
  vacuous: "0 the run tested something",
  onePaymentPerOrder: "1 at most one succeeded payment per order",
  chargesMatch: "2 provider charges match succeeded payments",
  refundsWithin: "3 refunds within payments, matched at the provider",
  acknowledged: "4 every acknowledged success exists",
  sameAnswer: "5 same key, same answer",
  settled: "6 nothing unresolved after settling",
  noInternalError: "7 no HTTP 500",
  expectedAnswers: "8 only answers the contract allows",
} as const;

/** Key order does not matter in JSON: sort object keys before comparing. */
function canonical(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonical).join(",")}]`;
  if (value !== null && typeof value === "object") {
    const entries = Object.entries(value as Record<string, unknown>).sort(([a], [b]) => (a < b ? -1 : 1));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonical(v)}`).join(",")}}`;
  }
  return JSON.stringify(value) ?? "undefined";
}

/** An attempt as evidence: small enough to print. */
export function brief(attempt: Attempt) {
  const { id, kind, customerId, key, server, mode, attempt: n, start, end, status, error } = attempt;
  return { id, kind, customerId, key, server, mode, attempt: n, start, end, status, error, body: attempt.body };
}

const sum = (values: number[]) => values.reduce((total, value) => total + value, 0);

function groupBy<T>(items: T[], keyOf: (item: T) => string): Map<string, T[]> {
  const groups = new Map<string, T[]>();
  for (const item of items) {
    const key = keyOf(item);
    const group = groups.get(key);
    if (group) group.push(item);
    else groups.set(key, [item]);
  }
  return groups;
}

/** The statuses each operation may answer besides 200; retryable 409s are checked apart. */
const allowedStatuses: Record<OperationKind, number[]> = {
  session: [429, 503],
  place: [429, 503, 504],
  pay: [402, 429, 503, 504],
  refund: [422, 429, 503, 504],
};

function checkNonVacuous(input: CheckInput, violations: Violation[]) {
  const { attempts, faults, ledgers } = input;
  const has = (kind: OperationKind, test: (attempt: Attempt) => boolean) =>
    attempts.some((attempt) => attempt.kind === kind && test(attempt));
  const lostThenFound = groupBy(
    attempts.filter((a) => a.kind === "pay"),
    (a) => `${a.customerId}|${a.key}`,
  );
  const required: [string, boolean][] = [
    ["an order placed (200)", has("place", (a) => a.status === 200)],
    ["a payment that succeeded (200)", has("pay", (a) => a.status === 200)],
    ["a declined payment (402)", has("pay", (a) => a.status === 402)],
    ["a payment answer lost (504)", has("pay", (a) => a.status === 504)],
    [
      "a lost payment answer found by a retry (504, then 200 with the same key)",
      [...lostThenFound.values()].some(
        (group) => group.some((a) => a.status === 504) && group.some((a) => a.status === 200),
      ),
    ],
    ["a transient refusal (503)", attempts.some((a) => a.status === 503)],
    ["a refund that succeeded (200)", has("refund", (a) => a.status === 200)],
    ["a refund refused as exceeding the payment (stored 422)", has("refund", (a) => a.status === 422)],
    ["two concurrent duplicates", attempts.some((a) => a.mode === "duplicate")],
    ["an abandoned request", attempts.some((a) => a.mode === "abandoned")],
    ["a succeeded charge at the provider", ledgers.charges.some((c) => c.status === "succeeded")],
    ["a succeeded refund at the provider", ledgers.providerRefunds.some((r) => r.status === "succeeded")],
    ...input.expectedFaults.map((kind): [string, boolean] => [
      `fault ${kind} injected`,
      faults.some((f) => f.kind === kind && f.ok),
    ]),
  ];
  for (const [what, seen] of required) {
    if (!seen) violations.push({ invariant: invariants.vacuous, message: `the run never saw ${what}` });
  }
}

function checkLedgers(input: CheckInput, violations: Violation[], result: CheckResult) {
  const { orders, payments, refunds, repairs, charges, providerRefunds } = input.ledgers;
  const orderById = new Map(orders.map((o) => [o.id, o]));
  const paymentById = new Map(payments.map((p) => [p.id, p]));
  const paymentByProviderKey = new Map(payments.map((p) => [p.providerKey, p]));
  const chargeByKey = new Map(charges.map((c) => [c.idempotencyKey, c]));
  const chargeById = new Map(charges.map((c) => [c.id, c]));
  const repairByCharge = new Map(repairs.map((r) => [r.providerObjectId, r]));
  const repairByRefundKey = new Map(repairs.map((r) => [r.providerRefundKey, r]));
  const refundByProviderKey = new Map(refunds.map((r) => [r.providerKey, r]));
  const providerRefundByKey = new Map(providerRefunds.map((r) => [r.idempotencyKey, r]));

  // 1. One succeeded payment per order, and the order's status agrees with its payments.
  const succeeded = payments.filter((p) => p.status === "succeeded");
  for (const [orderId, group] of groupBy(succeeded, (p) => String(p.orderId))) {
    if (group.length > 1) {
      violations.push({
        invariant: invariants.onePaymentPerOrder,
        message: `order ${orderId} has ${group.length} succeeded payments`,
        evidence: group,
      });
    }
  }
  const paymentOfOrder = new Map(succeeded.map((p) => [p.orderId, p]));
  for (const order of orders) {
    const payment = paymentOfOrder.get(order.id);
    if (paidStatuses.has(order.status) !== (payment !== undefined)) {
      violations.push({
        invariant: invariants.onePaymentPerOrder,
        message: `order ${order.id} is ${order.status} but has ${payment ? "a" : "no"} succeeded payment`,
        evidence: { order, payments: payments.filter((p) => p.orderId === order.id) },
      });
    } else if (payment) {
      // A paid order says how much came back: nothing (paid), part (partially_refunded) or all (refunded).
      const refundedCents = sum(
        refunds.filter((r) => r.paymentId === payment.id && r.status === "succeeded").map((r) => r.amountCents),
      );
      const expected =
        refundedCents === 0 ? "paid" : refundedCents < payment.amountCents ? "partially_refunded" : "refunded";
      if (order.status !== expected) {
        violations.push({
          invariant: invariants.refundsWithin,
          message: `order ${order.id} is ${order.status} but ${refundedCents} of its ${payment.amountCents} cents came back`,
          evidence: { order, payment },
        });
      }
    }
  }

  // 2. Provider succeeded charges and app succeeded payments, one to one by provider key and amount.
  for (const charge of charges.filter((c) => c.status === "succeeded")) {
    const payment = paymentByProviderKey.get(charge.idempotencyKey);
    if (payment?.status === "succeeded") {
      if (payment.amountCents !== charge.amountCents || payment.providerChargeId !== charge.id) {
        violations.push({
          invariant: invariants.chargesMatch,
          message: `payment ${payment.id} and provider charge ${charge.id} differ (amount or charge id)`,
          evidence: { payment, charge },
        });
      }
      continue;
    }
    const repair = repairByCharge.get(charge.id);
    if (repair?.status === "done" && charge.refundedCents === charge.amountCents) {
      result.reconcilerRepairs.push({ charge, payment });
    } else {
      violations.push({
        invariant: invariants.chargesMatch,
        message: `provider charge ${charge.id} (${charge.amountCents} cents, ${charge.reference}) succeeded but payment ${payment ? `${payment.id} is ${payment.status}` : "does not exist"}, and the reconciler has not refunded it`,
        evidence: { charge, payment, repair },
      });
    }
  }
  for (const payment of succeeded) {
    const charge = chargeByKey.get(payment.providerKey);
    if (charge?.status !== "succeeded" || charge.amountCents !== payment.amountCents) {
      violations.push({
        invariant: invariants.chargesMatch,
        message: `payment ${payment.id} succeeded but the provider has ${charge ? `a ${charge.status} charge of ${charge.amountCents} cents` : "no charge"} for its key`,
        evidence: { payment, charge },
      });
    }
    const order = orderById.get(payment.orderId);
    if (order && order.totalCents !== payment.amountCents) {
      violations.push({
        invariant: invariants.chargesMatch,
        message: `payment ${payment.id} is for ${payment.amountCents} cents but order ${order.id} totals ${order.totalCents}`,
        evidence: { payment, order },
      });
    }
  }

  // 3. Refunds within the payment at the app and at the provider, and matched one to one.
  const refundsByPayment = groupBy(refunds, (r) => String(r.paymentId));
  for (const payment of payments) {
    const own = refundsByPayment.get(String(payment.id)) ?? [];
    const succeededCents = sum(own.filter((r) => r.status === "succeeded").map((r) => r.amountCents));
    const reservedCents = sum(own.filter((r) => r.status !== "failed").map((r) => r.amountCents));
    if (payment.refundedCents > payment.amountCents || succeededCents > payment.amountCents) {
      violations.push({
        invariant: invariants.refundsWithin,
        message: `payment ${payment.id} of ${payment.amountCents} cents has ${succeededCents} cents refunded (refunded_cents ${payment.refundedCents})`,
        evidence: { payment, refunds: own },
      });
    } else if (payment.refundedCents !== reservedCents) {
      violations.push({
        invariant: invariants.refundsWithin,
        message: `payment ${payment.id} says ${payment.refundedCents} cents refunded, its refunds add up to ${reservedCents}`,
        evidence: { payment, refunds: own },
      });
    }
  }
  for (const [chargeId, group] of groupBy(
    providerRefunds.filter((r) => r.status === "succeeded"),
    (r) => String(r.chargeId),
  )) {
    const charge = chargeById.get(chargeId);
    const refundedCents = sum(group.map((r) => r.amountCents ?? 0));
    if (charge?.status !== "succeeded" || refundedCents > (charge.amountCents ?? 0)) {
      violations.push({
        invariant: invariants.refundsWithin,
        message: `provider charge ${chargeId} of ${charge?.amountCents} cents has ${refundedCents} cents of succeeded refunds`,
        evidence: { charge, refunds: group },
      });
    } else if (charge.refundedCents !== refundedCents) {
      violations.push({
        invariant: invariants.refundsWithin,
        message: `provider charge ${chargeId} says ${charge.refundedCents} cents refunded, its refunds add up to ${refundedCents}`,
        evidence: { charge, refunds: group },
      });
    }
  }
  for (const refund of refunds.filter((r) => r.status === "succeeded")) {
    const atProvider = providerRefundByKey.get(refund.providerKey);
    const payment = paymentById.get(refund.paymentId);
    if (
      atProvider?.status !== "succeeded" ||
      atProvider.amountCents !== refund.amountCents ||
      atProvider.chargeId !== payment?.providerChargeId
    ) {
      violations.push({
        invariant: invariants.refundsWithin,
        message: `refund ${refund.id} succeeded but the provider has ${atProvider ? `a ${atProvider.status} refund of ${atProvider.amountCents} cents` : "no refund"} for its key`,
        evidence: { refund, atProvider, payment },
      });
    }
  }
  for (const providerRefund of providerRefunds.filter((r) => r.status === "succeeded")) {
    const ours = refundByProviderKey.get(providerRefund.idempotencyKey);
    const repair = repairByRefundKey.get(providerRefund.idempotencyKey);
    const matched =
      (ours?.status === "succeeded" && ours.amountCents === providerRefund.amountCents) ||
      repair?.amountCents === providerRefund.amountCents;
    if (!matched) {
      violations.push({
        invariant: invariants.refundsWithin,
        message: `provider refund ${providerRefund.id} (${providerRefund.amountCents} cents) matches no succeeded refund or repair of the app${ours ? ` (refund ${ours.id} is ${ours.status})` : ""}`,
        evidence: { providerRefund, ours, repair },
      });
    }
  }

  // 6. Nothing left unresolved.
  for (const message of unresolvedIn(input.ledgers)) violations.push({ invariant: invariants.settled, message });
}

function checkHistory(input: CheckInput, violations: Violation[], result: CheckResult) {
  const { attempts, ledgers } = input;
  const orderById = new Map(ledgers.orders.map((o) => [o.id, o]));
  const paymentById = new Map(ledgers.payments.map((p) => [p.id, p]));
  const refundById = new Map(ledgers.refunds.map((r) => [r.id, r]));
  const acknowledged = (attempt: Attempt, message: string, evidence: unknown) =>
    violations.push({ invariant: invariants.acknowledged, message, evidence: { attempt: brief(attempt), evidence } });

  for (const attempt of attempts) {
    // 7. Never a 500.
    if (attempt.status === 500 || errorCode(attempt) === "INTERNAL_SERVER_ERROR") {
      violations.push({
        invariant: invariants.noInternalError,
        message: `${attempt.kind} answered ${attempt.status} ${errorCode(attempt) ?? ""}`,
        evidence: brief(attempt),
      });
      continue;
    }
    // 8. Only answers the contract allows for this workload (valid input, own orders, one input per key).
    const allowed =
      attempt.status === 0 ||
      attempt.status === 200 ||
      (attempt.status === 409 && (isRetryable(attempt) || (attempt.kind === "pay" && isStoredError(attempt)))) ||
      (allowedStatuses[attempt.kind].includes(attempt.status) &&
        // A 422 or 402 is a stored business outcome; without the key's meta it is something else (a key mismatch).
        (![402, 422].includes(attempt.status) || isStoredError(attempt)));
    if (!allowed) {
      violations.push({
        invariant: invariants.expectedAnswers,
        message: `${attempt.kind} answered ${attempt.status} ${errorCode(attempt) ?? ""}: ${attempt.body?.error?.message ?? ""}`,
        evidence: brief(attempt),
      });
    }

    // 4. Every success the client was told about exists, as it was told.
    const data = resultOf(attempt);
    if (attempt.status === 200 && attempt.kind === "place") {
      const order = orderById.get(data?.order?.id);
      if (
        !order ||
        order.customerId !== attempt.customerId ||
        order.placementKey !== attempt.key ||
        order.totalCents !== data.order.totalCents
      ) {
        acknowledged(attempt, `placed order ${data?.order?.id} is missing or differs`, order);
      }
    } else if (attempt.status === 200 && attempt.kind === "pay") {
      const payment = paymentById.get(data?.payment?.id);
      const order = payment && orderById.get(payment.orderId);
      if (
        data?.payment?.status !== "succeeded" ||
        payment?.status !== "succeeded" ||
        payment.customerId !== attempt.customerId ||
        payment.requestKey !== attempt.key ||
        payment.orderId !== data.payment.orderId ||
        payment.amountCents !== data.payment.amountCents ||
        !paidStatuses.has(order?.status ?? "")
      ) {
        acknowledged(attempt, `payment ${data?.payment?.id} answered succeeded is missing or differs`, {
          payment,
          order,
        });
      }
    } else if (attempt.status === 402 && attempt.kind === "pay" && errorData(attempt)?.payment) {
      const answered = errorData(attempt).payment;
      const payment = paymentById.get(answered.id);
      if (payment?.status !== "failed" || payment.declineCode !== answered.declineCode) {
        acknowledged(attempt, `payment ${answered.id} answered as failed is missing or differs`, payment);
      }
    } else if (attempt.status === 200 && attempt.kind === "refund") {
      const refund = refundById.get(data?.refund?.id);
      if (
        data?.refund?.status !== "succeeded" ||
        refund?.status !== "succeeded" ||
        refund.customerId !== attempt.customerId ||
        refund.requestKey !== attempt.key ||
        refund.amountCents !== data.refund.amountCents
      ) {
        acknowledged(attempt, `refund ${data?.refund?.id} answered succeeded is missing or differs`, refund);
      }
    } else if (attempt.status === 422 && attempt.kind === "refund" && errorData(attempt)?.refund) {
      const answered = errorData(attempt).refund;
      const refund = refundById.get(answered.id);
      if (refund?.status !== "failed") {
        acknowledged(attempt, `refund ${answered.id} answered as failed is missing or differs`, refund);
      }
    }
  }

  // 5. Same key, same answer: every success the same business payload; a stored error never next to a success.
  const redisRestarts = input.faults.filter((f) => f.kind === "redis-restart" && f.ok);
  const keyed = attempts.filter((a) => a.kind !== "session" && a.key !== null);
  for (const group of groupBy(keyed, (a) => `${a.customerId}|${a.kind}|${a.key}`).values()) {
    const successes = group.filter((a) => a.status === 200);
    const storedErrors = group.filter(isStoredError);
    for (const success of successes) {
      if (resultOf(success)?.idempotency?.key !== success.key) {
        violations.push({
          invariant: invariants.sameAnswer,
          message: `a ${success.kind} success carries another key's idempotency meta`,
          evidence: brief(success),
        });
      }
    }
    const [first, ...others] = successes;
    if (first) {
      const { idempotency: firstMeta, ...firstPayload } = resultOf(first);
      for (const other of others) {
        const { idempotency: meta, ...payload } = resultOf(other);
        if (canonical(payload) !== canonical(firstPayload)) {
          violations.push({
            invariant: invariants.sameAnswer,
            message: `two successes for one ${first.kind} key carry different payloads`,
            evidence: [brief(first), brief(other)],
          });
          continue;
        }
        const strip = (m: Record<string, unknown>) => canonical({ ...m, replayed: undefined });
        if (strip(meta ?? {}) === strip(firstMeta ?? {})) continue;
        // Keys live only in Redis's memory: a restart while either attempt was under way (overlapping duplicates
        // included: one finished, Redis restarted, the other then claimed the key afresh) loses it, and
        // firstSeenAt starts again.
        const from = Math.min(first.start, other.start);
        const until = Math.max(first.end, other.end);
        if (input.store === "redis" && redisRestarts.some((f) => f.start >= from && f.start <= until)) {
          result.excusedByRedisRestart++;
          continue;
        }
        violations.push({
          invariant: invariants.sameAnswer,
          message: `two successes for one ${first.kind} key carry different idempotency meta`,
          evidence: [brief(first), brief(other)],
        });
      }
    }
    if (storedErrors.length > 0 && successes.length > 0) {
      violations.push({
        invariant: invariants.sameAnswer,
        message: `one ${group[0]?.kind} key was answered both with a stored error (${storedErrors[0]?.status}) and a success`,
        evidence: [...storedErrors.slice(0, 2), ...successes.slice(0, 2)].map(brief),
      });
    }
    const errorKinds = new Set(storedErrors.map((a) => `${a.status} ${a.body?.error?.message}`));
    if (errorKinds.size > 1) {
      violations.push({
        invariant: invariants.sameAnswer,
        message: `one ${group[0]?.kind} key was answered with ${errorKinds.size} different stored errors`,
        evidence: storedErrors.slice(0, 4).map(brief),
      });
    }
  }
}

export function checkRun(input: CheckInput): CheckResult {
  const violations: Violation[] = [];
  const result: CheckResult = { violations, reconcilerRepairs: [], excusedByRedisRestart: 0 };
  checkNonVacuous(input, violations);
  checkLedgers(input, violations, result);
  checkHistory(input, violations, result);
  return result;
}
