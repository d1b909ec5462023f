/**
 * The idempotency layer's public surface: the protocol, its errors and the stores. Services, the background work
 * and scripts import from here only; procedures opt in through the request adapter (`./procedure`), which the
 * app's tRPC setup wires to its bases. The layer reads no environment and imports no app code: the app hands it
 * its settings (server/idempotency-settings.ts).
 */
export { CompletedRecordCache } from "./completed-cache";
export {
  type ErrorPolicy,
  IdempotencyError,
  type IdempotencyMeta,
  type StoredError,
  StoredErrorAnswer,
} from "./errors";
export {
  type IdempotencySettings,
  IdempotentExecution,
  KeyForgottenError,
  type LeasedStep,
  type WithIdempotency,
} from "./execute";
export { requestFingerprint } from "./fingerprint";
export { merchantScope } from "./key";
export { MysqlIdempotencyStore } from "./mysql-store";
export { RedisIdempotencyStore, redisKey } from "./redis-store";
export type { IdempotencyRecord, IdempotencyStore, Transact } from "./store";
