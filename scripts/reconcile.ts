/**
 * `npm run reconcile`: compares the provider's charges and refunds with our payments and refunds, repairs what is
 * safe to repair (refunds stray charges), and prints what it found and did. Exits 1 when a difference needs a
 * person. Running it twice does nothing the second time.
 */
import { appDatabase } from "../server/db";
import { assertEnvOrExit } from "../server/env";
import { configuredProvider } from "../server/services/payment-provider";
import { reconcile } from "../server/services/reconciler";
import { loadLocalEnv } from "./local-env";

loadLocalEnv();
const env = assertEnvOrExit();
const database = appDatabase();
try {
  const report = await reconcile({ db: database.db, provider: configuredProvider(env) });
  for (const repair of report.repairs) console.log(`repaired: ${repair}`);
  for (const discrepancy of report.discrepancies) console.log(`discrepancy: ${discrepancy}`);
  console.log(
    `Reconciler: ${report.providerCharges} provider charges and ${report.providerRefunds} refunds; ` +
      `${report.matched} matched, ${report.pending} pending (left to the completer), ` +
      `${report.repairs.length} repaired, ${report.discrepancies.length} discrepancies.`,
  );
  if (report.discrepancies.length > 0) process.exitCode = 1;
} finally {
  await database.close();
}
