/** The merchant account every test database has (created with the database, as db:setup creates one). */
import { openDatabase } from "@/db/client";
import { ensureMerchant } from "@/server/services/merchants";

export const testMerchant = { email: "merchant@shop.test", password: "a-test-merchant-password" };

export async function addTestMerchant(databaseUrl: string): Promise<void> {
  const database = openDatabase(databaseUrl, { poolSize: 1 });
  try {
    await ensureMerchant(database.db, testMerchant);
  } finally {
    await database.close();
  }
}
