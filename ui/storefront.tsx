"use client";
import { useQuery } from "@tanstack/react-query";
import { cartActions, useCart } from "./cart";
import { CartPanel } from "./cart-panel";
import { formatMoney } from "./money";
import { useTRPC } from "./trpc";

export function Storefront() {
  const trpc = useTRPC();
  const products = useQuery(trpc.catalog.products.queryOptions());
  const categories = useQuery(trpc.catalog.categories.queryOptions());
  const categoryName = new Map(categories.data?.map((category) => [category.id, category.name]));
  const inCart = new Map(useCart().map((line) => [line.productId, line.quantity]));

  if (products.isPending) {
    return (
      <ul className="grid" aria-busy="true" aria-label="Loading products">
        {Array.from({ length: 6 }, (_, index) => (
          // biome-ignore lint/suspicious/noArrayIndexKey: placeholders have no identity
          <li key={index} className="card card--placeholder" />
        ))}
      </ul>
    );
  }
  if (products.isError) {
    return (
      <div role="alert" className="notice notice--error">
        <p>We could not load the catalog: {products.error.message}</p>
        <button type="button" className="button" onClick={() => products.refetch()}>
          Try again
        </button>
      </div>
    );
  }

  return (
    <div className="shop">
      <ul className="grid" aria-label="Products">
        {products.data.map((product) => (
          <li key={product.id} className="card" data-testid="product-card">
            <div className="card__art" style={{ "--hue": (product.id * 67) % 360 } as React.CSSProperties}>
              <span aria-hidden="true">{product.name.charAt(0)}</span>
            </div>
            <div className="card__body">
              <h2 className="card__title">{product.name}</h2>
              <p className="card__description">{product.description}</p>
              <ul className="chips" aria-label="Categories">
                {product.categoryIds
                  .map((id) => ({ id, name: categoryName.get(id) ?? "…" }))
                  .sort((a, b) => a.name.localeCompare(b.name))
                  .map(({ id, name }) => (
                    <li key={id} className="chip">
                      {name}
                    </li>
                  ))}
              </ul>
            </div>
            <div className="card__footer">
              <span className="price" data-testid="product-price">
                {formatMoney(product.priceCents, product.currency)}
              </span>
              {inCart.has(product.id) && <span className="in-cart">{inCart.get(product.id)} in cart</span>}
              <button
                type="button"
                className="button button--small"
                aria-label={`Add to cart: ${product.name}`}
                onClick={() => cartActions.add(product.id)}
              >
                Add to cart
              </button>
            </div>
          </li>
        ))}
      </ul>
      <CartPanel products={products.data} />
    </div>
  );
}
