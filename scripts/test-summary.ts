/** Prints one closing line for the whole `npm test` run from the Vitest and Playwright JSON reports. */
import { readFileSync } from "node:fs";

const vitest = JSON.parse(readFileSync("reports/vitest.json", "utf8"));
const playwright = JSON.parse(readFileSync("reports/playwright.json", "utf8"));

const passed = vitest.numPassedTests + playwright.stats.expected;
const failed = vitest.numFailedTests + playwright.stats.unexpected + playwright.stats.flaky;
const skipped = vitest.numPendingTests + vitest.numTodoTests + playwright.stats.skipped;

console.log(`Vitest: ${vitest.numPassedTests} passed; Playwright: ${playwright.stats.expected} passed`);
console.log(`tests: ${passed} passed, ${failed} failed, ${skipped} skipped`);
process.exit(failed > 0 || passed === 0 ? 1 : 0);
