/**
 * Prints one closing line for the whole `npm test` run from the Vitest and Playwright reports, the classroom run and
 * the chaos soaks.
 */
import { readFileSync } from "node:fs";

const vitest = JSON.parse(readFileSync("reports/vitest.json", "utf8"));
// The scale-out suite: Galera and Redis Cluster (vitest.cluster.config.ts).
const cluster = JSON.parse(readFileSync("reports/vitest-cluster.json", "utf8"));
const playwright = JSON.parse(readFileSync("reports/playwright.json", "utf8"));
// One soak per store, each ending with a line PASSED or FAILED.
const chaos = readFileSync("reports/chaos.txt", "utf8");
const soaksPassed = chaos.match(/^PASSED$/gm)?.length ?? 0;
const soaksFailed = chaos.match(/^FAILED$/gm)?.length ?? 0;
// The short classroom run: trainees in the lab while shoppers buy on the shop.
const classroom = readFileSync("reports/classroom.txt", "utf8");
const classroomPassed = classroom.match(/^classroom: PASSED$/gm)?.length ?? 0;
const classroomFailed = classroomPassed === 1 ? 0 : 1;

const passed =
  vitest.numPassedTests + cluster.numPassedTests + playwright.stats.expected + classroomPassed + soaksPassed;
const failed =
  vitest.numFailedTests +
  cluster.numFailedTests +
  playwright.stats.unexpected +
  playwright.stats.flaky +
  classroomFailed +
  soaksFailed;
const skipped =
  vitest.numPendingTests +
  vitest.numTodoTests +
  cluster.numPendingTests +
  cluster.numTodoTests +
  playwright.stats.skipped;

console.log(
  `Vitest: ${vitest.numPassedTests} passed; on the clusters: ${cluster.numPassedTests} passed; ` +
    `Playwright: ${playwright.stats.expected} passed; classroom: ${classroomPassed} passed; chaos soaks: ${soaksPassed} passed`,
);
console.log(`tests: ${passed} passed, ${failed} failed, ${skipped} skipped`);
process.exit(failed > 0 || passed === 0 || soaksPassed === 0 || cluster.numPassedTests === 0 ? 1 : 0);
