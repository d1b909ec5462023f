import { LRUCache } from "lru-cache";
import type { IdempotencyRecord, KeyRef } from "./store";

/**
 * Completed outcomes never change until their retention ends, so a server may answer replays of keys it has
 * seen complete from memory, without a round trip to the store. Bounded in entries; an entry is dropped at the
 * record's own expiry, exactly when the store would forget it.
 *
 * Several processes of one server can share what they learn: `onLearned` hears of each record this process
 * learned for itself, to pass to the others, which hand it to `remember` as learned elsewhere.
 */
export class CompletedRecordCache {
  private readonly records: LRUCache<string, IdempotencyRecord>;
  onLearned?: (record: IdempotencyRecord) => void;

  constructor(maxEntries = 20_000) {
    this.records = new LRUCache({ max: maxEntries });
  }

  private static id(ref: KeyRef): string {
    return `${ref.scope}\u0000${ref.key}`;
  }

  get(ref: KeyRef): IdempotencyRecord | undefined {
    const id = CompletedRecordCache.id(ref);
    const record = this.records.get(id);
    if (record && record.expiresAt.getTime() <= Date.now()) {
      this.records.delete(id);
      return undefined;
    }
    return record;
  }

  /** Keeps a completed record; `learnedElsewhere` for one another process passed on (it is not passed back). */
  remember(record: IdempotencyRecord, learnedElsewhere = false): void {
    if (record.status !== "completed") return;
    const id = CompletedRecordCache.id(record);
    if (this.records.has(id)) return;
    this.records.set(id, record);
    if (!learnedElsewhere) this.onLearned?.(record);
  }
}
