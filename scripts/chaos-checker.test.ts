/**
 * The chaos soak's judge can fail: fed the histories and ledgers of the bugs it exists to catch, it names them.
 * (A soak that passes proves something only if its checker would have flagged these.)
 */
import { describe, expect, it } from "vitest";
import { type CheckInput, checkRun, invariants } from "@/testing/chaos/checker";
import type { Attempt } from "@/testing/chaos/history";
import type { Ledgers } from "@/testing/chaos/ledger";

const customerId = "00000000-0000-4000-8000-000000000001";

function ledgers(overrides: Partial<Ledgers> = {}): Ledgers {
  return {
    orders: [],
    payments: [],
    refunds: [],
    keys: [],
    repairs: [],
    charges: [],
    providerRefunds: [],
    ...overrides,
  };
}

function attempt(overrides: Partial<Attempt>): Attempt {
  return {
    id: 1,
    kind: "pay",
    customerId,
    cookie: "eoc_session=x",
    key: "k1",
    input: {},
    server: "http://127.0.0.1:1",
    mode: "normal",
    attempt: 1,
    start: 0,
    end: 1,
    status: 200,
    ...overrides,
  };
}

const run = (input: Partial<CheckInput>) =>
  checkRun({ attempts: [], faults: [], ledgers: ledgers(), store: "mysql", expectedFaults: [], ...input });

const named = (result: ReturnType<typeof checkRun>, invariant: string) =>
  result.violations.filter((violation) => violation.invariant === invariant);

const order = { id: 1, customerId, placementKey: "p1", status: "paid", totalCents: 1000 };
const payment = (id: number, status: string, providerKey: string, declineCode: string | null = null) => ({
  id,
  orderId: 1,
  customerId,
  requestKey: `k${id}`,
  status,
  amountCents: 1000,
  refundedCents: 0,
  providerKey,
  providerChargeId: status === "succeeded" ? `ch_${id}` : null,
  declineCode,
});
const charge = (id: string, idempotencyKey: string) => ({
  id,
  idempotencyKey,
  status: "succeeded" as const,
  amountCents: 1000,
  currency: "EUR",
  reference: "order-1",
  refundedCents: 0,
});

describe("the chaos soak's checker", () => {
  it("flags the late-arrival double charge: two provider charges for one order, one recorded", () => {
    const result = run({
      ledgers: ledgers({
        orders: [order],
        payments: [payment(1, "failed", "pk1", "not_completed"), payment(2, "succeeded", "pk2")],
        charges: [charge("ch_late", "pk1"), charge("ch_2", "pk2")],
      }),
    });
    expect(named(result, invariants.chargesMatch)).not.toHaveLength(0);
  });

  it("flags anything left paying, pending or in progress after settling", () => {
    const result = run({
      ledgers: ledgers({ orders: [{ ...order, status: "paying" }], payments: [payment(1, "pending", "pk1")] }),
    });
    expect(named(result, invariants.settled)).not.toHaveLength(0);
  });

  it("flags a 500 answer", () => {
    const result = run({
      attempts: [attempt({ status: 500, body: { error: { data: { code: "INTERNAL_SERVER_ERROR" } } } })],
    });
    expect(named(result, invariants.noInternalError)).not.toHaveLength(0);
  });

  it("fails a run that tested nothing, instead of passing it", () => {
    expect(named(run({ expectedFaults: ["app-crash"] }), invariants.vacuous)).not.toHaveLength(0);
  });

  it("excuses new idempotency meta for one key only when Redis restarted while the attempts were under way", () => {
    const success = (id: number, start: number, end: number, firstSeenAt: string) =>
      attempt({
        id,
        kind: "refund",
        mode: "duplicate",
        start,
        end,
        body: { result: { data: { refund: { id: 7 }, idempotency: { key: "k1", replayed: false, firstSeenAt } } } },
      });
    // Two duplicates sent together: the first finished, Redis restarted empty, the second then ran afresh.
    const attempts = [
      success(1, 100, 230, "2026-12-03T06:39:06.478Z"),
      success(2, 101, 1030, "2026-12-03T06:39:06.656Z"),
    ];
    const redisRestart = { kind: "redis-restart" as const, start: 240, end: 1000, ok: true, detail: "restarted empty" };
    const excused = run({ store: "redis", attempts, faults: [redisRestart] });
    expect(named(excused, invariants.sameAnswer)).toHaveLength(0);
    expect(excused.excusedByRedisRestart).toBe(1);
    const unexplained = run({ store: "redis", attempts, faults: [{ ...redisRestart, start: 5000, end: 6000 }] });
    expect(named(unexplained, invariants.sameAnswer)).toHaveLength(1);
  });

  it("flags an order whose status disagrees with what its payment had refunded", () => {
    const refund = {
      ...{ id: 1, paymentId: 1, customerId, requestKey: "r1", amountCents: 400, status: "succeeded" },
      ...{ providerKey: "rk1", providerRefundId: "re_1", failureCode: null },
    };
    const paidOnce = { orders: [order], payments: [payment(1, "succeeded", "pk1")], charges: [charge("ch_1", "pk1")] };
    const stale = run({ ledgers: ledgers({ ...paidOnce, refunds: [refund] }) });
    expect(named(stale, invariants.refundsWithin).map((v) => v.message)).toContain(
      "order 1 is paid but 400 of its 1000 cents came back",
    );
    const right = run({
      ledgers: ledgers({ ...paidOnce, orders: [{ ...order, status: "partially_refunded" }], refunds: [refund] }),
    });
    expect(named(right, invariants.refundsWithin).filter((v) => v.message.startsWith("order 1"))).toHaveLength(0);
  });
});
