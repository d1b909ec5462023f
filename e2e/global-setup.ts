import { e2eLabPort, e2ePort, e2eProviderPort, e2eSecondPort } from "../playwright.config";
import { startAppServer, startLabServer } from "../testing/app-server";
import { startProviderServer } from "../testing/provider-server";
import { createTestDatabase } from "../testing/test-database";

/** Waits for all of them, so that whatever did start is known to the teardown before a failure is thrown. */
async function all<T extends readonly unknown[]>(starts: { [K in keyof T]: Promise<T[K]> }): Promise<T> {
  const results = await Promise.allSettled(starts);
  const failure = results.find((result) => result.status === "rejected");
  if (failure) throw failure.reason;
  return results.map((result) => (result as PromiseFulfilledResult<unknown>).value) as unknown as T;
}

/**
 * Fresh databases, the simulated payment provider, two production servers of the shop on the one app database (the
 * second answers the retries a test sends to "another server") and the training lab's server beside them; all
 * gone when the run ends.
 */
export default async function globalSetup() {
  const cleanups: (() => Promise<void>)[] = [];
  const keep = <T>(start: Promise<T>, stop: (started: T) => Promise<void>) =>
    start.then((started) => {
      cleanups.push(() => stop(started));
      return started;
    });
  const teardown = async () => {
    for (const cleanup of cleanups.reverse()) await cleanup();
  };
  try {
    const [database, providerDatabase] = await all([
      keep(createTestDatabase("e2e"), (db) => db.drop()),
      keep(createTestDatabase("e2eprov", "provider"), (db) => db.drop()),
    ]);
    const provider = await keep(
      startProviderServer({ port: e2eProviderPort, databaseUrl: providerDatabase.appUrl }),
      (server) => server.stop(),
    );
    // Both servers answer for the shop at the first one's address, as servers behind one load balancer would.
    const labUrl = `http://127.0.0.1:${e2eLabPort}`;
    const env = {
      DATABASE_URL: database.appUrl,
      PAYMENT_PROVIDER_URL: provider.url,
      APP_ORIGINS: `http://127.0.0.1:${e2ePort}`,
      // As `npm run demo` serves it, the training lab on its own server.
      LAB_URL: labUrl,
    };
    const startApp = (port: number) => keep(startAppServer({ port, env }), (server) => server.stop());
    const startLab = () =>
      keep(startLabServer({ port: e2eLabPort, env: { ...env, APP_ORIGINS: labUrl } }), (server) => server.stop());
    const [, second] = await all([startApp(e2ePort), startApp(e2eSecondPort), startLab()]);
    process.env.E2E_LAB_URL = labUrl;
    process.env.E2E_DATABASE_URL = database.appUrl;
    process.env.E2E_PROVIDER_URL = provider.url;
    process.env.E2E_SECOND_URL = second.url;
  } catch (error) {
    await teardown();
    throw error;
  }
  return teardown;
}
