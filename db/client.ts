import { drizzle, type MySql2Database } from "drizzle-orm/mysql2";
import mysql from "mysql2/promise";
import * as schema from "./schema";

export type Database = MySql2Database<typeof schema>;
/** A transaction handle as Drizzle passes it to `db.transaction(tx => …)`. */
export type Transaction = Parameters<Parameters<Database["transaction"]>[0]>[0];

export interface DatabaseHandle {
  db: Database;
  close(): Promise<void>;
}

/** Opens a pool whose sessions all run in UTC, so CURRENT_TIMESTAMP defaults and JS dates agree. */
export function openDatabase(url: string, poolSize = 10): DatabaseHandle {
  const pool = mysql.createPool({
    uri: url,
    connectionLimit: poolSize,
    connectTimeout: 5_000,
    enableKeepAlive: true,
  });
  pool.pool.on("connection", (connection) => {
    connection.query("SET time_zone = '+00:00'");
  });
  const db = drizzle(pool, { schema, mode: "default" });
  return { db, close: () => pool.end() };
}
