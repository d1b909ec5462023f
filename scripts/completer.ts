/** `npm run completer`: one pass over payments abandoned mid-flight; prints what it finished. */
import { appDatabase } from "../server/db";
import { assertEnvOrExit } from "../server/env";
import { idempotencySettings } from "../server/idempotency/settings";
import { closeAppRedis } from "../server/redis";
import { paymentProvider } from "../server/routers/payments";
import { completeAbandonedPayments } from "../server/services/completer";
import { loadLocalEnv } from "./local-env";

loadLocalEnv();
const env = assertEnvOrExit();
const database = appDatabase();
try {
  const reports = await completeAbandonedPayments({
    db: database.db,
    provider: paymentProvider({ env }),
    settings: idempotencySettings(database.db, env),
  });
  for (const report of reports) {
    console.log(`payment ${report.paymentId}: ${report.outcome}${report.detail ? ` (${report.detail})` : ""}`);
  }
  console.log(`Completer: ${reports.length} abandoned payment${reports.length === 1 ? "" : "s"} examined.`);
  if (reports.some((report) => report.outcome === "error")) process.exitCode = 1;
} finally {
  await database.close();
  await closeAppRedis();
}
