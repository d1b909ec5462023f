/** `npm run idempotency:purge`: deletes idempotency keys past their retention, 1,000 rows per statement. */
import { openDatabase } from "../db/client";
import { MysqlIdempotencyStore } from "../server/idempotency";
import { loadLocalEnv } from "./local-env";

loadLocalEnv();
const url = process.env.DATABASE_URL;
if (!url) {
  console.error("DATABASE_URL is not set: run `npm run db:setup` first or export it.");
  process.exit(1);
}
if (process.env.IDEMPOTENCY_STORE === "redis") {
  console.log("IDEMPOTENCY_STORE=redis: Redis expires keys by itself at the end of their retention; nothing to purge.");
  process.exit(0);
}
const database = openDatabase(url, { poolSize: 1 });
try {
  const purged = await new MysqlIdempotencyStore(database.db).purgeExpired(1000);
  console.log(`Purged ${purged} expired idempotency key${purged === 1 ? "" : "s"}.`);
} catch (error) {
  console.error(`Purge failed: ${error instanceof Error ? error.message : String(error)}`);
  process.exitCode = 1;
} finally {
  await database.close();
}
