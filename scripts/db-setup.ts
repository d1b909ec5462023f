/** `npm run db:setup`: creates the database and the app's user, migrates and seeds. Idempotent. */
import { providerMigrations, setupDatabase } from "../db/setup";
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
