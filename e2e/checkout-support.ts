/**
 * Helpers for the checkout specs: driving the shop, recording the keyed calls the browser sends, and the judges
 * (the provider's own charge list and the app database).
 */
import { expect, type Locator, type Page, type TestInfo } from "@playwright/test";
import { eq } from "drizzle-orm";
import { type DatabaseHandle, openDatabase } from "../db/client";
import { orders, payments } from "../db/schema";
import { type TestCardNumber, testCards } from "../shop/test-cards";
import { testMerchant } from "../testing/merchant";
import { providerAuth } from "../testing/provider-server";

export const cards = {
  ok: "4242424242424242",
  declined: "4000000000000002",
  lostResponse: "4000000000000259",
} as const satisfies Record<string, TestCardNumber>;

export function requiredEnv(name: "E2E_DATABASE_URL" | "E2E_PROVIDER_URL" | "E2E_SECOND_URL" | "E2E_LAB_URL"): string {
  const value = process.env[name];
  if (!value) throw new Error(`${name} is not set: run through playwright.config.ts's global setup`);
  return value;
}

export { deferred } from "../testing/deferred";

export const payPath = "**/api/trpc/payments.pay";

interface PayBody {
  idempotencyKey: string;
  orderId: number;
  card: string;
}

/** Every orders.place and payments.pay the page sends (routed or not), and the pay answers' statuses. */
export function recordKeyedCalls(page: Page) {
  const calls = { place: [] as { idempotencyKey: string }[], pay: [] as PayBody[], payStatuses: [] as number[] };
  page.on("request", (request) => {
    if (request.method() !== "POST") return;
    const path = new URL(request.url()).pathname;
    if (path === "/api/trpc/orders.place") calls.place.push(request.postDataJSON());
    if (path === "/api/trpc/payments.pay") calls.pay.push(request.postDataJSON());
  });
  page.on("response", (response) => {
    if (new URL(response.url()).pathname === "/api/trpc/payments.pay") calls.payStatuses.push(response.status());
  });
  return calls;
}

const uuid = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

/** Asserts that there were `count` calls, all carrying one and the same key (a UUID), and returns that key. */
export function expectOneKey(calls: { idempotencyKey: string }[], count: number): string {
  expect(calls).toHaveLength(count);
  const key = calls[0]?.idempotencyKey ?? "";
  expect(key).toMatch(uuid);
  expect(calls.map((call) => call.idempotencyKey)).toEqual(calls.map(() => key));
  return key;
}

export function addToCartButton(page: Page, productName: string): Locator {
  return page.getByRole("button", { name: `Add to cart: ${productName}` });
}

/** Fills the cart on the storefront and places the order; returns the order id from the checkout page's URL. */
export async function placeOrder(page: Page, options: { baseUrl?: string; products?: string[] } = {}) {
  await page.goto(`${options.baseUrl ?? ""}/`);
  for (const name of options.products ?? ["Yirgacheffe beans"]) await addToCartButton(page, name).click();
  await page.getByRole("button", { name: "Place order" }).click();
  return checkoutOrderId(page);
}

export async function checkoutOrderId(page: Page): Promise<number> {
  await page.waitForURL(/\/orders\/\d+$/);
  await expect(payButton(page)).toBeVisible();
  return Number(new URL(page.url()).pathname.split("/").pop());
}

export const payButton = (page: Page) => page.getByRole("button", { name: /^Pay \$/ });
export const callStatus = (page: Page) => page.getByTestId("payment").getByRole("status");
export const payError = (page: Page) => page.getByTestId("payment").getByRole("alert");
export const receipt = (page: Page) => page.getByTestId("receipt");
export const replayedNote = (page: Page) => page.getByTestId("receipt-replayed");

export async function chooseCard(page: Page, card: TestCardNumber) {
  await page.getByRole("radio", { name: testCards[card].label }).check();
}

export async function attachScreenshot(page: Page, testInfo: TestInfo, name: string) {
  // From the top, so the sticky cart sits where a shopper sees it rather than where the last click scrolled to.
  await page.evaluate(() => window.scrollTo(0, 0));
  await testInfo.attach(name, { body: await page.screenshot({ fullPage: true }), contentType: "image/png" });
}

export interface ProviderCharge {
  id: string;
  status: "succeeded" | "declined";
  amountCents: number;
  cardLast4: string;
}

/** Every charge the provider holds for an order, straight from the provider. */
export async function providerCharges(orderId: number): Promise<ProviderCharge[]> {
  const response = await fetch(`${requiredEnv("E2E_PROVIDER_URL")}/v1/charges?reference=order-${orderId}`, {
    headers: providerAuth,
  });
  expect(response.status).toBe(200);
  return (await response.json()).data;
}

export const succeededCharges = async (orderId: number) =>
  (await providerCharges(orderId)).filter((charge) => charge.status === "succeeded");

let database: DatabaseHandle | undefined;

export function e2eDatabase(): DatabaseHandle {
  database ??= openDatabase(requiredEnv("E2E_DATABASE_URL"));
  return database;
}

export async function closeE2eDatabase() {
  await database?.close();
  database = undefined;
}

export async function paymentRows(orderId: number) {
  return e2eDatabase().db.select().from(payments).where(eq(payments.orderId, orderId));
}

export async function orderStatus(orderId: number) {
  const [order] = await e2eDatabase().db.select({ status: orders.status }).from(orders).where(eq(orders.id, orderId));
  return order?.status;
}

/**
 * The judge of every checkout test: the provider holds exactly one succeeded charge for the order, the database
 * exactly one succeeded payment recording that very charge, the order is paid, and the receipt shows that charge.
 */
export async function expectChargedOnce(page: Page, orderId: number) {
  const charges = await succeededCharges(orderId);
  expect(charges, "succeeded provider charges for the order").toHaveLength(1);
  const [charge] = charges as [ProviderCharge];
  const succeeded = (await paymentRows(orderId)).filter((payment) => payment.status === "succeeded");
  expect(succeeded, "succeeded payment rows for the order").toHaveLength(1);
  expect(succeeded[0]).toMatchObject({ providerChargeId: charge.id, amountCents: charge.amountCents });
  expect(await orderStatus(orderId)).toBe("paid");
  await expect(page.getByTestId("receipt-charge")).toHaveText(charge.id);
  return charge;
}

/** Signs the page's browser context in as the merchant through the login page, landing on /admin. */
export async function signInAsMerchant(page: Page, baseUrl = "") {
  await page.goto(`${baseUrl}/admin/login`);
  await page.getByLabel("Email").fill(testMerchant.email);
  await page.getByLabel("Password").fill(testMerchant.password);
  await page.getByRole("button", { name: "Sign in" }).click();
  await page.waitForURL(/\/admin$/);
}
