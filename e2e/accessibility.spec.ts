/**
 * Every trainee can use the shop and the lab: each page passes axe's WCAG 2.1 A and AA rules, on the states a
 * trainee meets (the storefront, checkout, the receipt, the lab with a scenario's result, the merchant's pages).
 */
import AxeBuilder from "@axe-core/playwright";
import { expect, type Page, test } from "@playwright/test";
import { payButton, placeOrder, receipt, signInAsMerchant } from "./checkout-support";

async function expectNoViolations(page: Page, where: string) {
  const { violations } = await new AxeBuilder({ page })
    .withTags(["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"])
    .analyze();
  const found = violations.map(
    (violation) =>
      `${violation.impact} ${violation.id}: ${violation.help} (${violation.nodes.map((node) => node.target.join(" ")).join("; ")})`,
  );
  expect(found, `axe on ${where}`).toEqual([]);
}

test("the storefront, checkout and receipt pass WCAG 2.1 AA", async ({ page }) => {
  await page.goto("/");
  await expect(page.getByRole("heading", { level: 1 })).toBeVisible();
  await expectNoViolations(page, "the storefront");
  await placeOrder(page);
  await expectNoViolations(page, "checkout");
  await payButton(page).click();
  await expect(receipt(page)).toBeVisible();
  await expectNoViolations(page, "the receipt");
});

test("the lab passes WCAG 2.1 AA, with a scenario's result and the timeline filled", async ({ page }) => {
  await page.goto("/lab");
  await expect(page.getByRole("heading", { name: "Scenarios" })).toBeVisible();
  const scenario = page.locator('[data-scenario="lost-response"]');
  await scenario.getByRole("button", { name: "Run both ways" }).click();
  await expect(scenario.locator('tr[data-side="protected"]')).toBeVisible();
  await expect(page.locator(".lab-timeline tbody tr")).not.toHaveCount(0);
  await page.getByRole("button", { name: "Look up" }).click();
  await expect(page.getByTestId("key-record")).toBeVisible();
  await expectNoViolations(page, "the lab");
});

test("the merchant's login and order list pass WCAG 2.1 AA", async ({ page }) => {
  await page.goto("/admin/login");
  await expectNoViolations(page, "the merchant's login");
  await signInAsMerchant(page);
  await page.goto("/admin");
  await expectNoViolations(page, "the merchant's admin");
});
