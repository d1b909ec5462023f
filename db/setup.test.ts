import { execFile } from "node:child_process";
import { readFileSync } from "node:fs";
import { promisify } from "node:util";
import mysql from "mysql2/promise";
import { afterAll, describe, expect, it } from "vitest";
import { adminUrl, freshAppUrl } from "@/testing/test-database";
import { dropDatabase } from "./setup";

const run = promisify(execFile);
const appUrl = freshAppUrl("setup");
const providerUrl = freshAppUrl("setupprov");
const database = new URL(appUrl).pathname.slice(1);
const migrations = JSON.parse(readFileSync("db/migrations/meta/_journal.json", "utf8")).entries.length;

async function runSetupCommand() {
  return run("node_modules/.bin/tsx", ["scripts/db-setup.ts"], {
    env: {
      ...process.env,
      DATABASE_ADMIN_URL: adminUrl,
      DATABASE_URL: appUrl,
      PROVIDER_DATABASE_URL: providerUrl,
      SESSION_SECRET: "x".repeat(32),
    },
  });
}

async function describeDatabase() {
  const admin = await mysql.createConnection({ uri: adminUrl });
  try {
    const [tables] = await admin.query<mysql.RowDataPacket[]>(
      "SELECT table_name AS name, table_rows AS rowsEstimate FROM information_schema.tables WHERE table_schema = ? ORDER BY table_name",
      [database],
    );
    const counts: Record<string, number> = {};
    for (const { name } of tables) {
      const [[row]] = (await admin.query("SELECT COUNT(*) AS n FROM ??.??", [database, name])) as [
        mysql.RowDataPacket[],
        unknown,
      ];
      counts[name] = Number(row?.n);
    }
    const [grants] = await admin.query<mysql.RowDataPacket[]>("SHOW GRANTS FOR ?@'localhost'", [
      new URL(appUrl).username,
    ]);
    return { counts, grants: grants.map((row) => Object.values(row)[0]) };
  } finally {
    await admin.end();
  }
}

describe("npm run db:setup", () => {
  afterAll(async () => {
    await dropDatabase({ adminUrl, appUrl });
    await dropDatabase({ adminUrl, appUrl: providerUrl });
  });

  it("creates, migrates and seeds on the first run, and changes nothing on the second", async () => {
    await runSetupCommand();
    const afterFirst = await describeDatabase();
    expect(afterFirst.counts).toMatchObject({ products: 6, categories: 3, __drizzle_migrations: migrations });

    const second = await runSetupCommand();
    expect(second.stdout).toContain(`Database "${database}" is ready`);
    expect(await describeDatabase()).toEqual(afterFirst);
  });

  it("gives the app user data rights on its own schema and nothing else", async () => {
    const { grants } = await describeDatabase();
    expect(grants).toEqual([
      expect.stringMatching(/^GRANT USAGE ON \*\.\* TO/),
      expect.stringMatching(new RegExp(`^GRANT SELECT, INSERT, UPDATE, DELETE ON \`${database}\`\\.\\* TO`)),
    ]);

    const app = await mysql.createConnection({ uri: appUrl });
    try {
      await expect(app.query("SELECT COUNT(*) FROM products")).resolves.toBeDefined();
      await expect(app.query("DROP TABLE products")).rejects.toMatchObject({ code: "ER_TABLEACCESS_DENIED_ERROR" });
      await expect(app.query("ALTER TABLE products ADD COLUMN x INT")).rejects.toMatchObject({
        code: "ER_TABLEACCESS_DENIED_ERROR",
      });
      await expect(app.query(`DROP DATABASE \`${database}\``)).rejects.toMatchObject({
        code: "ER_DBACCESS_DENIED_ERROR",
      });
      await expect(app.query("CREATE DATABASE eoc_should_not_exist")).rejects.toMatchObject({
        code: "ER_DBACCESS_DENIED_ERROR",
      });
      await expect(app.query("SELECT * FROM test.nothing")).rejects.toMatchObject({
        code: expect.stringMatching(/^ER_(TABLEACCESS|DBACCESS)_DENIED_ERROR$/),
      });
      await expect(app.query("SELECT user FROM mysql.user")).rejects.toMatchObject({
        code: "ER_TABLEACCESS_DENIED_ERROR",
      });
    } finally {
      await app.end();
    }
  });
});
