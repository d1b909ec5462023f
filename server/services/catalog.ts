/**
 * Catalog writes, each idempotent by construction (contract §5) rather than by an idempotency key:
 * linking is an upsert on the link's primary key, unlinking a delete, renaming a versioned update.
 */
import { and, asc, eq, inArray, sql } from "drizzle-orm";
import type { Executor } from "@/db/client";
import { driverErrorCodes } from "@/db/errors";
import { categories, productCategories, products } from "@/db/schema";
import { appError } from "../errors";

export interface RenameInput {
  productId: number;
  /** Already trimmed and checked by the procedure's input schema. */
  name: string;
  expectedVersion: number;
}

export interface LinkInput {
  productId: number;
  categoryId: number;
}

/** Database time, so servers with drifting clocks still stamp rows in order. */
const now = sql`CURRENT_TIMESTAMP(3)`;

export interface CatalogProduct {
  id: number;
  name: string;
  description: string;
  priceCents: number;
  currency: string;
  version: number;
  categoryIds: number[];
}

/** Every category, by name. */
export function listCategories(db: Executor) {
  return db
    .select({ id: categories.id, slug: categories.slug, name: categories.name })
    .from(categories)
    .orderBy(asc(categories.name));
}

/** Products with their category ids, all of them or the given ones, ordered by id. */
export async function listProducts(db: Executor, productIds?: number[]): Promise<CatalogProduct[]> {
  const [rows, links] = await Promise.all([
    db
      .select({
        id: products.id,
        name: products.name,
        description: products.description,
        priceCents: products.priceCents,
        currency: products.currency,
        version: products.version,
      })
      .from(products)
      .where(productIds ? inArray(products.id, productIds) : undefined)
      .orderBy(asc(products.id)),
    db
      .select({ productId: productCategories.productId, categoryId: productCategories.categoryId })
      .from(productCategories)
      .where(productIds ? inArray(productCategories.productId, productIds) : undefined)
      .orderBy(asc(productCategories.categoryId)),
  ]);
  return rows.map((product) => ({
    ...product,
    categoryIds: links.filter((link) => link.productId === product.id).map((link) => link.categoryId),
  }));
}

/**
 * Renames a product if it is still at `expectedVersion`, bumping the version. Otherwise CONFLICT carrying the
 * current name and version, so the caller can choose between its value and the other writer's.
 *
 * Whether the update matched is decided by re-reading the row, not by mysql2's affected-rows count: a row at
 * expectedVersion + 1 with the requested name is either this call's update or an earlier attempt of the same
 * rename whose answer was lost, and both are a success. A different writer that happened to set the same name
 * from the same version also passes this check; that is harmless, because the product is then exactly what this
 * caller asked for.
 */
export async function renameProduct(db: Executor, input: RenameInput): Promise<CatalogProduct> {
  return db.transaction(async (tx) => {
    await tx
      .update(products)
      .set({ name: input.name, version: sql`${products.version} + 1`, updatedAt: now })
      .where(and(eq(products.id, input.productId), eq(products.version, input.expectedVersion)));
    // Our update, if it matched, holds the row lock until commit: this read sees it and nothing newer.
    const [product] = await listProducts(tx, [input.productId]);
    if (!product) throw appError("NOT_FOUND", `Product ${input.productId} does not exist. Refresh the catalog.`);
    if (product.version === input.expectedVersion + 1 && product.name === input.name) return product;
    throw appError(
      "CONFLICT",
      `Someone else changed this product (it is now "${product.name}", version ${product.version}). ` +
        "Keep your name or take theirs.",
      { current: { name: product.name, version: product.version } },
    );
  });
}

export interface LinkState {
  productId: number;
  categoryId: number;
  linked: boolean;
}

/**
 * Links a product to a category with one INSERT … ON DUPLICATE KEY UPDATE on the link's primary key: any number
 * of repeats, concurrent or not, leave one row that keeps its create_time and gets a fresh update_time.
 */
export async function linkCategory(db: Executor, input: LinkInput): Promise<LinkState> {
  try {
    await db
      .insert(productCategories)
      .values({ productId: input.productId, categoryId: input.categoryId })
      .onDuplicateKeyUpdate({ set: { updateTime: now } });
  } catch (error) {
    if (!driverErrorCodes(error).includes("ER_NO_REFERENCED_ROW_2")) throw error;
    await assertProductAndCategoryExist(db, input);
    // Both exist after all (one appeared since the insert): a generic failure, never the foreign-key text.
    throw error;
  }
  return { ...input, linked: true };
}

/** Unlinks a product from a category; a link that is already gone is a success too. */
export async function unlinkCategory(db: Executor, input: LinkInput): Promise<LinkState> {
  await assertProductAndCategoryExist(db, input);
  await db
    .delete(productCategories)
    .where(and(eq(productCategories.productId, input.productId), eq(productCategories.categoryId, input.categoryId)));
  return { ...input, linked: false };
}

/** NOT_FOUND naming whichever id is unknown, so no foreign-key error text ever reaches a client. */
async function assertProductAndCategoryExist(db: Executor, input: LinkInput) {
  const [[product], [category]] = await Promise.all([
    db.select({ id: products.id }).from(products).where(eq(products.id, input.productId)),
    db.select({ id: categories.id }).from(categories).where(eq(categories.id, input.categoryId)),
  ]);
  const missing = [
    product ? undefined : `product ${input.productId}`,
    category ? undefined : `category ${input.categoryId}`,
  ].filter((name) => name !== undefined);
  if (missing.length > 0) {
    throw appError("NOT_FOUND", `There is no ${missing.join(" and no ")}. Refresh the catalog and try again.`);
  }
}
