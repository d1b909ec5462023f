/**
 * The merchant's side in the browser: /admin asks for the login, and a refund from the order list is made once
 * however often it is clicked, with the order and the shopper's receipt showing what came back.
 */
import { expect, test } from "@playwright/test";
import { eq } from "drizzle-orm";
import { refunds } from "../db/schema";
import { testMerchant } from "../testing/merchant";
import { providerAuth } from "../testing/provider-server";
import {
  attachScreenshot,
  closeE2eDatabase,
  e2eDatabase,
  expectChargedOnce,
  orderStatus,
  payButton,
  paymentRows,
  placeOrder,
  receipt,
  requiredEnv,
  signInAsMerchant,
} from "./checkout-support";

test.afterAll(() => closeE2eDatabase());

test("/admin asks for the merchant's login, refuses a wrong password, and opens with the right one", async ({
  page,
}, testInfo) => {
  await page.goto("/admin");
  await expect(page).toHaveURL(/\/admin\/login$/);
  await page.getByLabel("Email").fill(testMerchant.email);
  await page.getByLabel("Password").fill("not-the-password");
  await page.getByRole("button", { name: "Sign in" }).click();
  const refusal = page
    .getByRole("alert")
    .filter({ hasText: "That email and password do not match a merchant account." });
  await expect(refusal).toBeVisible();
  await attachScreenshot(page, testInfo, "refused");

  await page.getByLabel("Password").fill(testMerchant.password);
  await page.getByRole("button", { name: "Sign in" }).click();
  await expect(page).toHaveURL(/\/admin$/);
  await expect(page.getByTestId("merchant-email")).toHaveText(testMerchant.email);

  await page.getByRole("button", { name: "Sign out" }).click();
  await expect(page).toHaveURL(/\/admin\/login$/);
  await page.goto("/admin");
  await expect(page).toHaveURL(/\/admin\/login$/);
});

test("a double click on Refund refunds once; the order and the shopper's receipt show it", async ({
  browser,
}, testInfo) => {
  const shopperContext = await browser.newContext();
  const merchantContext = await browser.newContext();
  try {
    const shopper = await shopperContext.newPage();
    const orderId = await placeOrder(shopper);
    await payButton(shopper).click();
    await expect(receipt(shopper)).toBeVisible();
    const charge = await expectChargedOnce(shopper, orderId);

    const merchant = await merchantContext.newPage();
    await signInAsMerchant(merchant);
    const row = merchant.getByTestId(`merchant-order-${orderId}`);
    await expect(row.getByTestId("merchant-order-status")).toHaveText("Paid");
    const refundCalls: { idempotencyKey: string }[] = [];
    merchant.on("request", (request) => {
      if (new URL(request.url()).pathname === "/api/trpc/payments.refund") refundCalls.push(request.postDataJSON());
    });
    await row.getByRole("textbox", { name: "Amount to refund" }).fill("5.00");
    await row.getByRole("button", { name: "Refund" }).dblclick();
    await expect(row.getByRole("status")).toHaveText("Refunded $5.00.");
    await expect(row.getByTestId("merchant-order-status")).toHaveText("Partly refunded");
    await expect(row.getByTestId("merchant-order-refunded")).toHaveText("$5.00");
    await attachScreenshot(merchant, testInfo, "refunded");

    expect(refundCalls, "one refund request for one double click").toHaveLength(1);
    const [payment] = await paymentRows(orderId);
    const made = await e2eDatabase()
      .db.select()
      .from(refunds)
      .where(eq(refunds.paymentId, payment?.id ?? 0));
    expect(made).toHaveLength(1);
    expect(made[0]).toMatchObject({ amountCents: 500, status: "succeeded" });
    const atProvider = await fetch(`${requiredEnv("E2E_PROVIDER_URL")}/v1/refunds?limit=1000`, {
      headers: providerAuth,
    });
    const providerRefunds = (await atProvider.json()).data.filter(
      (refund: { chargeId: string }) => refund.chargeId === charge.id,
    );
    expect(providerRefunds).toHaveLength(1);
    expect(await orderStatus(orderId)).toBe("partially_refunded");

    await shopper.reload();
    await expect(shopper.getByTestId("order-status")).toHaveText("Partly refunded");
    await expect(shopper.getByTestId("receipt-refunded")).toHaveText("$5.00");
  } finally {
    await Promise.all([shopperContext.close(), merchantContext.close()]);
  }
});
