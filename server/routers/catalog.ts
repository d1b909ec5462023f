import { z } from "zod";
import { displayName, rowId } from "../inputs";
import { linkCategory, listCategories, listProducts, renameProduct, unlinkCategory } from "../services/catalog";
import { adminProcedure, createTRPCRouter, publicProcedure } from "../trpc";

const renameInput = z.object({ productId: rowId, name: displayName, expectedVersion: rowId });
const linkInput = z.object({ productId: rowId, categoryId: rowId });

/**
 * The catalog, and its edits, which only the merchant may make. The edits take no idempotency key (contract §5):
 * each is idempotent by construction, so a retry or a double click can repeat it safely.
 */
export const catalogRouter = createTRPCRouter({
  products: publicProcedure.query(({ ctx }) => listProducts(ctx.db)),

  categories: publicProcedure.query(({ ctx }) => listCategories(ctx.db)),

  /** Renames a product still at `expectedVersion`; CONFLICT with `data.current` when someone got there first. */
  rename: adminProcedure
    .input(renameInput)
    .mutation(async ({ ctx, input }) => ({ product: await renameProduct(ctx.db, input) })),

  /** Links a product to a category; linking again only refreshes the link's update_time. */
  link: adminProcedure.input(linkInput).mutation(({ ctx, input }) => linkCategory(ctx.db, input)),

  /** Unlinks a product from a category; unlinking a link that is already gone succeeds. */
  unlink: adminProcedure.input(linkInput).mutation(({ ctx, input }) => unlinkCategory(ctx.db, input)),
});
