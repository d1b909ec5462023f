import { randomUUID } from "node:crypto";
import { eq } from "drizzle-orm";
import { afterAll, describe, expect, inject, it } from "vitest";
import { type Executor, openDatabase } from "@/db/client";
import { customers, idempotencyKeys } from "@/db/schema";
import { deferred } from "@/testing/deferred";
import { MysqlIdempotencyStore } from "./mysql-store";
import { claimRequest, describeStoreConformance } from "./store-conformance";

const database = openDatabase(inject("databaseUrl"), { poolSize: 30 });
afterAll(() => database.close());

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

describe("MySQL store running the business transaction", () => {
  const store = new MysqlIdempotencyStore(database.db);
  const keyRows = (scope: string) =>
    database.db.select().from(idempotencyKeys).where(eq(idempotencyKeys.customerId, scope));
  const customerRows = (id: string) => database.db.select().from(customers).where(eq(customers.id, id));

  it("commits the claim, the business write and the completion together", async () => {
    const request = claimRequest();
    const answer = await store.transaction(async (business, scoped) => {
      const claim = await scoped.claim(request);
      if (claim.outcome !== "claimed") throw new Error(`expected a claim, got ${claim.outcome}`);
      await (business as Executor).insert(customers).values({ id: request.scope });
      await scoped.complete(claim.lease, { kind: "success", body: '{"done":true}' });
      return "answered";
    });

    expect(answer).toBe("answered");
    expect(await customerRows(request.scope)).toHaveLength(1);
    expect(await keyRows(request.scope)).toMatchObject([{ status: "completed", response: expect.any(String) }]);
    expect(await store.read(request)).toMatchObject({ outcome: { kind: "success", body: '{"done":true}' } });
  });

  it("leaves neither the key nor the business row when the work fails after its completion was recorded", async () => {
    const request = claimRequest();
    const failure = store.transaction(async (business, scoped) => {
      const claim = await scoped.claim(request);
      if (claim.outcome !== "claimed") throw new Error(`expected a claim, got ${claim.outcome}`);
      await (business as Executor).insert(customers).values({ id: request.scope });
      await scoped.complete(claim.lease, { kind: "success", body: "{}" });
      throw new Error("crashed before the commit");
    });

    await expect(failure).rejects.toThrow("crashed before the commit");
    expect(await keyRows(request.scope)).toEqual([]);
    expect(await customerRows(request.scope)).toEqual([]);
  });

  it("holds a racing claim of the same key until the commit, then shows it the completed record", async () => {
    const request = claimRequest();
    const originalMayCommit = deferred();
    const claimedByOriginal = deferred();
    const original = store.transaction(async (_business, scoped) => {
      const claim = await scoped.claim(request);
      if (claim.outcome !== "claimed") throw new Error(`expected a claim, got ${claim.outcome}`);
      claimedByOriginal.resolve();
      await originalMayCommit.promise;
      await scoped.complete(claim.lease, { kind: "success", body: '{"first":true}' });
    });
    await claimedByOriginal.promise;
    const duplicate = store.transaction((_business, scoped) => scoped.claim(request));
    await new Promise((resolve) => setTimeout(resolve, 200));
    originalMayCommit.resolve();
    await original;

    expect(await duplicate).toMatchObject({
      outcome: "existing",
      record: { status: "completed", outcome: { kind: "success", body: '{"first":true}' } },
    });
  });
});
