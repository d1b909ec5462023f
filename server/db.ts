import { type DatabaseHandle, openDatabase } from "@/db/client";
import { env } from "./env";

// One pool per server process; kept on globalThis so dev-mode module reloads do not leak pools.
const holder = globalThis as typeof globalThis & { appDatabase?: DatabaseHandle };

export function appDatabase(): DatabaseHandle {
  const { DATABASE_URL, DATABASE_POOL_SIZE, IDEMPOTENCY_WAIT_MS } = env();
  holder.appDatabase ??= openDatabase(DATABASE_URL, {
    poolSize: DATABASE_POOL_SIZE,
    lockWaitTimeoutSeconds: IDEMPOTENCY_WAIT_MS / 1000,
  });
  return holder.appDatabase;
}
