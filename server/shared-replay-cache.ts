/**
 * The processes of one server (server/main.ts) share the completed records each learns, so that a replay is
 * answered from memory whichever process it lands on. Without this, with connections dealt round-robin, half of
 * all replays on two processes missed the cache and cost a database transaction (measured: replays at 0.49× a
 * trivial write on two processes, 0.80× on one). A completed record never changes until its retention ends, so a
 * copy held anywhere is as good as the store's.
 */
import cluster from "node:cluster";
import type { CompletedRecordCache, IdempotencyRecord } from "./idempotency";

const messageType = "eoc:completed-records";
/** Records are passed on in batches at most this old: one message per batch instead of one per record. */
const batchMs = 5;

interface CompletedRecordMessage {
  type: typeof messageType;
  records: IdempotencyRecord[];
}

function isCompletedRecordMessage(message: unknown): message is CompletedRecordMessage {
  return (message as { type?: unknown } | null)?.type === messageType;
}

/** In a server process: passes what this cache learns to the primary, and keeps what the others learned. */
export function shareWithSiblingProcesses(cache: CompletedRecordCache): void {
  if (!cluster.isWorker || !process.send) return;
  const send = process.send.bind(process);
  let batch: IdempotencyRecord[] = [];
  cache.onLearned = (record) => {
    if (batch.length === 0) {
      setTimeout(() => {
        send({ type: messageType, records: batch } satisfies CompletedRecordMessage);
        batch = [];
      }, batchMs).unref();
    }
    batch.push(record);
  };
  process.on("message", (message: unknown) => {
    if (!isCompletedRecordMessage(message)) return;
    for (const record of message.records) cache.remember(record, true);
  });
}

/** In the primary: passes each batch a process learned to every other process. */
export function relayCompletedRecords(): void {
  cluster.on("message", (from, message: unknown) => {
    if (!isCompletedRecordMessage(message)) return;
    for (const worker of Object.values(cluster.workers ?? {})) {
      if (worker && worker !== from && worker.isConnected()) worker.send(message);
    }
  });
}
