import { type DatabaseHandle, openDatabase } from "@/db/client";
import { env } from "./env";

// One pool per server process; kept on globalThis so dev-mode module reloads do not leak pools.
const holder = globalThis as typeof globalThis & { appDatabase?: DatabaseHandle };

export function appDatabase(): DatabaseHandle {
  holder.appDatabase ??= openDatabase(env().DATABASE_URL, env().DATABASE_POOL_SIZE);
  return holder.appDatabase;
}
