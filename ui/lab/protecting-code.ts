/**
 * Which of the shop's functions held in each lab scenario. scripts/lab-code-excerpts.ts reads this, takes each
 * function from the repository as it is (TypeScript compiler API) and writes ui/lab/code-excerpts.generated.json
 * for ui/lab/protecting-code-view.tsx. A name that no longer exists fails the script, and so `build`, `dev` and
 * `typecheck`: the lab never shows code the shop no longer runs.
 *
 * `name` is a top-level function, a top-level `const` (an arrow function, or a table of db/schema.ts), or a class
 * method as `Class.method`. Only server/idempotency/, server/services/ and db/schema.ts are referenced: they stay
 * where they are.
 */

export type LabScenarioId =
  | "double-click"
  | "lost-response"
  | "lost-request"
  | "slow-first"
  | "other-process"
  | "crash"
  | "provider-answer-lost"
  | "key-reuse"
  | "two-keys-one-order"
  | "patterns";

export interface ProtectingFunction {
  /** From the repository's root. */
  file: string;
  name: string;
}

const execute = "server/idempotency/execute.ts";
const mysqlStore = "server/idempotency/mysql-store.ts";
const payments = "server/services/payments.ts";

export const protectingCode: Readonly<Record<LabScenarioId, readonly ProtectingFunction[]>> = {
  // The second send finds the key held, waits for the original, and replays its stored answer.
  "double-click": [
    { file: execute, name: "IdempotentExecution.inTransaction" },
    { file: execute, name: "IdempotentExecution.claim" },
  ],
  // The answer is stored in the order's own transaction, so a retry finds it and replays it byte for byte.
  "lost-response": [
    { file: mysqlStore, name: "MysqlIdempotencyStore.runClaimedOnce" },
    { file: execute, name: "answer" },
  ],
  // Nothing is claimed outside the business transaction: a request that never ran left no key, and the retry runs.
  "lost-request": [
    { file: execute, name: "IdempotentExecution.inTransaction" },
    { file: mysqlStore, name: "MysqlIdempotencyStore.claimWith" },
  ],
  // The retry waits a bounded time for the in-flight original, then answers 409 with a time to retry.
  "slow-first": [
    { file: execute, name: "IdempotentExecution.claim" },
    { file: execute, name: "inFlight" },
  ],
  // Keys and answers live in the store, and completed answers are shared between processes: any process replays.
  "other-process": [
    { file: mysqlStore, name: "MysqlIdempotencyStore.claimWith" },
    { file: execute, name: "IdempotentExecution.remembered" },
    { file: "server/idempotency/completed-cache.ts", name: "CompletedRecordCache.remember" },
  ],
  // A lease and recovery points: the retry takes over once the dead attempt's lease lapses and resumes the payment.
  crash: [
    { file: execute, name: "IdempotentExecution.withLease" },
    { file: payments, name: "pay" },
  ],
  // The provider's key is derived from the payment: asking again finds the first charge instead of making another.
  "provider-answer-lost": [
    { file: payments, name: "providerKeyFor" },
    { file: payments, name: "askProvider" },
  ],
  // A key names one request: its fingerprint must match, or the request is refused with 422.
  "key-reuse": [
    { file: execute, name: "assertSameRequest" },
    { file: "server/idempotency/fingerprint.ts", name: "requestFingerprint" },
  ],
  // Two keys, one order: the order row is held by the first payment, and one success per order is a unique index.
  "two-keys-one-order": [
    { file: payments, name: "createPayment" },
    { file: "db/schema.ts", name: "payments" },
  ],
  // Idempotent by construction: a versioned rename, a link upsert, and a Redis claim with a lease.
  patterns: [
    { file: "server/services/catalog.ts", name: "renameProduct" },
    { file: "server/services/catalog.ts", name: "linkCategory" },
    { file: "server/idempotency/redis-store.ts", name: "RedisIdempotencyStore.claim" },
  ],
};

/** One function as the lab shows it: where it is, and its text with the JSDoc above it. */
export interface CodeExcerpt {
  file: string;
  name: string;
  /** 1-based, inclusive: from the JSDoc's first line (when it has one) to the closing line. */
  startLine: number;
  endLine: number;
  /** The source lines startLine…endLine, with their common indentation removed. */
  code: string;
}

export type CodeExcerpts = Partial<Record<string, CodeExcerpt[]>>;
