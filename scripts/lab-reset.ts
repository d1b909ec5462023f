/**
 * `npm run lab:reset`: empties the training lab between groups (its timeline, the unprotected twin's orders and
 * charges). Safe to repeat. The shop's own orders that the lab's protected side placed stay: lab code never
 * deletes shop data.
 */
import { openDatabase } from "../db/client";
import { deleteLabRecords } from "../server/lab/retention";
import { loadLocalEnv } from "./local-env";

loadLocalEnv();
const url = process.env.DATABASE_URL;
if (!url) {
  console.error("DATABASE_URL is not set: run `npm run db:setup` first or export it.");
  process.exit(1);
}
const database = openDatabase(url, { poolSize: 1 });
try {
  const deleted = await deleteLabRecords(database.db);
  console.log(`Lab reset: ${deleted} lab row${deleted === 1 ? "" : "s"} removed (timeline, twin orders and charges).`);
} catch (error) {
  console.error(`Lab reset failed: ${error instanceof Error ? error.message : String(error)}`);
  process.exitCode = 1;
} finally {
  await database.close();
}
