/** `npm run db:setup`: creates the database and the app's user, migrates and seeds. Idempotent. */
import { openDatabase } from "../db/client";
import { providerMigrations, setupDatabase } from "../db/setup";
import { ensureMerchant } from "../server/services/merchants";
import { ensureLocalSecrets, loadLocalEnv } from "./local-env";

loadLocalEnv();
const adminUrl = process.env.DATABASE_ADMIN_URL ?? "mysql://root@127.0.0.1:3306";
ensureLocalSecrets(adminUrl);

try {
  const app = await setupDatabase({
    adminUrl,
    appUrl: process.env.DATABASE_URL as string,
    appUserHosts: process.env.DATABASE_APP_USER_HOSTS?.split(","),
  });
  console.log(`Database "${app.database}" is ready; the app connects as "${app.user}" with data rights only.`);
  const database = openDatabase(process.env.DATABASE_URL as string, { poolSize: 1 });
  try {
    const merchant = await ensureMerchant(database.db, {
      email: process.env.MERCHANT_EMAIL ?? "merchant@example.com",
      password: process.env.MERCHANT_PASSWORD || undefined,
    });
    if (merchant.generatedPassword) {
      console.log(
        `Merchant account created. Sign in at /admin/login as ${merchant.email} with the password ` +
          `${merchant.generatedPassword}\n(shown this once and stored only as a hash; to choose another, run ` +
          "`MERCHANT_PASSWORD=… npm run db:setup`).",
      );
    } else {
      console.log(
        `Merchant account ${merchant.email} ${merchant.created ? "created" : "kept"} (sign in at /admin/login).`,
      );
    }
  } finally {
    await database.close();
  }
  const provider = await setupDatabase({
    adminUrl,
    appUrl: process.env.PROVIDER_DATABASE_URL as string,
    appUserHosts: process.env.DATABASE_APP_USER_HOSTS?.split(","),
    migrationsFolder: providerMigrations,
  });
  console.log(`Payment provider database "${provider.database}" is ready (user "${provider.user}").`);
} catch (error) {
  console.error(`Database setup failed: ${error instanceof Error ? error.message : String(error)}`);
  process.exit(1);
}
