"use client";
import { type QueryClient, useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import type { inferRouterOutputs } from "@trpc/server";
import { type MouseEvent, useState } from "react";
import type { AppRouter } from "@/server/root";
import { productNameMaxLength } from "@/shop/limits";
import { AdminToolbar } from "./admin-toolbar";
import { type ConflictChoice, ConflictDialog } from "./conflict-dialog";
import { formatMoney } from "./money";
import { useTRPC } from "./trpc";
import { useSingleFlight } from "./use-single-flight";

type CatalogOutputs = inferRouterOutputs<AppRouter>["catalog"];
type Product = CatalogOutputs["products"][number];
type Category = CatalogOutputs["categories"][number];

interface Notice {
  tone: "ok" | "error";
  text: string;
}

/** What a failed call carries to the browser: the server's actionable message and its data, if it answered. */
interface CallError {
  message: string;
  data?: { code?: string } | null;
}

/** The same rule as catalog.rename's input: trimmed, 1 to productNameMaxLength characters (code points). */
const nameMaxLength = productNameMaxLength;

function nameProblem(name: string): string | undefined {
  const length = Array.from(name.trim()).length;
  if (length === 0) return "Enter a name.";
  if (length > nameMaxLength) return `Names are at most ${nameMaxLength} characters; this one has ${length}.`;
  return undefined;
}

function describeError(error: CallError): string {
  // No data means the server never answered (offline, connection reset); these edits are safe to repeat.
  return error.data?.code
    ? error.message
    : "We could not reach the shop. Check your connection and try again: repeating the change is safe.";
}

/** The other writer's value from a rename CONFLICT (`error.data.current`), if that is what this error is. */
function conflictCurrent(error: CallError): ConflictChoice["theirs"] | undefined {
  if (error.data?.code !== "CONFLICT") return undefined;
  const current = (error.data as { current?: { name?: unknown; version?: unknown } }).current;
  return typeof current?.name === "string" && typeof current.version === "number"
    ? { name: current.name, version: current.version }
    : undefined;
}

export function ProductAdmin() {
  const trpc = useTRPC();
  const products = useQuery(trpc.catalog.products.queryOptions());
  const categories = useQuery(trpc.catalog.categories.queryOptions());

  if (products.isPending || categories.isPending) {
    return (
      <p className="notice" aria-busy="true">
        Loading the catalog…
      </p>
    );
  }
  if (products.isError || categories.isError) {
    return (
      <div role="alert" className="notice notice--error">
        <p>We could not load the catalog: {(products.error ?? categories.error)?.message}</p>
        <button
          type="button"
          className="button"
          onClick={() => Promise.all([products.refetch(), categories.refetch()])}
        >
          Try again
        </button>
      </div>
    );
  }

  return (
    <section className="admin" aria-labelledby="admin-products-title">
      <AdminToolbar
        titleId="admin-products-title"
        title={
          <>
            Products <span className="admin__count">{products.data.length}</span>
          </>
        }
        reloadLabel="Reload catalog"
        reloading={products.isFetching}
        onReload={() => products.refetch()}
      />
      <div className="table-wrap">
        <table className="admin-table">
          <thead>
            <tr>
              <th scope="col">#</th>
              <th scope="col">Name</th>
              <th scope="col">Price</th>
              <th scope="col">Categories</th>
              <th scope="col">Version</th>
            </tr>
          </thead>
          <tbody>
            {products.data.map((product) => (
              <ProductRow key={product.id} product={product} categories={categories.data} />
            ))}
          </tbody>
        </table>
      </div>
    </section>
  );
}

/** Writes a product's new state into the cached catalog, so every view agrees with what the server answered. */
function updateCachedProduct(
  queryClient: QueryClient,
  queryKey: readonly unknown[],
  productId: number,
  update: (product: Product) => Product,
) {
  queryClient.setQueryData<Product[]>(queryKey, (list) =>
    list?.map((product) => (product.id === productId ? update(product) : product)),
  );
}

function ProductRow({ product, categories }: { product: Product; categories: Category[] }) {
  const trpc = useTRPC();
  const queryClient = useQueryClient();
  const productsKey = trpc.catalog.products.queryKey();
  /** The name being typed and the version it was started from: a save is only valid against that version. */
  const [draft, setDraft] = useState<{ name: string; baseVersion: number } | null>(null);
  const [conflict, setConflict] = useState<ConflictChoice | null>(null);
  const [notice, setNotice] = useState<Notice | null>(null);
  const saving = useSingleFlight();

  const rename = useMutation(
    trpc.catalog.rename.mutationOptions({
      onSuccess: ({ product: saved }) => {
        updateCachedProduct(queryClient, productsKey, saved.id, () => saved);
        setDraft(null);
        setNotice({ tone: "ok", text: `Saved as version ${saved.version}.` });
      },
      onError: (error, variables) => {
        const theirs = conflictCurrent(error);
        if (!theirs) {
          setNotice({ tone: "error", text: describeError(error) });
          return;
        }
        updateCachedProduct(queryClient, productsKey, product.id, (cached) => ({ ...cached, ...theirs }));
        setConflict({ mine: variables.name, theirs });
      },
      onSettled: saving.end,
    }),
  );

  function save(name: string, expectedVersion: number) {
    if (!saving.start()) return;
    setNotice(null);
    rename.mutate({ productId: product.id, name, expectedVersion });
  }

  const name = draft?.name ?? product.name;
  const problem = draft ? nameProblem(draft.name) : undefined;
  const changed = draft !== null && draft.name.trim() !== product.name;
  const hintId = `product-${product.id}-hint`;

  return (
    <tr data-testid={`product-${product.id}`}>
      <td className="admin-table__id">{product.id}</td>
      <td>
        <form
          className="name-form"
          onSubmit={(event) => {
            event.preventDefault();
            if (draft && changed && !problem) save(draft.name.trim(), draft.baseVersion);
          }}
        >
          <input
            className="name-form__input"
            aria-label={`Name of product ${product.id}`}
            aria-invalid={problem ? true : undefined}
            aria-describedby={hintId}
            value={name}
            onChange={(event) => {
              setNotice(null);
              setDraft({ name: event.target.value, baseVersion: draft?.baseVersion ?? product.version });
            }}
            onKeyDown={(event) => {
              if (event.key === "Escape") setDraft(null);
            }}
          />
          <button
            type="submit"
            className="button button--small"
            aria-busy={rename.isPending || undefined}
            disabled={!changed || problem !== undefined || rename.isPending}
          >
            {rename.isPending ? "Saving…" : "Save"}
          </button>
        </form>
        <p id={hintId} className="row-notice" role="status">
          {problem ?? (notice?.tone === "ok" ? notice.text : changed ? "Unsaved. Enter saves, Escape reverts." : "")}
        </p>
        {notice?.tone === "error" && (
          <p className="row-notice row-notice--error" role="alert">
            {notice.text}
          </p>
        )}
        {conflict && (
          <ConflictDialog
            conflict={conflict}
            onKeepMine={() => {
              setConflict(null);
              setDraft({ name: conflict.mine, baseVersion: conflict.theirs.version });
              save(conflict.mine, conflict.theirs.version);
            }}
            onUseTheirs={() => {
              setConflict(null);
              setDraft(null);
              setNotice({ tone: "ok", text: `Kept their name, version ${conflict.theirs.version}.` });
              queryClient.invalidateQueries({ queryKey: productsKey });
            }}
            onDismiss={() => {
              setConflict(null);
              setNotice({ tone: "error", text: "Not saved: someone else renamed this product. Save again to choose." });
            }}
          />
        )}
      </td>
      <td className="admin-table__price">{formatMoney(product.priceCents, product.currency)}</td>
      <td>
        <fieldset className="toggles">
          <legend className="visually-hidden">Categories of product {product.id}</legend>
          {categories.map((category) => (
            <CategoryToggle
              key={category.id}
              productId={product.id}
              category={category}
              linked={product.categoryIds.includes(category.id)}
              onError={(text) => setNotice({ tone: "error", text })}
            />
          ))}
        </fieldset>
      </td>
      <td>
        <span className="version" data-testid="product-version">
          v{product.version}
        </span>
      </td>
    </tr>
  );
}

function CategoryToggle({
  productId,
  category,
  linked,
  onError,
}: {
  productId: number;
  category: Category;
  linked: boolean;
  onError(text: string): void;
}) {
  const trpc = useTRPC();
  const queryClient = useQueryClient();
  const productsKey = trpc.catalog.products.queryKey();
  const sending = useSingleFlight();
  const handlers = {
    onSuccess: (state: { productId: number; categoryId: number; linked: boolean }) =>
      updateCachedProduct(queryClient, productsKey, state.productId, (product) => ({
        ...product,
        categoryIds: state.linked
          ? [...new Set([...product.categoryIds, state.categoryId])].sort((a, b) => a - b)
          : product.categoryIds.filter((id) => id !== state.categoryId),
      })),
    onError: (error: CallError) => {
      onError(describeError(error));
      queryClient.invalidateQueries({ queryKey: productsKey });
    },
    onSettled: sending.end,
  };
  const link = useMutation(trpc.catalog.link.mutationOptions(handlers));
  const unlink = useMutation(trpc.catalog.unlink.mutationOptions(handlers));
  const busy = link.isPending || unlink.isPending;
  const action = linked ? "Unlink" : "Link";

  function toggle(event: MouseEvent<HTMLButtonElement>) {
    // The second click of a double click (detail 2) would undo the first once it has landed: ignore it.
    if (event.detail > 1 || !sending.start()) return;
    (linked ? unlink : link).mutate({ productId, categoryId: category.id });
  }

  return (
    <button
      type="button"
      className={`toggle${linked ? " toggle--on" : ""}`}
      aria-label={`${action} ${category.name}`}
      title={`${action} ${category.name}`}
      aria-busy={busy || undefined}
      disabled={busy}
      onClick={toggle}
    >
      <span className="toggle__mark" aria-hidden="true">
        {linked ? "✓" : "+"}
      </span>
      {category.name}
    </button>
  );
}
