/**
 * The specification every IdempotencyStore must meet, written once against the interface.
 * Each store's test file runs it: `describeStoreConformance("MySQL", () => …)`.
 */
import { randomUUID } from "node:crypto";
import { beforeAll, describe, expect, it } from "vitest";
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

export function describeStoreConformance(name: string, openStore: (clock: TestClock) => Promise<IdempotencyStore>) {
  describe(`${name} idempotency store`, () => {
    let store: IdempotencyStore;
    const clock = new TestClock();
    beforeAll(async () => {
      store = await openStore(clock);
    });

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
  });
}
