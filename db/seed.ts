/** The demo catalog a fresh database starts with. */
import { count } from "drizzle-orm";
import type { Executor } from "./client";
import { categories, productCategories, products } from "./schema";

const demoCategories = [
  { slug: "coffee", name: "Coffee" },
  { slug: "tea", name: "Tea" },
  { slug: "brewing", name: "Brewing gear" },
];

const demoProducts = [
  {
    sku: "BEAN-ETH-250",
    name: "Yirgacheffe beans",
    description: "Washed Ethiopian coffee, 250 g. Jasmine, bergamot and a clean lemon finish.",
    priceCents: 1450,
    categories: ["coffee"],
  },
  {
    sku: "BEAN-COL-250",
    name: "Huila house roast",
    description: "Colombian medium roast, 250 g. Caramel and red apple; forgiving in any brewer.",
    priceCents: 1200,
    categories: ["coffee"],
  },
  {
    sku: "TEA-SEN-100",
    name: "First-flush sencha",
    description: "Japanese green tea, 100 g. Grassy, sweet, best brewed at 70 °C.",
    priceCents: 1650,
    categories: ["tea"],
  },
  {
    sku: "TEA-ASS-200",
    name: "Assam breakfast",
    description: "Malty black tea, 200 g loose leaf. Stands up to milk.",
    priceCents: 990,
    categories: ["tea"],
  },
  {
    sku: "GEAR-V60-02",
    name: "Ceramic pour-over cone",
    description: "Size 02 dripper with spiral ribs for an even, quick drawdown.",
    priceCents: 2800,
    categories: ["brewing", "coffee"],
  },
  {
    sku: "GEAR-KETTLE-1L",
    name: "Gooseneck kettle",
    description: "1 litre stainless kettle with a thermometer in the lid.",
    priceCents: 4900,
    categories: ["brewing", "coffee", "tea"],
  },
];

/**
 * Seeds the demo catalog into an empty database. A catalog that already has products is left alone, so running
 * setup again changes nothing, including renames and links made through the app since.
 */
export async function seedDemoCatalog(db: Executor): Promise<void> {
  const [catalog] = await db.select({ size: count() }).from(products);
  if ((catalog?.size ?? 0) > 0) return;

  // Ids spelled out, 1 to n: a Galera node hands out auto-increment ids interleaved with the other nodes' (1, 4, 7
  // on node 1), and the demo, its guide and its tests name products by id.
  await db.insert(categories).values(demoCategories.map((category, index) => ({ id: index + 1, ...category })));
  await db
    .insert(products)
    .values(
      demoProducts.map(({ categories: _, ...product }, index) => ({ id: index + 1, ...product, currency: "USD" })),
    );

  const productIds = new Map(
    (await db.select({ id: products.id, sku: products.sku }).from(products)).map((row) => [row.sku, row.id]),
  );
  const categoryIds = new Map(
    (await db.select({ id: categories.id, slug: categories.slug }).from(categories)).map((row) => [row.slug, row.id]),
  );
  await db.insert(productCategories).values(
    demoProducts.flatMap((product) =>
      product.categories.map((slug) => ({
        productId: productIds.get(product.sku) as number,
        categoryId: categoryIds.get(slug) as number,
      })),
    ),
  );
}
