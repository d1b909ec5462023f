/** `npm run completer`: one pass finishing abandoned payments, refunds and keys; prints what it did. */
import { appDatabase } from "../server/db";
import { assertEnvOrExit } from "../server/env";
import { idempotencySettings } from "../server/idempotency-settings";
import { closeAppRedis } from "../server/redis";
import { completeAbandonedWork } from "../server/services/completer";
import { configuredProvider } from "../server/services/payment-provider";
import { loadLocalEnv } from "./local-env";

loadLocalEnv();
const env = assertEnvOrExit();
const database = appDatabase();
try {
  const reports = await completeAbandonedWork({
    db: database.db,
    provider: configuredProvider(env),
    settings: idempotencySettings(database.db, env),
  });
  for (const report of reports) {
    console.log(`${report.subject}: ${report.outcome}${report.detail ? ` (${report.detail})` : ""}`);
  }
  console.log(`Completer: ${reports.length} abandoned item${reports.length === 1 ? "" : "s"} examined.`);
  if (reports.some((report) => report.outcome === "error")) process.exitCode = 1;
} finally {
  await database.close();
  await closeAppRedis();
}
