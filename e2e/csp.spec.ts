/**
 * The pages pass their own strict Content-Security-Policy: a nonce per response, no 'unsafe-inline' scripts, and
 * not one violation reported while shopping, paying and working in the merchant's admin.
 */
import { expect, type Page, test } from "@playwright/test";
import { closeE2eDatabase, payButton, placeOrder, receipt, signInAsMerchant } from "./checkout-support";

test.afterAll(() => closeE2eDatabase());

/** Collects every CSP violation the page reports, across navigations. */
async function recordViolations(page: Page): Promise<string[]> {
  const violations: string[] = [];
  await page.exposeFunction("reportCspViolation", (text: string) => violations.push(text));
  await page.addInitScript(() => {
    document.addEventListener("securitypolicyviolation", (event) => {
      const report = (window as unknown as { reportCspViolation: (text: string) => void }).reportCspViolation;
      report(`${event.violatedDirective} blocked ${event.blockedURI || "inline"} on ${location.pathname}`);
    });
  });
  page.on("console", (message) => {
    if (/Content Security Policy/i.test(message.text())) violations.push(message.text());
  });
  return violations;
}

test("every page carries a nonce-based policy and the shop, checkout and admin run without a violation", async ({
  page,
}) => {
  const violations = await recordViolations(page);
  const policies = new Map<string, string>();
  page.on("response", async (response) => {
    if (response.request().resourceType() === "document") {
      policies.set(new URL(response.url()).pathname, (await response.allHeaders())["content-security-policy"] ?? "");
    }
  });

  const orderId = await placeOrder(page);
  await payButton(page).click();
  await expect(receipt(page)).toBeVisible();
  // The shop moved to the order page in the browser; loading it afresh serves it as a document of its own.
  await page.reload();
  await expect(receipt(page)).toBeVisible();
  await signInAsMerchant(page);
  await expect(page.getByTestId(`merchant-order-${orderId}`)).toBeVisible();

  expect([...policies.keys()]).toEqual(expect.arrayContaining(["/", `/orders/${orderId}`, "/admin/login", "/admin"]));
  const nonces = new Set<string>();
  for (const [path, policy] of policies) {
    expect(policy, `the policy of ${path}`).toMatch(/script-src 'self' 'nonce-[A-Za-z0-9+/=]{16,}' 'strict-dynamic'/);
    expect(policy, `the policy of ${path}`).toContain("frame-ancestors 'none'");
    expect(policy, `the policy of ${path}`).not.toContain("unsafe-inline");
    nonces.add(/'nonce-([^']+)'/.exec(policy)?.[1] ?? "");
  }
  expect(nonces.size, "a fresh nonce for every page").toBe(policies.size);
  expect(violations).toEqual([]);
});
