/**
 * The tRPC face of the idempotency layer. A procedure opts in by choosing the base:
 *
 *   place: idempotentProcedure(placeOrderInput).mutation(({ ctx, input }) =>
 *     ctx.idempotency.inTransaction((tx) => placeOrder(tx, …)))
 *
 * The base adds `idempotencyKey` to the input (or takes the Idempotency-Key header of a single call), scopes the
 * key to the signed-in customer (`adminIdempotentProcedure`: to the merchant), fingerprints the rest of the
 * input, and hands the resolver an `IdempotentExecution` that runs the contract: run once, replay after.
 */
import type { z } from "zod";
import type { Executor, Transaction } from "@/db/client";
import { appError, asAppError } from "../errors";
import { crashIfRequested } from "../faults";
import { adminProcedure, type Context, customerProcedure } from "../trpc";
import { IdempotentExecution, type LeasedStep, type Transact } from "./execute";
import { requestFingerprint } from "./fingerprint";
import { idempotencyKeyHeader, idempotencyKeySchema, merchantScope, replayedHeader } from "./key";
import { idempotencySettings } from "./settings";

/** The key from the input or, for a single call, the Idempotency-Key header; both given must agree. */
function resolveKey(fromInput: string | undefined, ctx: Context): string {
  const fromHeader = ctx.reqHeaders.get(idempotencyKeyHeader) ?? undefined;
  if (fromHeader !== undefined && ctx.isBatchCall) {
    throw appError("BAD_REQUEST", "Batched calls must send idempotencyKey in each call's input, not as a header.");
  }
  if (fromHeader !== undefined && !idempotencyKeySchema.safeParse(fromHeader).success) {
    throw appError("BAD_REQUEST", "The Idempotency-Key header must be 1–255 visible ASCII characters.");
  }
  if (fromInput !== undefined && fromHeader !== undefined && fromInput !== fromHeader) {
    throw appError("BAD_REQUEST", "The Idempotency-Key header and idempotencyKey input differ. Send one key.");
  }
  const key = fromInput ?? fromHeader;
  if (key === undefined) {
    throw appError(
      "BAD_REQUEST",
      "This request needs an idempotency key: send idempotencyKey in the input or an Idempotency-Key header.",
    );
  }
  return key;
}

export interface IdempotentProcedureOptions<Input> {
  /**
   * What identifies the request, when not the whole input: e.g. a card's last four digits instead of its number,
   * so that no derivative of a full card number is ever stored.
   */
  fingerprintOf?: (input: Input) => unknown;
}

function withKey<Shape extends z.ZodRawShape>(input: z.ZodObject<Shape>) {
  return input.extend({ idempotencyKey: idempotencyKeySchema.optional() });
}

/** What the resolver gets as `ctx.idempotency`, for a key in `scope`. */
function idempotencyFor<Input>(
  ctx: Context,
  scope: string,
  parsed: unknown,
  path: string,
  options: IdempotentProcedureOptions<Input>,
) {
  const { idempotencyKey, ...rest } = parsed as { idempotencyKey?: string };
  const request = options.fingerprintOf ? options.fingerprintOf(rest as Input) : rest;
  const key = resolveKey(idempotencyKey, ctx);
  const transact: Transact = (fn) => ctx.db.transaction((tx: Transaction) => fn(tx));
  const execution = new IdempotentExecution(
    { scope, key, procedurePath: path, fingerprint: requestFingerprint(path, request) },
    idempotencySettings(ctx.db, ctx.env),
    {
      onReplay: () => {
        if (!ctx.isBatchCall) ctx.resHeaders.set(replayedHeader, "true");
      },
      checkpoint: (point) => crashIfRequested(ctx.reqHeaders, path, point),
    },
  );
  // The layer's own answers (in flight, key reused, store unavailable, a stored error) become tRPC errors here.
  const answered = <T>(execution: Promise<T>) =>
    execution.catch((error: unknown) => {
      throw asAppError(error);
    });
  return {
    key,
    /** Work inside the business database: claim, writes and outcome commit together. */
    inTransaction: <T>(work: (tx: Executor) => Promise<T>) =>
      answered(execution.inTransaction<T, Executor>(transact, work)),
    /** Multi-step work with side effects outside the database: resumable from recorded points. */
    withLease: <T>(work: (step: LeasedStep) => Promise<T>) => answered(execution.withLease(work)),
    /** Named points inside the work where tests may inject a crash. */
    checkpoint: (point: string) => crashIfRequested(ctx.reqHeaders, path, point),
  };
}

/** A guest's write, its keys scoped to the guest. */
export function idempotentProcedure<Shape extends z.ZodRawShape>(
  input: z.ZodObject<Shape>,
  options: IdempotentProcedureOptions<z.infer<z.ZodObject<Shape>>> = {},
) {
  return customerProcedure
    .input(withKey(input))
    .use(({ ctx, input: parsed, path, next }) =>
      next({ ctx: { idempotency: idempotencyFor(ctx, ctx.customerId, parsed, path, options) } }),
    );
}

/** A merchant's write, its keys in the merchant's scope. */
export function adminIdempotentProcedure<Shape extends z.ZodRawShape>(
  input: z.ZodObject<Shape>,
  options: IdempotentProcedureOptions<z.infer<z.ZodObject<Shape>>> = {},
) {
  return adminProcedure
    .input(withKey(input))
    .use(({ ctx, input: parsed, path, next }) =>
      next({ ctx: { idempotency: idempotencyFor(ctx, merchantScope, parsed, path, options) } }),
    );
}

export type { WithIdempotency } from "./execute";
