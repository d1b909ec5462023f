import { type DatabaseHandle, openDatabase } from "@/db/client";
import { env } from "./env";

// One pool per server process; kept on globalThis so dev-mode module reloads do not leak pools.
const holder = globalThis as typeof globalThis & {
  appDatabase?: DatabaseHandle;
  storeTransactionDatabase?: DatabaseHandle;
};

export function appDatabase(): DatabaseHandle {
  const { DATABASE_URL, DATABASE_POOL_SIZE, IDEMPOTENCY_WAIT_MS } = env();
  holder.appDatabase ??= openDatabase(DATABASE_URL, {
    poolSize: DATABASE_POOL_SIZE,
    lockWaitTimeoutSeconds: IDEMPOTENCY_WAIT_MS / 1000,
  });
  return holder.appDatabase;
}

/**
 * The pool the MySQL idempotency store runs its business transactions on, and nothing else does: its sessions
 * accept multi-statement queries, so a claim travels with its START TRANSACTION (one round trip fewer per guarded
 * request, measured through `npm run bench`).
 */
export function storeTransactionDatabase(): DatabaseHandle {
  const { DATABASE_URL, DATABASE_POOL_SIZE, IDEMPOTENCY_WAIT_MS } = env();
  holder.storeTransactionDatabase ??= openDatabase(DATABASE_URL, {
    poolSize: DATABASE_POOL_SIZE,
    lockWaitTimeoutSeconds: IDEMPOTENCY_WAIT_MS / 1000,
    multipleStatements: true,
  });
  return holder.storeTransactionDatabase;
}
