import { expect, test } from "@playwright/test";

test("the storefront lists the seeded catalog with prices and categories", async ({ page }, testInfo) => {
  await page.goto("/");
  await expect(page.getByRole("heading", { name: "Fresh roasts and loose-leaf teas" })).toBeVisible();
  const cards = page.getByTestId("product-card");
  await expect(cards).toHaveCount(6);
  await expect(cards.filter({ hasText: "Yirgacheffe beans" }).getByTestId("product-price")).toHaveText("$14.50");
  await expect(cards.filter({ hasText: "Gooseneck kettle" }).getByRole("listitem")).toHaveText([
    "Brewing gear",
    "Coffee",
    "Tea",
  ]);
  await testInfo.attach("storefront", { body: await page.screenshot({ fullPage: true }), contentType: "image/png" });
});
