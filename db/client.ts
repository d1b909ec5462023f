import type { MySqlDatabase } from "drizzle-orm/mysql-core";
import {
  drizzle,
  type MySql2Database,
  type MySql2PreparedQueryHKT,
  type MySql2QueryResultHKT,
} from "drizzle-orm/mysql2";
import mysql from "mysql2/promise";
import * as schema from "./schema";
import { rerunOnDeadlock } from "./transactions";

/** The pool-backed database; `$client` is the mysql2 pool, for code that needs one connection for a while. */
export type Database = MySql2Database<typeof schema> & { $client: mysql.Pool };
/** A transaction handle as Drizzle passes it to `db.transaction(tx => …)`. */
export type Transaction = Parameters<Parameters<Database["transaction"]>[0]>[0];
/** The pool or a transaction: both run the same statements. */
export type Executor = MySqlDatabase<MySql2QueryResultHKT, MySql2PreparedQueryHKT, typeof schema>;

export interface DatabaseHandle {
  db: Database;
  close(): Promise<void>;
}

export interface PoolOptions {
  poolSize?: number;
  /** How long a statement waits for a row lock held by another transaction (whole seconds, at least 1). */
  lockWaitTimeoutSeconds?: number;
  /**
   * Lets one query carry several statements. Only for the idempotency store's transaction pool, which sends its
   * claim with START TRANSACTION (server/idempotency/mysql-store.ts); never COMMIT with anything else.
   */
  multipleStatements?: boolean;
}

/**
 * Opens a pool whose sessions run in UTC (CURRENT_TIMESTAMP defaults and JS dates agree), at READ COMMITTED
 * (no gap locks between unrelated inserts), with a short lock wait so a request racing an in-flight duplicate
 * gives up in bounded time instead of InnoDB's default 50 s.
 */
export function openDatabase(url: string, options: PoolOptions = {}): DatabaseHandle {
  const pool = mysql.createPool({
    uri: url,
    connectionLimit: options.poolSize ?? 10,
    connectTimeout: 5_000,
    enableKeepAlive: true,
    multipleStatements: options.multipleStatements ?? false,
    // mysql2 captures a stack trace on every query, to show where a failing one was sent from: measured at 5.5 %
    // of a first execution's CPU. Errors keep their code and message, which is what the app and its logs use.
    trace: false,
  });
  const lockWait = Math.max(1, Math.ceil(options.lockWaitTimeoutSeconds ?? 2));
  pool.pool.on("connection", (connection) => {
    connection.query(`SET time_zone = '+00:00', innodb_lock_wait_timeout = ${lockWait}`);
    connection.query("SET SESSION TRANSACTION ISOLATION LEVEL READ COMMITTED");
    // On a Galera node, a read waits until the node has applied every write the cluster committed before it, so
    // a key or an answer committed through another node is never missed. MariaDB alone ignores it; MySQL lacks
    // the variable (error 1193), and has no other node to wait for.
    connection.query("SET SESSION wsrep_sync_wait = 1", () => undefined);
  });
  const db = drizzle(pool, { schema, mode: "default" });
  // Every transaction of the pool is run again when it loses a race (db/transactions.ts).
  const runOnce = db.transaction.bind(db);
  db.transaction = ((work, config) => rerunOnDeadlock(() => runOnce(work, config))) as typeof db.transaction;
  return { db, close: () => pool.end() };
}
