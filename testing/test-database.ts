/**
 * A fresh database and app user for one test run, dropped afterwards, so runs never share state and never
 * touch the developer's own database.
 */
import { randomBytes } from "node:crypto";
import { dropDatabase, providerMigrations, setupDatabase } from "@/db/setup";
import { addTestMerchant } from "./merchant";

export const adminUrl = process.env.DATABASE_ADMIN_URL ?? "mysql://root@127.0.0.1:3306";

export interface TestDatabase {
  appUrl: string;
  database: string;
  user: string;
  drop(): Promise<void>;
}

export function freshAppUrl(label: string): string {
  const suffix = `${Date.now().toString(36)}_${randomBytes(3).toString("hex")}`;
  const host = new URL(adminUrl).host;
  return `mysql://eoc_${label}_${suffix}:${randomBytes(18).toString("base64url")}@${host}/eoc_${label}_${suffix}`;
}

export async function createTestDatabase(label: string, schema: "app" | "provider" = "app"): Promise<TestDatabase> {
  const appUrl = freshAppUrl(label);
  const migrationsFolder = schema === "provider" ? providerMigrations : undefined;
  const { database, user } = await setupDatabase({ adminUrl, appUrl, migrationsFolder });
  if (schema === "app") await addTestMerchant(appUrl);
  return { appUrl, database, user, drop: () => dropDatabase({ adminUrl, appUrl }) };
}
