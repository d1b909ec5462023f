import { sql } from "drizzle-orm";
import { drizzle } from "drizzle-orm/mysql2";
import mysql from "mysql2/promise";
import { afterAll, describe, expect, inject, it } from "vitest";
import { adminUrl } from "@/testing/test-database";
import { isTransientInfrastructureError } from "./errors";

describe("isTransientInfrastructureError", () => {
  const pool = mysql.createPool({ uri: inject("databaseUrl"), connectionLimit: 1 });
  afterAll(() => pool.end());

  it("treats a transaction whose connection the database killed as transient, down to the failed rollback", async () => {
    const db = drizzle(pool);
    const admin = await mysql.createConnection({ uri: adminUrl });
    let failure: unknown;
    try {
      await db.transaction(async (tx) => {
        const [[session]] = (await tx.execute(sql`SELECT CONNECTION_ID() AS id`)) as unknown as [[{ id: number }]];
        await admin.query("KILL CONNECTION ?", [session.id]);
        await tx.execute(sql`SELECT 1`);
      });
    } catch (error) {
      failure = error;
    } finally {
      await admin.end();
    }
    expect(failure).toBeDefined();
    expect(isTransientInfrastructureError(failure)).toBe(true);
  });

  it("treats a query sent on a connection that has already closed as transient", async () => {
    const connection = await mysql.createConnection({ uri: inject("databaseUrl") });
    await connection.end();
    const failure = await drizzle(connection)
      .execute(sql`SELECT 1`)
      .catch((error: unknown) => error);
    expect(String((failure as Error).cause ?? failure)).toMatch(/closed state/);
    expect(isTransientInfrastructureError(failure)).toBe(true);
  });

  it("does not treat a duplicate key or a syntax error as transient", async () => {
    const failure = await drizzle(pool)
      .execute(sql`SELEKT 1`)
      .catch((error: unknown) => error);
    expect(isTransientInfrastructureError(failure)).toBe(false);
  });
});
