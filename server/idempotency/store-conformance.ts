/**
 * The specification every IdempotencyStore must meet, written once against the interface.
 * Each store's test file runs it: `describeStoreConformance("MySQL", () => …)`.
 */
import { randomUUID } from "node:crypto";
import { eq } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, inject, it, vi } from "vitest";
import { type Executor, openDatabase } from "@/db/client";
import { customers } from "@/db/schema";
import { deferred } from "@/testing/deferred";
import { type ClaimRequest, type IdempotencyStore, LeaseLostError, type StoredOutcome } from "./store";

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** The clock a store under test judges leases by: real time, moved forward by the test instead of waited for. */
export class TestClock {
  private offsetMs = 0;
  readonly now = () => new Date(Date.now() + this.offsetMs);
  advance(ms: number): void {
    this.offsetMs += ms;
  }
}

/** A claim of a fresh key by a fresh customer; store tests override what they exercise. */
export const claimRequest = (overrides: Partial<ClaimRequest> = {}): ClaimRequest => ({
  scope: randomUUID(),
  key: randomUUID(),
  procedurePath: "orders.place",
  fingerprint: "a".repeat(64),
  leaseMs: 30_000,
  retentionMs: 60_000,
  ...overrides,
});

/** The business database the stores' `runClaimed` work writes to (a customer row stands for any business row). */
export const businessDatabase = openDatabase(inject("databaseUrl"), { poolSize: 30 });
export const transactOnBusinessDatabase = <R>(work: (business: Executor) => Promise<R>) =>
  businessDatabase.db.transaction((tx) => work(tx));

export function describeStoreConformance(
  name: string,
  openStore: (clock: TestClock) => Promise<IdempotencyStore<Executor>>,
) {
  describe(`${name} idempotency store`, () => {
    let store: IdempotencyStore<Executor>;
    const clock = new TestClock();
    beforeAll(async () => {
      store = await openStore(clock);
    });
    afterAll(() => businessDatabase.close());

    const request = claimRequest;
    const success: StoredOutcome = { kind: "success", body: '{"order":{"id":7}}' };

    it("grants the first claim of a key a lease, starting at the first recovery point", async () => {
      const req = request();
      const result = await store.claim(req);
      expect(result.outcome).toBe("claimed");
      if (result.outcome !== "claimed") return;
      expect(result.lease).toMatchObject({ scope: req.scope, key: req.key });
      expect(result.record).toMatchObject({ status: "in_progress", recoveryPoint: "started", outcome: null });
      expect(result.record.expiresAt.getTime() - result.record.firstSeenAt.getTime()).toBe(req.retentionMs);
      expect(await store.read(req)).toMatchObject({ status: "in_progress", fingerprint: req.fingerprint });
    });

    it("refuses a second claim while the lease is live, showing the holder's record", async () => {
      const req = request();
      await store.claim(req);
      const second = await store.claim(req);
      expect(second).toMatchObject({ outcome: "existing", record: { status: "in_progress" } });
    });

    it("grants exactly one of many concurrent claims", async () => {
      const req = request();
      const results = await Promise.all(Array.from({ length: 20 }, () => store.claim(req)));
      expect(results.filter((result) => result.outcome === "claimed")).toHaveLength(1);
    });

    it("keeps keys of different scopes apart", async () => {
      const req = request();
      await store.claim(req);
      const other = await store.claim({ ...req, scope: randomUUID() });
      expect(other.outcome).toBe("claimed");
    });

    it("stores a completed outcome and returns it to every later claim and read", async () => {
      const req = request();
      const first = await store.claim(req);
      if (first.outcome !== "claimed") throw new Error("expected a claim");
      await store.complete(first.lease, success);
      const again = await store.claim(req);
      expect(again).toMatchObject({ outcome: "existing", record: { status: "completed", outcome: success } });
      expect((await store.read(req))?.outcome).toEqual(success);
    });

    it("advances the recovery point and renews the lease", async () => {
      const req = request({ leaseMs: 300 });
      const first = await store.claim(req);
      if (first.outcome !== "claimed") throw new Error("expected a claim");
      clock.advance(200);
      await store.advance(first.lease, "payment_created", 300);
      clock.advance(200);
      // 400 ms after the claim, the renewed lease (300 ms from the advance) still holds.
      expect(await store.claim(req)).toMatchObject({ outcome: "existing" });
      expect((await store.read(req))?.recoveryPoint).toBe("payment_created");
    });

    it("lets a retry take over an expired lease and resume from the recorded point", async () => {
      const req = request({ leaseMs: 150 });
      const first = await store.claim(req);
      if (first.outcome !== "claimed") throw new Error("expected a claim");
      await store.advance(first.lease, "charge_attempted", 150);
      clock.advance(250);
      const takeover = await store.claim(req);
      expect(takeover).toMatchObject({ outcome: "claimed", record: { recoveryPoint: "charge_attempted" } });
      if (takeover.outcome !== "claimed") return;
      expect(takeover.record.firstSeenAt).toEqual(first.record.firstSeenAt);
      expect(takeover.lease.ownerToken).not.toBe(first.lease.ownerToken);
    });

    it("fences the old holder after a takeover: it can no longer advance, complete or release", async () => {
      const req = request({ leaseMs: 150 });
      const first = await store.claim(req);
      if (first.outcome !== "claimed") throw new Error("expected a claim");
      clock.advance(250);
      const takeover = await store.claim(req);
      if (takeover.outcome !== "claimed") throw new Error("expected a takeover");
      await expect(store.advance(first.lease, "payment_created", 1000)).rejects.toBeInstanceOf(LeaseLostError);
      await expect(store.complete(first.lease, success)).rejects.toBeInstanceOf(LeaseLostError);
      await expect(store.release(first.lease)).rejects.toBeInstanceOf(LeaseLostError);
      await store.complete(takeover.lease, success);
      expect((await store.read(req))?.outcome).toEqual(success);
    });

    it("refuses writes with a forged owner token even while no one else holds the key", async () => {
      const req = request();
      const first = await store.claim(req);
      if (first.outcome !== "claimed") throw new Error("expected a claim");
      const forged = { ...first.lease, ownerToken: randomUUID() };
      await expect(store.complete(forged, success)).rejects.toBeInstanceOf(LeaseLostError);
      expect((await store.read(req))?.status).toBe("in_progress");
    });

    it("does not let another request take over an expired lease", async () => {
      const req = request({ leaseMs: 100 });
      await store.claim(req);
      clock.advance(200);
      const other = await store.claim({ ...req, fingerprint: "b".repeat(64) });
      expect(other).toMatchObject({ outcome: "existing", record: { fingerprint: req.fingerprint } });
    });

    it("on release keeps the key bound to its request, even before any step was recorded", async () => {
      const req = request();
      const first = await store.claim(req);
      if (first.outcome !== "claimed") throw new Error("expected a claim");
      await store.release(first.lease);
      expect(await store.read(req)).toMatchObject({ status: "in_progress", recoveryPoint: "started" });
      const other = await store.claim({ ...req, fingerprint: "b".repeat(64) });
      expect(other).toMatchObject({ outcome: "existing", record: { fingerprint: req.fingerprint } });
      expect(await store.claim(req)).toMatchObject({ outcome: "claimed", record: { recoveryPoint: "started" } });
    });

    it("on release keeps the recovery point and lets the next claim resume at once", async () => {
      const req = request();
      const first = await store.claim(req);
      if (first.outcome !== "claimed") throw new Error("expected a claim");
      await store.advance(first.lease, "payment_created", 30_000);
      await store.release(first.lease);
      const next = await store.claim(req);
      expect(next).toMatchObject({ outcome: "claimed", record: { recoveryPoint: "payment_created" } });
    });

    it("forgets a key once its retention has passed: it reads as absent and is claimed afresh", async () => {
      const req = request({ retentionMs: 150 });
      const first = await store.claim(req);
      if (first.outcome !== "claimed") throw new Error("expected a claim");
      await store.complete(first.lease, success);
      // Waited, not advanced: retention may be the backing store's own expiry (Redis's key TTL), on its clock.
      await sleep(250);
      expect(await store.read(req)).toBeNull();
      const again = await store.claim({ ...req, fingerprint: "c".repeat(64) });
      expect(again).toMatchObject({ outcome: "claimed", record: { recoveryPoint: "started", outcome: null } });
    });

    it("forgets a key only for its lease holder: then it reads as absent and runs anew", async () => {
      const req = request();
      const first = await store.claim(req);
      if (first.outcome !== "claimed") throw new Error("expected a claim");
      await expect(store.forget({ ...first.lease, ownerToken: randomUUID() })).rejects.toBeInstanceOf(LeaseLostError);
      await store.forget(first.lease);
      expect(await store.read(req)).toBeNull();
      expect((await store.claim(req)).outcome).toBe("claimed");
    });

    it("lists as abandoned the unfinished keys nobody holds or touched since the given time, and no others", async () => {
      const lapsed = request({ leaseMs: 50 });
      const released = request();
      const held = request();
      const completed = request({ leaseMs: 50 });
      const [, releasedClaim, , completedClaim] = await Promise.all(
        [lapsed, released, held, completed].map((req) => store.claim(req)),
      );
      if (releasedClaim?.outcome !== "claimed" || completedClaim?.outcome !== "claimed") {
        throw new Error("expected claims");
      }
      await store.advance(releasedClaim.lease, "payment_created", 30_000);
      await store.release(releasedClaim.lease);
      await store.complete(completedClaim.lease, success);
      clock.advance(100);

      const keysOf = async (idleSince: Date) =>
        new Set((await store.abandoned(idleSince, 10_000)).map((record) => record.key));
      // Released a moment ago: left to its client's retry until it has been idle long enough.
      const justNow = await keysOf(new Date(clock.now().getTime() - 60_000));
      expect(justNow.has(lapsed.key) || justNow.has(released.key)).toBe(false);
      const idle = await keysOf(clock.now());
      expect(idle.has(lapsed.key)).toBe(true);
      expect(idle.has(released.key)).toBe(true);
      expect(idle.has(held.key)).toBe(false);
      expect(idle.has(completed.key)).toBe(false);
    });

    describe("running work under a claim (runClaimed)", () => {
      const customerRows = (id: string) => businessDatabase.db.select().from(customers).where(eq(customers.id, id));
      const writeCustomer = (id: string) => async (business: Executor) => {
        await business.insert(customers).values({ id });
        return '{"done":true}';
      };

      it("commits the business write and stores its outcome: the key then replays", async () => {
        const req = request();
        const ran = await store.runClaimed(req, writeCustomer(req.scope));
        expect(ran).toMatchObject({ outcome: "ran", body: '{"done":true}', record: { key: req.key } });
        expect(await customerRows(req.scope)).toHaveLength(1);
        expect(await store.read(req)).toMatchObject({
          status: "completed",
          outcome: { kind: "success", body: '{"done":true}' },
        });
        const again = vi.fn(writeCustomer(req.scope));
        expect(await store.runClaimed(req, again)).toMatchObject({
          outcome: "existing",
          record: { status: "completed" },
        });
        expect(again).not.toHaveBeenCalled();
      });

      it("leaves neither the key nor the business row when the work fails", async () => {
        const req = request();
        const failing = store.runClaimed(req, async (business) => {
          await writeCustomer(req.scope)(business);
          throw new Error("crashed before the commit");
        });
        await expect(failing).rejects.toThrow("crashed before the commit");
        expect(await customerRows(req.scope)).toEqual([]);
        expect(await store.read(req)).toBeNull();
      });

      it("never runs a racing duplicate's work; once the original commits, the duplicate finds its outcome", async () => {
        const req = request();
        const originalMayCommit = deferred();
        const originalRunning = deferred();
        const original = store.runClaimed(req, async (business) => {
          originalRunning.resolve();
          await originalMayCommit.promise;
          return writeCustomer(req.scope)(business);
        });
        await originalRunning.promise;
        const duplicateWork = vi.fn(writeCustomer(req.scope));
        // In the database the duplicate waits on the original's row lock; elsewhere it sees the key held.
        const duplicate = store.runClaimed(req, duplicateWork);
        setTimeout(originalMayCommit.resolve, 100);
        await original;
        const seen = await duplicate;
        expect(["existing", "busy"]).toContain(seen.outcome);
        expect(duplicateWork).not.toHaveBeenCalled();
        expect(await store.runClaimed(req, duplicateWork)).toMatchObject({
          outcome: "existing",
          record: { status: "completed", outcome: { kind: "success", body: '{"done":true}' } },
        });
        expect(await customerRows(req.scope)).toHaveLength(1);
      });

      it("refuses a key bound to another request without running the work", async () => {
        const req = request();
        await store.runClaimed(req, writeCustomer(req.scope));
        const other = vi.fn(writeCustomer(randomUUID()));
        const seen = await store.runClaimed({ ...req, fingerprint: "b".repeat(64) }, other);
        expect(seen).toMatchObject({ outcome: "existing", record: { fingerprint: req.fingerprint } });
        expect(other).not.toHaveBeenCalled();
      });
    });
  });
}
