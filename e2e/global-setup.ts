import { e2ePort } from "../playwright.config";
import { startAppServer } from "../testing/app-server";
import { createTestDatabase } from "../testing/test-database";

/** A fresh database and a production server for the Playwright run; both gone when it ends. */
export default async function globalSetup() {
  const database = await createTestDatabase("e2e");
  process.env.E2E_DATABASE_URL = database.appUrl;
  const server = await startAppServer({ port: e2ePort, env: { DATABASE_URL: database.appUrl } });
  return async () => {
    await server.stop();
    await database.drop();
  };
}
