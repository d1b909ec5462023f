import { describe, expect, it, vi } from "vitest";
import { CompletedRecordCache } from "./completed-cache";
import type { IdempotencyRecord } from "./store";

const record = (overrides: Partial<IdempotencyRecord> = {}): IdempotencyRecord => ({
  scope: "customer-1",
  key: "key-1",
  procedurePath: "orders.place",
  fingerprint: "f".repeat(64),
  status: "completed",
  recoveryPoint: "finished",
  leaseExpiresAt: null,
  outcome: { kind: "success", body: '{"order":{"id":7}}' },
  firstSeenAt: new Date(),
  expiresAt: new Date(Date.now() + 60_000),
  ...overrides,
});

describe("the completed-record cache", () => {
  it("answers a completed record by scope and key, and keeps nothing unfinished", () => {
    const cache = new CompletedRecordCache();
    cache.remember(record({ key: "open", status: "in_progress" }));
    cache.remember(record());
    expect(cache.get({ scope: "customer-1", key: "key-1" })?.outcome).toEqual(record().outcome);
    expect(cache.get({ scope: "customer-2", key: "key-1" })).toBeUndefined();
    expect(cache.get({ scope: "customer-1", key: "open" })).toBeUndefined();
  });

  it("forgets a record at its expiry, as the store does", () => {
    const cache = new CompletedRecordCache();
    cache.remember(record({ expiresAt: new Date(Date.now() - 1) }));
    expect(cache.get({ scope: "customer-1", key: "key-1" })).toBeUndefined();
  });

  it("tells its siblings once of each record it learned itself, and never passes back what they told it", () => {
    const cache = new CompletedRecordCache();
    const learned = vi.fn();
    cache.onLearned = learned;
    cache.remember(record());
    cache.remember(record());
    cache.remember(record({ key: "from-a-sibling" }), true);
    expect(learned).toHaveBeenCalledTimes(1);
    expect(cache.get({ scope: "customer-1", key: "from-a-sibling" })).toBeDefined();
  });
});
