import { defineConfig } from "@playwright/test";

export const e2ePort = Number(process.env.E2E_PORT ?? 3100);
/** A second production server on the same database, for retries that land on another server. */
export const e2eSecondPort = e2ePort + 1;
export const e2eProviderPort = e2ePort + 2;
/** The training lab's own server, beside the shop's, as `npm run serve` starts it. */
export const e2eLabPort = e2ePort + 3;
/** Servers a test starts and crashes on its own (3110–3119). */
export const e2eCrashPort = e2ePort + 10;

export default defineConfig({
  testDir: "e2e",
  globalSetup: "./e2e/global-setup.ts",
  fullyParallel: false,
  workers: 1,
  retries: 0,
  timeout: 60_000,
  reporter: [["list"], ["html", { open: "never" }], ["json", { outputFile: "reports/playwright.json" }]],
  use: {
    baseURL: `http://127.0.0.1:${e2ePort}`,
    trace: "retain-on-failure",
    screenshot: "only-on-failure",
    launchOptions: {
      // The machine's Chromium: Playwright's own browser download cannot work on this closed network.
      executablePath: process.env.CHROMIUM_PATH ?? "/usr/bin/chromium",
      args: [
        "--disable-gpu",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--no-first-run",
        "--disable-quic",
      ],
    },
  },
});
