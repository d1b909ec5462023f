"use client";
import { useMutation, useQuery } from "@tanstack/react-query";
import type { inferRouterOutputs } from "@trpc/server";
import { useRouter } from "next/navigation";
import { useState } from "react";
import type { AppRouter } from "@/server/root";
import { maxQuantity } from "@/shop/limits";
import { CallProgress, failureText, progressText, retriesExhausted } from "./call-status";
import { cartActions, cartContent, useCart } from "./cart";
import { keyForIntent, placeOrderIntent } from "./intent-key";
import { formatMoney } from "./money";
import { idempotentRetry } from "./retry-policy";
import { useTRPC } from "./trpc";
import { useSingleFlight } from "./use-single-flight";

type Product = inferRouterOutputs<AppRouter>["catalog"]["products"][number];

const wording = {
  sending: "Placing your order…",
  whenOnline: "your order will be placed",
  safeToRepeat: "“Try again” sends the same order, so it is never placed twice.",
};

export function CartPanel({ products }: { products: Product[] }) {
  const trpc = useTRPC();
  const router = useRouter();
  const lines = useCart();
  // The guest cookie must exist before the first keyed call. Keys are scoped to the customer: if "Place order"
  // created the session and its answer (cookie included) were lost, the retry would come from a new customer.
  const session = useQuery(trpc.session.me.queryOptions(undefined, { staleTime: Number.POSITIVE_INFINITY }));
  const [placedOrderId, setPlacedOrderId] = useState<number | null>(null);
  const placing = useSingleFlight();

  const place = useMutation(
    trpc.orders.place.mutationOptions({
      ...idempotentRetry,
      onSuccess: ({ order }) => {
        setPlacedOrderId(order.id);
        cartActions.clear();
        router.push(`/orders/${order.id}`);
      },
      onError: placing.end,
    }),
  );

  const byId = new Map(products.map((product) => [product.id, product]));
  const items = lines.filter((line) => byId.has(line.productId));
  const currency = byId.get(items[0]?.productId ?? -1)?.currency ?? "USD";
  const totalCents = items.reduce((sum, line) => sum + line.quantity * (byId.get(line.productId)?.priceCents ?? 0), 0);
  const busy = place.isPending || placedOrderId !== null;
  // A changed cart is a new intent: an earlier failure no longer speaks for it.
  const failed =
    place.isError && place.variables !== undefined && cartContent(place.variables.items) === cartContent(items);

  function placeOrder() {
    if (items.length === 0 || !placing.start()) return;
    place.mutate({ idempotencyKey: keyForIntent(placeOrderIntent, cartContent(items)), items });
  }

  return (
    <aside className="cart" aria-labelledby="cart-title">
      <h2 id="cart-title" className="cart__title">
        Your cart
        {items.length > 0 && <span className="cart__count">{items.reduce((sum, line) => sum + line.quantity, 0)}</span>}
      </h2>
      {placedOrderId !== null ? (
        <p className="cart__empty" role="status">
          Order #{placedOrderId} placed. Taking you to payment…
        </p>
      ) : items.length === 0 ? (
        <p className="cart__empty">Your cart is empty. Add a roast, a tea or some gear to get started.</p>
      ) : (
        <ul className="cart__lines" aria-label="Cart items">
          {items.map((line) => {
            const product = byId.get(line.productId) as Product;
            return (
              <li key={line.productId} className="cart-line" data-testid={`cart-line-${line.productId}`}>
                <span className="cart-line__name">{product.name}</span>
                <span className="cart-line__total">
                  {formatMoney(line.quantity * product.priceCents, product.currency)}
                </span>
                <span className="stepper">
                  <button
                    type="button"
                    className="stepper__button"
                    aria-label={`One less ${product.name}`}
                    disabled={busy || line.quantity <= 1}
                    onClick={() => cartActions.setQuantity(line.productId, line.quantity - 1)}
                  >
                    −
                  </button>
                  <input
                    className="stepper__input"
                    type="number"
                    inputMode="numeric"
                    min={1}
                    max={maxQuantity}
                    aria-label={`Quantity of ${product.name}`}
                    value={line.quantity}
                    disabled={busy}
                    onChange={(event) => cartActions.setQuantity(line.productId, event.target.valueAsNumber)}
                  />
                  <button
                    type="button"
                    className="stepper__button"
                    aria-label={`One more ${product.name}`}
                    disabled={busy || line.quantity >= maxQuantity}
                    onClick={() => cartActions.setQuantity(line.productId, line.quantity + 1)}
                  >
                    +
                  </button>
                </span>
                <button
                  type="button"
                  className="link-button"
                  aria-label={`Remove ${product.name}`}
                  disabled={busy}
                  onClick={() => cartActions.remove(line.productId)}
                >
                  Remove
                </button>
              </li>
            );
          })}
        </ul>
      )}
      {items.length > 0 && placedOrderId === null && (
        <>
          <p className="cart__total">
            <span>Total</span>
            <span data-testid="cart-total">{formatMoney(totalCents, currency)}</span>
          </p>
          <button
            type="button"
            className="button cart__place"
            aria-busy={place.isPending || undefined}
            disabled={busy || !session.isSuccess}
            onClick={placeOrder}
          >
            Place order
          </button>
          <CallProgress text={progressText(place, wording)} />
          {failed && (
            <div className="notice notice--error cart__error" role="alert">
              <p>{failureText(place, wording)}</p>
              {retriesExhausted(place) && (
                <button type="button" className="button button--small" onClick={placeOrder}>
                  Try again
                </button>
              )}
            </div>
          )}
          {session.isError && (
            <p className="notice notice--error cart__error" role="alert">
              We could not start your session, so ordering is paused. Check your connection and reload the page.
            </p>
          )}
        </>
      )}
    </aside>
  );
}
