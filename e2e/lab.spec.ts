/**
 * The training lab, as a trainer runs it on the lab's own server: every scenario both ways on one click, the
 * numbers asserted (unprotected shows the duplicate, protected exactly one order), each side drawn as a sequence
 * diagram with the step where the guarantee acted marked, the timeline and the key inspector showing it.
 */
import { expect, type Page, type TestInfo, test } from "@playwright/test";
import { e2eCrashPort } from "../playwright.config";
import { type AppServer, startLabServer } from "../testing/app-server";
import { requiredEnv } from "./checkout-support";

/** The shop's /lab sends the trainee to the lab's own server. */
async function openLab(page: Page) {
  await page.goto("/lab");
  await expect(page).toHaveURL(`${requiredEnv("E2E_LAB_URL")}/lab`);
  await expect(page.getByRole("heading", { name: "Scenarios" })).toBeVisible();
}

/** The step the protected side's diagram marks as where the guarantee acted. */
function markedStep(page: Page, scenarioId: string, mark: string) {
  return page.locator(`[data-scenario="${scenarioId}"] figure[data-side="protected"] [data-mark="${mark}"]`);
}

async function runBothWays(page: Page, scenarioId: string, timeout = 20_000) {
  const scenario = page.locator(`[data-scenario="${scenarioId}"]`);
  await scenario.getByRole("button", { name: "Run both ways" }).click();
  const created = (side: string) => scenario.locator(`tr[data-side="${side}"] [data-testid="orders-created"]`);
  await expect(created("protected")).toBeVisible({ timeout });
  const charges = (side: string) => scenario.locator(`tr[data-side="${side}"] [data-testid="charges"]`);
  return {
    unprotectedCharges: Number(await charges("unprotected").textContent()),
    protectedCharges: Number(await charges("protected").textContent()),
    unprotected: Number(await created("unprotected").textContent()),
    protected: Number(await created("protected").textContent()),
    answers: (side: string) => scenario.locator(`tr[data-side="${side}"] [data-testid="answers"]`),
    processes: (side: string) => scenario.locator(`tr[data-side="${side}"] [data-testid="processes"]`),
  };
}

/** The scenario's card and its diagrams as the trainer sees them after the run, for `npx playwright show-report`. */
async function attachResult(page: Page, testInfo: TestInfo, scenarioId: string) {
  const card = page.locator(`[data-scenario="${scenarioId}"]`);
  await testInfo.attach(`${scenarioId} result`, { body: await card.screenshot(), contentType: "image/png" });
  const diagrams = card.locator(".lab-diagrams");
  if ((await diagrams.count()) > 0) {
    await testInfo.attach(`${scenarioId} diagram`, { body: await diagrams.screenshot(), contentType: "image/png" });
  }
}

const expected: Record<string, { unprotected: number; protected: number; protectedAnswers: RegExp; marks: string[] }> =
  {
    "double-click": {
      unprotected: 2,
      protected: 1,
      protectedAnswers: /200.*200 \(replayed\)|200 \(replayed\).*200/,
      marks: ["replayed"],
    },
    "lost-response": {
      unprotected: 2,
      protected: 1,
      protectedAnswers: /^no answer, 200 \(replayed\)$/,
      marks: ["replayed"],
    },
    "lost-request": { unprotected: 1, protected: 1, protectedAnswers: /^no answer, 200$/, marks: [] },
    "slow-first": {
      unprotected: 2,
      protected: 1,
      protectedAnswers: /^409, 200, 200 \(replayed\)$/,
      marks: ["waited-then-409", "replayed"],
    },
    "key-reuse": { unprotected: 2, protected: 1, protectedAnswers: /^200, 422$/, marks: ["key-reused-422"] },
  };

for (const [scenarioId, numbers] of Object.entries(expected)) {
  test(`lab scenario ${scenarioId}: the unprotected twin shows the failure, the shop's path holds`, async ({
    page,
  }, testInfo) => {
    await openLab(page);
    const result = await runBothWays(page, scenarioId);
    expect(result.unprotected, "orders the unprotected twin placed").toBe(numbers.unprotected);
    expect(result.protected, "orders the shop placed under the run's key").toBe(numbers.protected);
    await expect(result.answers("protected")).toHaveText(numbers.protectedAnswers);
    for (const mark of numbers.marks) await expect(markedStep(page, scenarioId, mark).first()).toBeVisible();
    // The unprotected twin has no key store to act: nothing is marked on its side.
    const card = page.locator(`[data-scenario="${scenarioId}"]`);
    await expect(card.locator('figure[data-side="unprotected"] [data-mark]')).toHaveCount(0);
    await attachResult(page, testInfo, scenarioId);
  });
}

test("lab scenario provider-answer-lost: the keyless twin is charged twice, the shop's payment once", async ({
  page,
}, testInfo) => {
  await openLab(page);
  const result = await runBothWays(page, "provider-answer-lost");
  expect(result.unprotectedCharges, "charges the twin's provider made").toBe(2);
  expect(result.protectedCharges, "charges the real provider made for the payment").toBe(1);
  await expect(result.answers("unprotected")).toHaveText(/^200, 504, 200$/);
  await expect(result.answers("protected")).toHaveText(/^200, 504, 200$/);
  await attachResult(page, testInfo, "provider-answer-lost");
});

test("lab scenario two-keys-one-order: two tabs pay one order with their own keys; the twin charges twice, the shop once", async ({
  page,
}, testInfo) => {
  await openLab(page);
  const result = await runBothWays(page, "two-keys-one-order");
  expect(result.unprotectedCharges, "charges the twin's provider made").toBe(2);
  expect(result.protectedCharges, "charges the real provider made for the order").toBe(1);
  await expect(result.answers("protected")).toHaveText(/^200, (200, 409|409, 200)$/);
  await attachResult(page, testInfo, "two-keys-one-order");
});

test("lab scenario 9b: each pattern both ways, the lost update, the duplicate link and the stuck claim on the unprotected side only", async ({
  page,
}, testInfo) => {
  await openLab(page);
  const card = page.locator('[data-scenario="patterns"]');
  await card.getByRole("button", { name: "Run both ways" }).click();
  const figure = (pattern: string, side: string) =>
    card.locator(`tr[data-pattern="${pattern}"] [data-testid="${side}-figure"]`);
  await expect(figure("versioned-update", "unprotected")).toHaveText(/\(second editor\)$/, { timeout: 20_000 });
  await expect(figure("versioned-update", "protected")).toHaveText(/\(first editor\)$/);
  await expect(figure("upsert-link", "unprotected")).toHaveText("2");
  await expect(figure("upsert-link", "protected")).toHaveText("1");
  await expect(figure("redis-lease", "unprotected")).toHaveText("0");
  await expect(figure("redis-lease", "protected")).toHaveText("1");
  await expect(figure("redis-down", "unprotected")).toHaveText("2");
  await expect(figure("redis-down", "protected")).toHaveText("0");
  await attachResult(page, testInfo, "patterns");
});

test.describe("on a lab server of two processes, as `npm run demo` serves the lab", () => {
  let server: AppServer;
  test.beforeAll(async () => {
    server = await startLabServer({
      port: e2eCrashPort + 1,
      processes: 2,
      env: {
        DATABASE_URL: requiredEnv("E2E_DATABASE_URL"),
        PAYMENT_PROVIDER_URL: requiredEnv("E2E_PROVIDER_URL"),
        // A killed attempt's lease runs out in seconds here, instead of the default 30.
        IDEMPOTENCY_LEASE_MS: "3000",
      },
    });
  });
  test.afterAll(() => server?.stop());

  test("lab scenario other-process: a retry on another server process replays; the twin places one order per retry", async ({
    page,
  }, testInfo) => {
    test.setTimeout(90_000);
    await page.goto(`${server.url}/lab`);
    await expect(page.getByRole("heading", { name: "Scenarios" })).toBeVisible();
    const result = await runBothWays(page, "other-process");
    expect(result.protected, "orders the shop placed under the run's key").toBe(1);
    expect(result.unprotected, "orders the twin placed: the first and each retry").toBeGreaterThanOrEqual(2);
    await expect(result.answers("protected")).toHaveText(/^no answer(, 200 \(replayed\))+$/);
    const processes = ((await result.processes("protected").textContent()) ?? "").split(", ");
    expect(new Set(processes).size, "the retry was answered by another process").toBe(2);
    await attachResult(page, testInfo, "other-process");
  });

  test("lab scenario crash: a process killed after the charge; the twin charges again, the shop's retry resumes and finds the charge", async ({
    page,
  }, testInfo) => {
    test.setTimeout(90_000);
    await page.goto(`${server.url}/lab`);
    await expect(page.getByRole("heading", { name: "Scenarios" })).toBeVisible();
    const result = await runBothWays(page, "crash", 60_000);
    expect(result.unprotectedCharges, "charges the twin's provider made").toBe(2);
    expect(result.protectedCharges, "charges the real provider made for the payment").toBe(1);
    await expect(result.answers("unprotected")).toHaveText(/^200, no answer, 200$/);
    // The order, the killed attempt, no answer while no process is up, 409s while its lease runs, then the
    // resumed payment.
    await expect(result.answers("protected")).toHaveText(/^200, no answer(, no answer)*(, 409)*, 200$/);
    const timeline = page.locator(".lab-timeline tbody");
    await expect(timeline.locator("tr", { hasText: "process killed at charge_attempted" })).toHaveCount(2);
    await expect(markedStep(page, "crash", "resumed")).toBeVisible();
    await expect(markedStep(page, "crash", "resumed")).toContainText("charge_attempted");
    await attachResult(page, testInfo, "crash");
  });
});

test("the timeline shows each attempt live, with the process that served it, and the inspector shows the key", async ({
  page,
}) => {
  await openLab(page);
  await runBothWays(page, "lost-response");
  const timeline = page.locator(".lab-timeline tbody");
  await expect(timeline.locator('tr[data-side="protected"]', { hasText: "then the answer was lost" })).toHaveCount(1);
  await expect(timeline.locator('tr[data-side="protected"]', { hasText: "replayed" })).toHaveCount(1);
  await expect(timeline.locator('tr[data-side="unprotected"]')).toHaveCount(2);
  await expect(timeline.locator("tr").first()).toContainText(/\/\d+/);

  await page.getByRole("button", { name: "Look up" }).click();
  const record = page.getByTestId("key-record");
  await expect(record).toContainText("completed");
  await expect(record).toContainText("orders.place");
  await expect(record).toContainText('"kind":"success"');
});
