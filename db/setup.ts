/**
 * Creates the app's database and its least-privileged user, applies migrations and seeds the demo catalog.
 * Runs with an admin connection; the app itself never does. Safe to run any number of times.
 */
import path from "node:path";
import { fileURLToPath } from "node:url";
import { drizzle } from "drizzle-orm/mysql2";
import { migrate } from "drizzle-orm/mysql2/migrator";
import mysql from "mysql2/promise";
import * as schema from "./schema";
import { seedDemoCatalog } from "./seed";

const root = path.dirname(path.dirname(fileURLToPath(import.meta.url)));
export const appMigrations = path.join(root, "db", "migrations");
/** The simulated payment provider keeps its own tables in its own database. */
export const providerMigrations = path.join(root, "provider", "migrations");

/** Data rights only: the app can read and write rows, never change the schema or reach another database. */
const appPrivileges = "SELECT, INSERT, UPDATE, DELETE";

export interface SetupOptions {
  /** A URL of an account allowed to create databases and users, e.g. mysql://root@127.0.0.1:3306 */
  adminUrl: string;
  /** The app's own URL: its user, password, host and database name are taken from it. */
  appUrl: string;
  /** Hosts the app user may connect from (MySQL's user@host). */
  appUserHosts?: string[];
  /** Which schema to migrate to; the app's by default. */
  migrationsFolder?: string;
  /** Seed the demo catalog (the app's database only). */
  seed?: boolean;
}

export interface AppDatabase {
  database: string;
  user: string;
  password: string;
}

export function describeAppUrl(appUrl: string): AppDatabase {
  const url = new URL(appUrl);
  const database = decodeURIComponent(url.pathname.replace(/^\//, ""));
  const user = decodeURIComponent(url.username);
  if (!/^[A-Za-z0-9_]{1,64}$/.test(database)) {
    throw new Error(`DATABASE_URL must name a database of letters, digits and _ (got "${database}")`);
  }
  if (!/^[A-Za-z0-9_]{1,80}$/.test(user) || user === "root") {
    throw new Error("DATABASE_URL must name the app's own user (letters, digits and _), not root");
  }
  return { database, user, password: decodeURIComponent(url.password) };
}

export const defaultAppUserHosts = ["localhost", "127.0.0.1", "::1"];

export async function setupDatabase(options: SetupOptions): Promise<AppDatabase> {
  const app = describeAppUrl(options.appUrl);
  const hosts = options.appUserHosts ?? defaultAppUserHosts;
  const admin = await mysql.createConnection({ uri: options.adminUrl, connectTimeout: 10_000 });
  try {
    await admin.query("CREATE DATABASE IF NOT EXISTS ?? CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci", [
      app.database,
    ]);
    for (const host of hosts) {
      // mysql2 escapes the ? values client-side; no password is ever written into SQL text by hand.
      await admin.query("CREATE USER IF NOT EXISTS ?@? IDENTIFIED BY ?", [app.user, host, app.password]);
      await admin.query("ALTER USER ?@? IDENTIFIED BY ?", [app.user, host, app.password]);
      await admin.query(`GRANT ${appPrivileges} ON ??.* TO ?@?`, [app.database, app.user, host]);
    }
    await admin.query("USE ??", [app.database]);
    await admin.query("SET time_zone = '+00:00'");
    const db = drizzle(admin, { schema, mode: "default" });
    await migrate(db, { migrationsFolder: options.migrationsFolder ?? appMigrations });
    if (options.seed ?? !options.migrationsFolder) await seedDemoCatalog(db);
    return app;
  } finally {
    await admin.end();
  }
}

export async function dropDatabase(options: SetupOptions): Promise<void> {
  const app = describeAppUrl(options.appUrl);
  const admin = await mysql.createConnection({ uri: options.adminUrl });
  try {
    await admin.query("DROP DATABASE IF EXISTS ??", [app.database]);
    for (const host of options.appUserHosts ?? defaultAppUserHosts) {
      await admin.query("DROP USER IF EXISTS ?@?", [app.user, host]);
    }
  } finally {
    await admin.end();
  }
}
