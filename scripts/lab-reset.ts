/**
 * `npm run lab:reset`: empties the training lab between groups (its timeline and the unprotected twin's orders).
 * Safe to repeat. The shop's own orders that the lab's protected side placed stay: lab code never deletes shop data.
 */
import { openDatabase } from "../db/client";
import { labEvents, labOrders } from "../db/schema";
import { loadLocalEnv } from "./local-env";

loadLocalEnv();
const url = process.env.DATABASE_URL;
if (!url) {
  console.error("DATABASE_URL is not set: run `npm run db:setup` first or export it.");
  process.exit(1);
}
const database = openDatabase(url, { poolSize: 1 });
try {
  const [events] = await database.db.delete(labEvents);
  const [twinOrders] = await database.db.delete(labOrders);
  console.log(`Lab reset: ${events.affectedRows} timeline entries and ${twinOrders.affectedRows} twin orders removed.`);
} catch (error) {
  console.error(`Lab reset failed: ${error instanceof Error ? error.message : String(error)}`);
  process.exitCode = 1;
} finally {
  await database.close();
}
