import { randomInt, randomUUID } from "node:crypto";
import { sql } from "drizzle-orm";
import { drizzle } from "drizzle-orm/mysql2";
import mysql from "mysql2/promise";
import { afterAll, describe, expect, inject, it } from "vitest";
import { adminUrl } from "@/testing/test-database";
import { isDuplicateKeyError, isTransientInfrastructureError } from "./errors";

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

describe("isDuplicateKeyError", () => {
  const pool = mysql.createPool({ uri: inject("databaseUrl"), connectionLimit: 1 });
  afterAll(() => pool.end());

  it("tells which unique key refused a write, as Drizzle reports the driver's error", async () => {
    const db = drizzle(pool);
    const slug = `dup-probe-${randomUUID()}`;
    // Negative: an explicit id above the others would move the table's AUTO_INCREMENT for every later test.
    const id = -randomInt(1_000_000, 2_000_000_000);
    await db.execute(sql`INSERT INTO categories (id, slug, name) VALUES (${id}, ${slug}, 'Probe')`);
    const failureOf = (statement: ReturnType<typeof sql>) =>
      db.execute(statement).then(
        () => undefined,
        (error: unknown) => error,
      );
    const onPrimary = await failureOf(sql`INSERT INTO categories (id, slug, name) VALUES (${id}, ${`${slug}-2`}, 'P')`);
    const onSlug = await failureOf(sql`INSERT INTO categories (id, slug, name) VALUES (${id - 1}, ${slug}, 'P')`);
    expect(isDuplicateKeyError(onPrimary)).toBe(true);
    expect(isDuplicateKeyError(onPrimary, "PRIMARY")).toBe(true);
    expect(isDuplicateKeyError(onSlug)).toBe(true);
    expect(isDuplicateKeyError(onSlug, "PRIMARY")).toBe(false);
    await db.execute(sql`DELETE FROM categories WHERE id = ${id}`);
  });
});
