/**
 * The catalog admin in the browser: two admins racing on one rename, and double clicks on "Link".
 * The e2e database is shared with the other specs, so these tests edit only products 3 and 4 (the storefront
 * spec checks products 1 and 6) and read the state they start from instead of assuming a pristine catalog.
 */
import { expect, type Locator, type Page, test } from "@playwright/test";
import { and, eq } from "drizzle-orm";
import { type DatabaseHandle, openDatabase } from "../db/client";
import { categories, productCategories, products } from "../db/schema";
import { signInAsMerchant } from "./checkout-support";

const senchaId = 3;
const assamId = 4;

let database: DatabaseHandle;

test.beforeAll(() => {
  const url = process.env.E2E_DATABASE_URL;
  if (!url) throw new Error("E2E_DATABASE_URL is not set: run through playwright.config.ts's global setup");
  database = openDatabase(url);
});

test.afterAll(() => database.close());

async function productInDatabase(productId: number) {
  const [row] = await database.db
    .select({ name: products.name, version: products.version })
    .from(products)
    .where(eq(products.id, productId));
  if (!row) throw new Error(`product ${productId} is missing`);
  return row;
}

function productRow(page: Page, productId: number): Locator {
  return page.getByTestId(`product-${productId}`);
}

async function expectRowShows(page: Page, productId: number, product: { name: string; version: number }) {
  const row = productRow(page, productId);
  await expect(row.getByRole("textbox", { name: `Name of product ${productId}` })).toHaveValue(product.name);
  await expect(row.getByTestId("product-version")).toHaveText(`v${product.version}`);
}

for (const choice of ["Keep mine", "Use theirs"] as const) {
  test(`two admins rename one product; the second sees the conflict and chooses "${choice}"`, async ({
    browser,
  }, testInfo) => {
    const start = await productInDatabase(assamId);
    const suffix = Date.now().toString(36);
    const firstName = `Assam breakfast, first admin ${suffix}`;
    const secondName = `Assam breakfast, second admin ${suffix}`;
    const first = await browser.newContext();
    const second = await browser.newContext();
    try {
      const firstPage = await first.newPage();
      const secondPage = await second.newPage();
      await Promise.all([signInAsMerchant(firstPage), signInAsMerchant(secondPage)]);
      await expectRowShows(firstPage, assamId, start);
      await expectRowShows(secondPage, assamId, start);

      const firstRow = productRow(firstPage, assamId);
      await firstRow.getByRole("textbox").fill(firstName);
      await firstRow.getByRole("button", { name: "Save" }).click();
      await expectRowShows(firstPage, assamId, { name: firstName, version: start.version + 1 });

      const secondRow = productRow(secondPage, assamId);
      await secondRow.getByRole("textbox").fill(secondName);
      await secondRow.getByRole("button", { name: "Save" }).click();
      const dialog = secondPage.getByRole("dialog", { name: "Someone else renamed this product" });
      await expect(dialog).toBeVisible();
      await expect(dialog.getByTestId("conflict-theirs")).toHaveText(firstName);
      await expect(dialog.getByTestId("conflict-mine")).toHaveText(secondName);
      await expect(dialog).toContainText(`Theirs · version ${start.version + 1}`);
      await testInfo.attach("conflict dialog", { body: await secondPage.screenshot(), contentType: "image/png" });
      await dialog.getByRole("button", { name: choice }).click();
      await expect(dialog).toBeHidden();

      const expected =
        choice === "Keep mine"
          ? { name: secondName, version: start.version + 2 }
          : { name: firstName, version: start.version + 1 };
      await expectRowShows(secondPage, assamId, expected);
      expect(await productInDatabase(assamId)).toEqual(expected);
      await expect(secondRow.getByRole("alert")).toHaveCount(0);

      for (const page of [firstPage, secondPage]) {
        await page.reload();
        await expectRowShows(page, assamId, expected);
      }
    } finally {
      await Promise.all([first.close(), second.close()]);
    }
  });
}

const doubleClicks: [string, (button: Locator) => Promise<void>][] = [
  ["dblclick()", (button) => button.dblclick()],
  // Slow enough that the first link has usually landed and the button reads "Unlink" for the second click.
  ["a slow double click", (button) => button.click({ clickCount: 2, delay: 200 })],
  [
    "two clicks in one task",
    (button) =>
      button.evaluate((element: HTMLButtonElement) => {
        element.click();
        element.click();
      }),
  ],
];

for (const [label, doubleClick] of doubleClicks) {
  test(`a double click on "Link" (${label}) sends one link and leaves one row`, async ({ page }, testInfo) => {
    const [brewing] = await database.db
      .select({ id: categories.id })
      .from(categories)
      .where(eq(categories.slug, "brewing"));
    if (!brewing) throw new Error("the brewing category is missing");
    const link = and(eq(productCategories.productId, senchaId), eq(productCategories.categoryId, brewing.id));
    await database.db.delete(productCategories).where(link);

    const catalogWrites: string[] = [];
    page.on("request", (request) => {
      const path = new URL(request.url()).pathname;
      if (request.method() === "POST" && path.startsWith("/api/trpc/catalog.")) catalogWrites.push(path);
    });
    await signInAsMerchant(page);
    const row = productRow(page, senchaId);

    await doubleClick(row.getByRole("button", { name: "Link Brewing gear" }));
    await expect(row.getByRole("button", { name: "Unlink Brewing gear" })).toBeEnabled();
    expect(catalogWrites).toEqual(["/api/trpc/catalog.link"]);
    expect(await database.db.select().from(productCategories).where(link)).toHaveLength(1);
    await testInfo.attach("admin", { body: await page.screenshot({ fullPage: true }), contentType: "image/png" });

    await page.reload();
    await expect(productRow(page, senchaId).getByRole("button", { name: "Unlink Brewing gear" })).toBeVisible();
  });
}
