import { randomUUID } from "node:crypto";
import { eq } from "drizzle-orm";
import { afterAll, describe, expect, inject, it } from "vitest";
import { openDatabase } from "@/db/client";
import { idempotencyKeys } from "@/db/schema";
import { MysqlIdempotencyStore } from "./mysql-store";
import { describeStoreConformance } from "./store-conformance";

const database = openDatabase(inject("databaseUrl"), { poolSize: 30 });
afterAll(() => database.close());

describeStoreConformance("MySQL", async () => new MysqlIdempotencyStore(database.db));

describe("MySQL store retention purge", () => {
  it("deletes expired keys in batches and keeps live ones", async () => {
    const scope = randomUUID();
    const longAgo = new Date(Date.now() - 48 * 3600_000);
    const pastStore = new MysqlIdempotencyStore(database.db, () => longAgo);
    for (let index = 0; index < 5; index += 1) {
      await pastStore.claim({
        scope,
        key: `old-${index}`,
        procedurePath: "orders.place",
        fingerprint: "f".repeat(64),
        leaseMs: 1000,
        retentionMs: 3600_000,
      });
    }
    const store = new MysqlIdempotencyStore(database.db);
    await store.claim({
      scope,
      key: "live",
      procedurePath: "orders.place",
      fingerprint: "f".repeat(64),
      leaseMs: 1000,
      retentionMs: 3600_000,
    });

    expect(await store.purgeExpired(2)).toBeGreaterThanOrEqual(5);
    const left = await database.db
      .select({ key: idempotencyKeys.idempotencyKey })
      .from(idempotencyKeys)
      .where(eq(idempotencyKeys.customerId, scope));
    expect(left).toEqual([{ key: "live" }]);
  });
});
