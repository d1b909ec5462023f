import { z } from "zod";

/** 1–255 visible ASCII characters (0x21–0x7E), as the Idempotency-Key draft and our UI's UUIDs allow. */
export const idempotencyKeySchema = z
  .string()
  .regex(/^[\x21-\x7e]{1,255}$/, "must be 1–255 visible ASCII characters (a UUID is a good choice)");

export const idempotencyKeyHeader = "idempotency-key";
export const replayedHeader = "idempotent-replayed";

/**
 * Keys are scoped to who sent them: a guest's to its customer id; the merchant's actions (refunds) share this one
 * scope, as one shop has one set of merchant keys. It cannot collide with a customer id (always a UUID).
 */
export const merchantScope = "merchant";
