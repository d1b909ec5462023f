import { randomUUID } from "node:crypto";
import { eq } from "drizzle-orm";
import { afterAll, describe, expect, inject, it } from "vitest";
import { openDatabase } from "@/db/client";
import { idempotencyKeys } from "@/db/schema";
import { deferred } from "@/testing/deferred";
import { MysqlIdempotencyStore } from "./mysql-store";
import { claimRequest, describeStoreConformance } from "./store-conformance";

const database = openDatabase(inject("databaseUrl"), { poolSize: 30 });
afterAll(() => database.close());
const store = new MysqlIdempotencyStore(database.db);

describeStoreConformance("MySQL", async (clock) => new MysqlIdempotencyStore(database.db, clock.now));

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

describe("MySQL store running the business transaction", () => {
  it("holds a racing claim of the same key on the row lock until the commit, then shows it the completed record", async () => {
    const request = claimRequest();
    const originalMayCommit = deferred();
    const claimedByOriginal = deferred();
    const original = store.runClaimed(request, async () => {
      claimedByOriginal.resolve();
      await originalMayCommit.promise;
      return '{"first":true}';
    });
    await claimedByOriginal.promise;
    const duplicate = store.runClaimed(request, async () => '{"second":true}');
    await new Promise((resolve) => setTimeout(resolve, 200));
    originalMayCommit.resolve();
    await original;

    expect(await duplicate).toMatchObject({
      outcome: "existing",
      record: { status: "completed", outcome: { kind: "success", body: '{"first":true}' } },
    });
  });
});
