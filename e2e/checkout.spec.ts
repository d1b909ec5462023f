/**
 * The checkout in the browser against production servers, the simulated provider and the app database: every way
 * a payment can be sent twice or lost (double clicks, lost requests and answers, offline, reloads, a duplicated
 * tab, another server, a crashed server) ends with exactly one succeeded charge, as the provider itself reports.
 * Requests are held at gates the tests open, so the states in between are asserted without sleeps.
 */
import { execFile } from "node:child_process";
import { once } from "node:events";
import { promisify } from "node:util";
import { expect, type Locator, type Route, test } from "@playwright/test";
import { e2eCrashPort } from "../playwright.config";
import { testCards } from "../shop/test-cards";
import { type AppServer, startLabServer, testSessionSecret } from "../testing/app-server";
import {
  addToCartButton,
  attachScreenshot,
  callStatus,
  cards,
  checkoutOrderId,
  chooseCard,
  closeE2eDatabase,
  deferred,
  expectChargedOnce,
  expectOneKey,
  orderStatus,
  payButton,
  payError,
  paymentRows,
  payPath,
  placeOrder,
  providerCharges,
  receipt,
  recordKeyedCalls,
  replayedNote,
  requiredEnv,
  succeededCharges,
} from "./checkout-support";

test.afterAll(closeE2eDatabase);

const doubleClicks: [string, (button: Locator) => Promise<void>][] = [
  [
    "two clicks in one task",
    (button) =>
      button.evaluate((element: HTMLButtonElement) => {
        element.click();
        element.click();
      }),
  ],
  ["dblclick()", (button) => button.dblclick()],
];

for (const [label, doubleClick] of doubleClicks) {
  test(`a double click on "Place order" and on "Pay" (${label}) places one order and charges once`, async ({
    page,
  }, testInfo) => {
    const calls = recordKeyedCalls(page);
    await page.goto("/");
    await addToCartButton(page, "Yirgacheffe beans").click();
    await addToCartButton(page, "Yirgacheffe beans").click();
    await addToCartButton(page, "Gooseneck kettle").click();
    await expect(page.getByTestId("cart-total")).toHaveText("$78.00");
    await attachScreenshot(page, testInfo, "cart");
    const place = page.getByRole("button", { name: "Place order" });
    await expect(place).toBeEnabled();
    await doubleClick(place);
    const orderId = await checkoutOrderId(page);
    expectOneKey(calls.place, 1);
    await expect(page.getByTestId("order-total")).toHaveText("$78.00");
    for (const { label } of Object.values(testCards))
      await expect(page.getByRole("radio", { name: label })).toBeVisible();
    await expect(page.getByRole("radio", { name: testCards[cards.ok].label })).toBeChecked();
    await attachScreenshot(page, testInfo, "checkout");

    await doubleClick(payButton(page));
    await expect(receipt(page)).toBeVisible();
    await expect(page.getByTestId("receipt-amount")).toHaveText("$78.00");
    await expect(page.getByTestId("receipt-card")).toHaveText("•••• 4242");
    await expect(replayedNote(page)).toHaveCount(0);
    expectOneKey(calls.pay, 1);
    await attachScreenshot(page, testInfo, "receipt");
    const charge = await expectChargedOnce(page, orderId);
    expect(charge.amountCents).toBe(7800);
  });
}

test("an answer lost after the server charged: the retry replays the receipt, one charge", async ({
  page,
}, testInfo) => {
  const calls = recordKeyedCalls(page);
  const orderId = await placeOrder(page);
  const retryGate = deferred();
  let hits = 0;
  // Persistent and counted: `{ times: 1 }` with abort can hang Chromium's next request.
  await page.route(payPath, async (route) => {
    hits += 1;
    if (hits === 1) {
      await route.fetch();
      await route.abort("connectionreset");
      return;
    }
    await retryGate.promise;
    await route.continue();
  });

  await payButton(page).click();
  await expect(callStatus(page)).toHaveText("Retrying (attempt 2)…");
  expect(await succeededCharges(orderId), "the lost attempt did charge").toHaveLength(1);
  await attachScreenshot(page, testInfo, "checkout retrying");
  retryGate.resolve();

  await expect(receipt(page)).toBeVisible();
  await expect(replayedNote(page)).toHaveText(
    "Replayed: this answer came from your earlier attempt — you were charged once.",
  );
  await attachScreenshot(page, testInfo, "receipt");
  expectOneKey(calls.pay, 2);
  await expectChargedOnce(page, orderId);
});

test("a request lost before it reached the server: the retry pays, one charge, no replay", async ({
  page,
}, testInfo) => {
  const calls = recordKeyedCalls(page);
  const orderId = await placeOrder(page);
  const retryGate = deferred();
  let hits = 0;
  await page.route(payPath, async (route) => {
    hits += 1;
    if (hits === 1) {
      await route.abort("connectionfailed");
      return;
    }
    await retryGate.promise;
    await route.continue();
  });

  await payButton(page).click();
  await expect(callStatus(page)).toHaveText("Retrying (attempt 2)…");
  expect(await providerCharges(orderId), "nothing reached the server").toHaveLength(0);
  await attachScreenshot(page, testInfo, "checkout retrying");
  retryGate.resolve();

  await expect(receipt(page)).toBeVisible();
  await expect(replayedNote(page)).toHaveCount(0);
  await attachScreenshot(page, testInfo, "receipt");
  expectOneKey(calls.pay, 2);
  await expectChargedOnce(page, orderId);
});

test("offline then online: the payment waits, then goes once", async ({ page, context }, testInfo) => {
  const calls = recordKeyedCalls(page);
  const orderId = await placeOrder(page);

  await context.setOffline(true);
  await payButton(page).click();
  await expect(callStatus(page)).toHaveText("You are offline; your payment will be sent when you are back online.");
  await expect(payButton(page)).toBeDisabled();
  await attachScreenshot(page, testInfo, "checkout offline");
  expect(calls.pay, "nothing is sent while offline").toHaveLength(0);

  await context.setOffline(false);
  await expect(receipt(page)).toBeVisible();
  await attachScreenshot(page, testInfo, "receipt");
  expectOneKey(calls.pay, 1);
  await expectChargedOnce(page, orderId);
});

test("reload while the payment is being sent: the page resumes with the same key, one charge", async ({
  page,
}, testInfo) => {
  const calls = recordKeyedCalls(page);
  const orderId = await placeOrder(page);
  const sending = deferred<Route>();
  const resumeGate = deferred();
  let hits = 0;
  await page.route(payPath, async (route) => {
    hits += 1;
    // The first attempt is never answered: the shopper reloads while it is still on its way.
    if (hits === 1) return sending.resolve(route);
    await resumeGate.promise;
    await route.continue();
  });

  await payButton(page).click();
  const original = (await sending.promise).request();
  const intent = await page.evaluate((id) => sessionStorage.getItem(`eoc:intent:pay:${id}`), orderId);
  expect(JSON.parse(intent ?? "null")).toEqual({
    key: original.postDataJSON().idempotencyKey,
    content: "4242",
    settled: false,
  });
  expect(intent, "only the last four digits are stored").not.toContain(cards.ok);

  await page.reload();
  await expect(callStatus(page)).toHaveText("Resuming your payment…");
  await attachScreenshot(page, testInfo, "checkout resuming");
  resumeGate.resolve();
  await expect(receipt(page)).toBeVisible();
  await attachScreenshot(page, testInfo, "receipt");
  expect(expectOneKey(calls.pay, 2)).toBe(original.postDataJSON().idempotencyKey);
  expect(await page.evaluate((id) => sessionStorage.getItem(`eoc:intent:pay:${id}`), orderId)).toBeNull();

  // The abandoned original still arrives, late: the server answers it from the stored result.
  const late = await page.request.post(original.url(), { data: original.postDataJSON() });
  expect(late.status()).toBe(200);
  expect(late.headers()["idempotent-replayed"]).toBe("true");
  const charge = await expectChargedOnce(page, orderId);
  expect((await late.json()).result.data.payment.providerChargeId).toBe(charge.id);
});

test("reload after the server charged but before the answer arrived: the receipt, nothing sent again", async ({
  page,
}, testInfo) => {
  const calls = recordKeyedCalls(page);
  const orderId = await placeOrder(page);
  const charged = deferred();
  await page.route(payPath, async (route) => {
    // The server finishes; its answer is still on the way when the shopper reloads.
    await route.fetch();
    charged.resolve();
  });

  await payButton(page).click();
  await charged.promise;
  await page.reload();
  await expect(receipt(page)).toBeVisible();
  await expect(page.getByTestId("order-status")).toHaveText("Paid");
  await attachScreenshot(page, testInfo, "receipt");
  expectOneKey(calls.pay, 1);
  expect(await page.evaluate((id) => sessionStorage.getItem(`eoc:intent:pay:${id}`), orderId)).toBeNull();
  await expectChargedOnce(page, orderId);
});

test("two tabs with one key (a duplicated tab): both end on the receipt, one charge", async ({
  page,
  context,
}, testInfo) => {
  const orderId = await placeOrder(page);
  const held: Route[] = [];
  const bothHeld = deferred();
  // Both tabs' first attempts are held, then released together, so they reach the server at the same time.
  await context.route(payPath, async (route) => {
    if (held.length >= 2) return route.continue();
    held.push(route);
    if (held.length === 2) bothHeld.resolve();
  });

  await payButton(page).click();
  await expect.poll(() => held.length).toBe(1);
  // A duplicated tab starts with a copy of the original's sessionStorage, the pay intent included.
  const storage = await page.evaluate(() => Object.entries(sessionStorage));
  const duplicate = await context.newPage();
  await duplicate.addInitScript((entries) => {
    if (sessionStorage.getItem("e2e:duplicated")) return;
    for (const [name, value] of entries) sessionStorage.setItem(name, value);
    sessionStorage.setItem("e2e:duplicated", "yes");
  }, storage);
  await duplicate.goto(`/orders/${orderId}`);
  await expect(callStatus(duplicate)).toHaveText("Resuming your payment…");
  await bothHeld.promise;
  expectOneKey(
    held.map((route) => route.request().postDataJSON()),
    2,
  );

  await Promise.all(held.map((route) => route.continue()));
  for (const tab of [page, duplicate]) await expect(receipt(tab)).toBeVisible();
  await attachScreenshot(page, testInfo, "receipt, first tab");
  await attachScreenshot(duplicate, testInfo, "receipt, duplicated tab");
  const replayedTabs = (await replayedNote(page).count()) + (await replayedNote(duplicate).count());
  expect(replayedTabs, "one tab paid, the other got the replay").toBe(1);
  await expectChargedOnce(page, orderId);
  await expectChargedOnce(duplicate, orderId);
});

test("a declined card: paying again with it replays the decline, another card pays once", async ({
  page,
}, testInfo) => {
  const calls = recordKeyedCalls(page);
  const orderId = await placeOrder(page);
  await chooseCard(page, cards.declined);
  await payButton(page).click();
  await expect(payError(page)).toContainText(
    "Your card was declined (generic_decline). Nothing was charged: try another card.",
  );
  await expect(payError(page)).not.toContainText("earlier attempt");

  const replay = page.waitForResponse((response) => response.url().endsWith("/api/trpc/payments.pay"));
  await payButton(page).click();
  expect((await replay).headers()["idempotent-replayed"]).toBe("true");
  await expect(payError(page)).toContainText(
    "This is the answer to your earlier attempt with this card: it was not charged again.",
  );
  await expect(payError(page)).toContainText("Your card was declined (generic_decline).");
  await attachScreenshot(page, testInfo, "checkout declined");
  const declinedKey = expectOneKey(calls.pay, 2);
  expect(calls.payStatuses).toEqual([402, 402]);
  const afterDeclines = await providerCharges(orderId);
  expect(
    afterDeclines.map((charge) => charge.status),
    "the bank was asked once",
  ).toEqual(["declined"]);

  await chooseCard(page, cards.ok);
  await expect(payError(page)).toHaveCount(0);
  await payButton(page).click();
  await expect(receipt(page)).toBeVisible();
  await attachScreenshot(page, testInfo, "receipt");
  expect(calls.pay).toHaveLength(3);
  expect(calls.pay[2]?.idempotencyKey).not.toBe(declinedKey);
  await expectChargedOnce(page, orderId);
  expect((await providerCharges(orderId)).map((charge) => charge.status).sort()).toEqual(["declined", "succeeded"]);
});

test("the charge-then-timeout card: the retry finds the charge instead of making another", async ({
  page,
}, testInfo) => {
  const calls = recordKeyedCalls(page);
  const orderId = await placeOrder(page);
  const retryGate = deferred();
  let hits = 0;
  await page.route(payPath, async (route) => {
    hits += 1;
    if (hits > 1) await retryGate.promise;
    await route.continue();
  });

  await chooseCard(page, cards.lostResponse);
  await payButton(page).click();
  await expect(callStatus(page)).toHaveText("Retrying (attempt 2)…");
  expect(calls.payStatuses, "the provider's answer was lost").toEqual([504]);
  expect(await succeededCharges(orderId), "but the card was charged").toHaveLength(1);
  await attachScreenshot(page, testInfo, "checkout retrying");
  retryGate.resolve();

  await expect(receipt(page)).toBeVisible();
  await expect(page.getByTestId("receipt-card")).toHaveText("•••• 0259");
  await attachScreenshot(page, testInfo, "receipt");
  expect(calls.payStatuses).toEqual([504, 200]);
  expectOneKey(calls.pay, 2);
  await expectChargedOnce(page, orderId);
});

test("a retry answered by a second server: the same key replays there, one charge", async ({ page }, testInfo) => {
  const calls = recordKeyedCalls(page);
  const orderId = await placeOrder(page);
  const secondUrl = requiredEnv("E2E_SECOND_URL");
  const servedBySecond: (string | undefined)[] = [];
  let hits = 0;
  await page.route(payPath, async (route) => {
    hits += 1;
    if (hits === 1) {
      await route.fetch();
      await route.abort("connectionreset");
      return;
    }
    const { pathname, search } = new URL(route.request().url());
    const response = await route.fetch({ url: `${secondUrl}${pathname}${search}` });
    servedBySecond.push(response.headers()["idempotent-replayed"]);
    await route.fulfill({ response });
  });

  await payButton(page).click();
  await expect(receipt(page)).toBeVisible();
  await expect(replayedNote(page)).toBeVisible();
  await attachScreenshot(page, testInfo, "receipt");
  expect(servedBySecond, "the second server replayed the first one's result").toEqual(["true"]);
  expectOneKey(calls.pay, 2);
  await expectChargedOnce(page, orderId);
});

test('every automatic retry spent: "Try again" sends the same key and pays once', async ({ page }, testInfo) => {
  const calls = recordKeyedCalls(page);
  const orderId = await placeOrder(page);
  const unreachableAttempts = 6;
  let hits = 0;
  await page.route(payPath, async (route) => {
    hits += 1;
    if (hits <= unreachableAttempts) return route.abort("connectionfailed");
    await route.continue();
  });

  await payButton(page).click();
  await expect(callStatus(page)).toHaveText("Retrying (attempt 6)…", { timeout: 15_000 });
  await expect(payError(page)).toContainText(
    "We tried 6 times. We could not reach the shop. Check your connection. “Try again” sends the same payment, so you are never charged twice.",
    { timeout: 15_000 },
  );
  await attachScreenshot(page, testInfo, "checkout retries spent");
  expectOneKey(calls.pay, unreachableAttempts);
  expect(await providerCharges(orderId)).toHaveLength(0);

  await payError(page).getByRole("button", { name: "Try again" }).click();
  await expect(receipt(page)).toBeVisible();
  await attachScreenshot(page, testInfo, "receipt");
  expectOneKey(calls.pay, unreachableAttempts + 1);
  await expectChargedOnce(page, orderId);
});

test("a server crash after charging: restart, the completer finishes, the retry shows the receipt", async ({
  page,
}, testInfo) => {
  test.setTimeout(120_000);
  const env = {
    DATABASE_URL: requiredEnv("E2E_DATABASE_URL"),
    PAYMENT_PROVIDER_URL: requiredEnv("E2E_PROVIDER_URL"),
    SESSION_SECRET: testSessionSecret,
    IDEMPOTENCY_LEASE_MS: "1500",
  };
  let server: AppServer = await startLabServer({ port: e2eCrashPort, env });
  try {
    const orderId = await placeOrder(page, { baseUrl: server.url });
    await attachScreenshot(page, testInfo, "checkout");
    const retryGate = deferred();
    let hits = 0;
    await page.route(payPath, async (route) => {
      hits += 1;
      if (hits === 1) {
        const headers = {
          ...(await route.request().allHeaders()),
          "x-fault": "crash:charge_attempted",
        };
        return route.continue({ headers });
      }
      // Retries wait until the completer has run, so it is the completer that finishes this payment.
      await retryGate.promise;
      await route.continue();
    });

    const exited = once(server.process, "exit");
    await payButton(page).click();
    const [, signal] = await exited;
    expect(signal, "the server died at charge_attempted").toBe("SIGKILL");
    await expect(callStatus(page)).toHaveText("Retrying (attempt 2)…");
    expect(await succeededCharges(orderId), "the provider charged before the crash").toHaveLength(1);
    const [pending, ...others] = await paymentRows(orderId);
    expect(others).toHaveLength(0);
    expect(pending?.status).toBe("pending");
    expect(await orderStatus(orderId)).toBe("paying");

    server = await startLabServer({ port: e2eCrashPort, env });
    const completer = () =>
      promisify(execFile)("node_modules/.bin/tsx", ["scripts/completer.ts"], {
        env: {
          ...process.env,
          DATABASE_URL: env.DATABASE_URL,
          SESSION_SECRET: env.SESSION_SECRET,
          PAYMENT_PROVIDER_URL: env.PAYMENT_PROVIDER_URL,
          IDEMPOTENCY_LEASE_MS: env.IDEMPOTENCY_LEASE_MS,
        },
      }).then(({ stdout }) => stdout);
    // Until the dead server's lease runs out the completer reports the payment as still held.
    await expect.poll(completer, { timeout: 30_000, intervals: [500] }).toContain(`payment ${pending?.id}: finished`);
    expect((await paymentRows(orderId))[0]?.status).toBe("succeeded");
    expect(await orderStatus(orderId)).toBe("paid");

    retryGate.resolve();
    await expect(receipt(page)).toBeVisible();
    await expect(replayedNote(page)).toBeVisible();
    await attachScreenshot(page, testInfo, "receipt");
    await expectChargedOnce(page, orderId);
  } finally {
    await server.stop();
  }
});
