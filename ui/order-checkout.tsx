"use client";
import { useQuery } from "@tanstack/react-query";
import type { inferRouterOutputs } from "@trpc/server";
import { useState } from "react";
import type { AppRouter } from "@/server/root";
import { type TestCardNumber, testCardNumbers, testCards } from "@/shop/test-cards";
import { CallProgress, failureText, progressText, retriesExhausted } from "./call-status";
import { formatMoney } from "./money";
import { errorData, wasReplayed } from "./retry-policy";
import { useTRPC } from "./trpc";
import { unfinishedPayIntent, usePayment } from "./use-payment";

type OrderView = inferRouterOutputs<AppRouter>["orders"]["get"];
type Order = OrderView["order"];
type Payment = OrderView["payments"][number];

const statusLabel: Record<Order["status"], string> = {
  awaiting_payment: "Awaiting payment",
  paying: "Payment in progress",
  paid: "Paid",
  partially_refunded: "Partly refunded",
  refunded: "Refunded",
};

const wording = {
  sending: "Sending your payment…",
  whenOnline: "your payment will be sent",
  safeToRepeat: "“Try again” sends the same payment, so you are never charged twice.",
  resuming: "Resuming your payment…",
};

export function OrderCheckout({ orderId }: { orderId: number }) {
  const trpc = useTRPC();
  const view = useQuery(trpc.orders.get.queryOptions({ orderId }));

  if (view.isPending) {
    return (
      <p className="notice" aria-busy="true">
        Loading your order…
      </p>
    );
  }
  if (view.isError) {
    const notFound = errorData(view.error)?.code === "NOT_FOUND";
    return (
      <div role="alert" className="notice notice--error">
        <p>
          {notFound
            ? `We could not find order #${orderId}. An order can only be opened in the browser that placed it.`
            : `We could not load your order: ${view.error.message}`}
        </p>
        {notFound ? (
          <a className="button" href="/">
            Back to the shop
          </a>
        ) : (
          <button type="button" className="button" onClick={() => view.refetch()}>
            Try again
          </button>
        )}
      </div>
    );
  }
  return <Checkout order={view.data.order} payments={view.data.payments} refundedCents={view.data.refundedCents} />;
}

function Checkout({ order, payments, refundedCents }: { order: Order; payments: Payment[]; refundedCents: number }) {
  const { mutation, pay, tryAgain, resuming } = usePayment(order.id, order.status);
  const [card, setCard] = useState<TestCardNumber>(() => unfinishedPayIntent(order.id)?.card ?? "4242424242424242");
  const paid = mutation.data?.payment ?? payments.find((payment) => payment.status === "succeeded");
  const declined = errorData(mutation.error)?.code === "PAYMENT_REQUIRED";

  return (
    <div className="checkout">
      <OrderSummary order={order} />
      {paid ? (
        <Receipt payment={paid} refundedCents={refundedCents} replayed={mutation.data?.idempotency.replayed === true} />
      ) : (
        <section className="panel payment" aria-labelledby="payment-title" data-testid="payment">
          <h2 id="payment-title" className="panel__title">
            Payment
          </h2>
          {order.status === "paying" && mutation.isIdle && (
            <p className="notice">
              A payment for this order is already under way, perhaps in another tab. Wait a moment, then reload.
            </p>
          )}
          <fieldset className="card-picker" disabled={mutation.isPending}>
            <legend className="card-picker__legend">Choose a test card</legend>
            {testCardNumbers.map((number) => (
              <label key={number} className="card-option">
                <input
                  type="radio"
                  name="card"
                  value={number}
                  checked={card === number}
                  onChange={() => {
                    setCard(number);
                    if (mutation.isError) mutation.reset();
                  }}
                />
                <span className="card-option__mark" aria-hidden="true">
                  •••• {number.slice(-4)}
                </span>
                <span>{testCards[number].label}</span>
              </label>
            ))}
          </fieldset>
          <button
            type="button"
            className="button payment__pay"
            aria-busy={mutation.isPending || undefined}
            disabled={mutation.isPending}
            onClick={() => pay(card)}
          >
            Pay {formatMoney(order.totalCents, order.currency)}
          </button>
          <CallProgress text={progressText(mutation, wording, resuming)} />
          {mutation.isError && (
            <div className="notice notice--error payment__error" role="alert">
              <p>{failureText(mutation, wording)}</p>
              {declined && wasReplayed(mutation.error) && (
                <p>This is the answer to your earlier attempt with this card: it was not charged again.</p>
              )}
              {retriesExhausted(mutation) && (
                <button type="button" className="button button--small" onClick={tryAgain}>
                  Try again
                </button>
              )}
            </div>
          )}
        </section>
      )}
    </div>
  );
}

function OrderSummary({ order }: { order: Order }) {
  return (
    <section className="panel summary" aria-labelledby="summary-title">
      <div className="summary__head">
        <h2 id="summary-title" className="panel__title">
          Order #{order.id}
        </h2>
        <span className={`badge badge--${order.status}`} data-testid="order-status">
          {statusLabel[order.status]}
        </span>
      </div>
      <ul className="summary__lines" aria-label="Items">
        {order.items.map((item) => (
          <li key={item.productId} className="summary__line">
            <span>
              {item.name} <span className="summary__quantity">× {item.quantity}</span>
            </span>
            <span>{formatMoney(item.quantity * item.unitPriceCents, order.currency)}</span>
          </li>
        ))}
      </ul>
      <p className="summary__total">
        <span>Total</span>
        <span data-testid="order-total">{formatMoney(order.totalCents, order.currency)}</span>
      </p>
    </section>
  );
}

function Receipt({ payment, refundedCents, replayed }: { payment: Payment; refundedCents: number; replayed: boolean }) {
  return (
    <section className="panel receipt" aria-labelledby="receipt-title" data-testid="receipt">
      <p className="receipt__mark" aria-hidden="true">
        ✓
      </p>
      <h2 id="receipt-title" className="panel__title">
        Payment received
      </h2>
      <dl className="receipt__facts">
        <dt>Status</dt>
        <dd data-testid="receipt-status">{payment.status === "succeeded" ? "Paid" : payment.status}</dd>
        <dt>Amount</dt>
        <dd data-testid="receipt-amount">{formatMoney(payment.amountCents, payment.currency)}</dd>
        {refundedCents > 0 && (
          <>
            <dt>Refunded</dt>
            <dd data-testid="receipt-refunded">{formatMoney(refundedCents, payment.currency)}</dd>
          </>
        )}
        <dt>Card</dt>
        <dd data-testid="receipt-card">•••• {payment.cardLast4}</dd>
        <dt>Provider charge</dt>
        <dd className="receipt__charge" data-testid="receipt-charge">
          {payment.providerChargeId}
        </dd>
      </dl>
      {replayed && (
        <p className="receipt__replayed" data-testid="receipt-replayed">
          Replayed: this answer came from your earlier attempt — you were charged once.
        </p>
      )}
      <a className="button button--quiet" href="/">
        Continue shopping
      </a>
    </section>
  );
}
