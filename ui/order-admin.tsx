"use client";
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import type { inferRouterOutputs } from "@trpc/server";
import { type FormEvent, useState } from "react";
import type { AppRouter } from "@/server/root";
import { AdminToolbar } from "./admin-toolbar";
import { clearIntent, keyForIntent } from "./intent-key";
import { formatMoney } from "./money";
import { errorData, idempotentRetry, isNetworkError } from "./retry-policy";
import { useTRPC } from "./trpc";
import { useSingleFlight } from "./use-single-flight";

type MerchantOrder = inferRouterOutputs<AppRouter>["merchant"]["orders"]["orders"][number];

const statusLabel: Record<MerchantOrder["status"], string> = {
  awaiting_payment: "Awaiting payment",
  paying: "Payment in progress",
  paid: "Paid",
  partially_refunded: "Partly refunded",
  refunded: "Refunded",
};

/** "12.5" → 1250; null for anything that is not a positive amount with at most two decimals. */
function centsOf(text: string): number | null {
  const match = /^\s*(\d{1,7})(?:\.(\d{1,2}))?\s*$/.exec(text);
  if (!match) return null;
  const cents = Number(match[1]) * 100 + Number((match[2] ?? "").padEnd(2, "0"));
  return cents > 0 ? cents : null;
}

export function OrderAdmin() {
  const trpc = useTRPC();
  const orders = useQuery(trpc.merchant.orders.queryOptions({ limit: 25 }));

  return (
    <section className="admin" aria-labelledby="admin-orders-title">
      <AdminToolbar
        titleId="admin-orders-title"
        title="Latest orders"
        reloadLabel="Reload orders"
        reloading={orders.isFetching}
        onReload={() => orders.refetch()}
      />
      {orders.isPending ? (
        <p className="notice" aria-busy="true">
          Loading orders…
        </p>
      ) : orders.isError ? (
        <p role="alert" className="notice notice--error">
          We could not load the orders: {orders.error.message}
        </p>
      ) : orders.data.orders.length === 0 ? (
        <p className="notice">No orders yet.</p>
      ) : (
        <div className="table-wrap">
          <table className="admin-table">
            <thead>
              <tr>
                <th scope="col">Order</th>
                <th scope="col">Status</th>
                <th scope="col">Total</th>
                <th scope="col">Refunded</th>
                <th scope="col">Refund</th>
              </tr>
            </thead>
            <tbody>
              {orders.data.orders.map((order) => (
                <OrderRow key={order.id} order={order} />
              ))}
            </tbody>
          </table>
        </div>
      )}
    </section>
  );
}

function OrderRow({ order }: { order: MerchantOrder }) {
  const payment = order.payment;
  return (
    <tr data-testid={`merchant-order-${order.id}`}>
      <td>#{order.id}</td>
      <td>
        <span className={`badge badge--${order.status}`} data-testid="merchant-order-status">
          {statusLabel[order.status]}
        </span>
      </td>
      <td>{formatMoney(order.totalCents, order.currency)}</td>
      <td data-testid="merchant-order-refunded">
        {payment ? formatMoney(payment.refundedCents, order.currency) : "—"}
      </td>
      <td>
        {payment && payment.refundableCents > 0 ? (
          <RefundForm paymentId={payment.id} refundableCents={payment.refundableCents} currency={order.currency} />
        ) : (
          "—"
        )}
      </td>
    </tr>
  );
}

/**
 * One refund intent ("refund this amount of this payment") keeps one idempotency key across automatic retries, a
 * second click and a reload, so the money goes back once. Another amount is another intent with a new key.
 */
function RefundForm({
  paymentId,
  refundableCents,
  currency,
}: {
  paymentId: number;
  refundableCents: number;
  currency: string;
}) {
  const trpc = useTRPC();
  const queryClient = useQueryClient();
  const [amount, setAmount] = useState((refundableCents / 100).toFixed(2));
  const [done, setDone] = useState<string | null>(null);
  const sending = useSingleFlight();
  const intent = `refund:${paymentId}`;
  const refund = useMutation(
    trpc.payments.refund.mutationOptions({
      ...idempotentRetry,
      onSuccess: (result, { idempotencyKey }) => {
        clearIntent(intent, idempotencyKey);
        setDone(`Refunded ${formatMoney(result.refund.amountCents, currency)}.`);
      },
      onSettled: () => {
        sending.end();
        return queryClient.invalidateQueries({ queryKey: trpc.merchant.orders.queryKey() });
      },
    }),
  );
  const cents = centsOf(amount);

  function submit(event: FormEvent) {
    event.preventDefault();
    if (cents === null || !sending.start()) return;
    setDone(null);
    refund.mutate({ paymentId, amountCents: cents, idempotencyKey: keyForIntent(intent, String(cents)) });
  }

  const failure = refund.error
    ? isNetworkError(refund.error)
      ? "We could not reach the shop. Refund again: the same refund is never made twice."
      : refund.error.message
    : null;
  return (
    <form className="refund-form" onSubmit={submit}>
      <label>
        <span className="visually-hidden">Amount to refund</span>
        <input
          inputMode="decimal"
          value={amount}
          onChange={(event) => setAmount(event.target.value)}
          aria-invalid={cents === null || cents > refundableCents || undefined}
          size={8}
        />
      </label>
      <button type="submit" className="button button--small" disabled={refund.isPending || cents === null}>
        {refund.isPending ? "Refunding…" : "Refund"}
      </button>
      {done && (
        <span role="status" className="refund-form__done">
          {done}
        </span>
      )}
      {failure && (
        <span role="alert" className="notice--error" data-code={errorData(refund.error)?.code}>
          {failure}
        </span>
      )}
    </form>
  );
}
