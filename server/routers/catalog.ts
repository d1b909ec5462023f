import { asc } from "drizzle-orm";
import { categories, productCategories, products } from "@/db/schema";
import { createTRPCRouter, publicProcedure } from "../trpc";

export const catalogRouter = createTRPCRouter({
  products: publicProcedure.query(async ({ ctx }) => {
    const [rows, links] = await Promise.all([
      ctx.db
        .select({
          id: products.id,
          name: products.name,
          description: products.description,
          priceCents: products.priceCents,
          currency: products.currency,
          version: products.version,
        })
        .from(products)
        .orderBy(asc(products.id)),
      ctx.db
        .select({ productId: productCategories.productId, categoryId: productCategories.categoryId })
        .from(productCategories)
        .orderBy(asc(productCategories.categoryId)),
    ]);
    return rows.map((product) => ({
      ...product,
      categoryIds: links.filter((link) => link.productId === product.id).map((link) => link.categoryId),
    }));
  }),

  categories: publicProcedure.query(({ ctx }) =>
    ctx.db
      .select({ id: categories.id, slug: categories.slug, name: categories.name })
      .from(categories)
      .orderBy(asc(categories.name)),
  ),
});
