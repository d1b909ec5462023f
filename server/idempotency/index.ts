/**
 * The idempotency layer's public surface: the protocol, its errors, the stores and the process's settings.
 * Services, the background work and scripts import from here only; routers opt in through the tRPC adapter
 * (`./procedure`), which is kept apart so that nothing here depends on tRPC.
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
export { idempotencySettings, separateIdempotencySettings } from "./settings";
export type { IdempotencyRecord, IdempotencyStore } from "./store";
