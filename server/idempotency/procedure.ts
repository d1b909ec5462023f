/**
 * The request face of the idempotency layer, for any procedure of an RPC framework. The app's tRPC setup builds
 * its bases on it (server/trpc.ts), so a procedure opts in by choosing one:
 *
 *   place: idempotentProcedure(placeOrderInput).mutation(({ ctx, input }) =>
 *     ctx.idempotency.inTransaction((tx) => placeOrder(tx, …)))
 *
 * `withIdempotencyKey` adds `idempotencyKey` to the procedure's input; `idempotencyOfCall` takes that key (or the
 * Idempotency-Key header of a single call), fingerprints the rest of the input, and hands the resolver an
 * `IdempotentExecution` that runs the contract: run once, replay after.
 */
import type { z } from "zod";
import { IdempotencyError } from "./errors";
import { type IdempotencySettings, IdempotentExecution, type LeasedStep } from "./execute";
import { requestFingerprint } from "./fingerprint";
import { idempotencyKeyHeader, idempotencyKeySchema, replayedHeader } from "./key";

/** One call of a procedure, as the layer needs to see it. */
export interface ProcedureCall {
  reqHeaders: Headers;
  resHeaders: Headers;
  /** Per-call response headers are only unambiguous when the request carries one call. */
  isBatchCall: boolean;
  path: string;
  /** Whose keys: a guest's customer id, or the merchant scope. */
  scope: string;
  /** The parsed input, `idempotencyKey` included. */
  input: unknown;
}

/** What the app hands the layer for each call. */
export interface IdempotencyWiring<Business> {
  settings: IdempotencySettings<Business>;
  /** Named points of the protocol and of the work, where a test or lab server may crash or delay the request. */
  checkpoint?(point: string, detail?: string): void | Promise<void>;
  /** The layer's own answers (a bad key, in flight, key reused, unavailable, a stored error) as clients get them. */
  toClientError(error: unknown): unknown;
}

export interface IdempotentProcedureOptions<Input> {
  /**
   * What identifies the request, when not the whole input: e.g. a card's last four digits instead of its number,
   * so that no derivative of a full card number is ever stored.
   */
  fingerprintOf?: (input: Input) => unknown;
}

export function withIdempotencyKey<Shape extends z.ZodRawShape>(input: z.ZodObject<Shape>) {
  return input.extend({ idempotencyKey: idempotencyKeySchema.optional() });
}

const badKey = (message: string) => new IdempotencyError("bad_key", message);

/** The key from the input or, for a single call, the Idempotency-Key header; both given must agree. */
function resolveKey(fromInput: string | undefined, call: ProcedureCall): string {
  const fromHeader = call.reqHeaders.get(idempotencyKeyHeader) ?? undefined;
  if (fromHeader !== undefined && call.isBatchCall) {
    throw badKey("Batched calls must send idempotencyKey in each call's input, not as a header.");
  }
  if (fromHeader !== undefined && !idempotencyKeySchema.safeParse(fromHeader).success) {
    throw badKey("The Idempotency-Key header must be 1–255 visible ASCII characters.");
  }
  if (fromInput !== undefined && fromHeader !== undefined && fromInput !== fromHeader) {
    throw badKey("The Idempotency-Key header and idempotencyKey input differ. Send one key.");
  }
  const key = fromInput ?? fromHeader;
  if (key === undefined) {
    throw badKey(
      "This request needs an idempotency key: send idempotencyKey in the input or an Idempotency-Key header.",
    );
  }
  return key;
}

/** What the resolver gets as `ctx.idempotency`. */
export function idempotencyOfCall<Business, Input>(
  call: ProcedureCall,
  wiring: IdempotencyWiring<Business>,
  options: IdempotentProcedureOptions<Input> = {},
) {
  const { idempotencyKey, ...rest } = call.input as { idempotencyKey?: string };
  const request = options.fingerprintOf ? options.fingerprintOf(rest as Input) : rest;
  let key: string;
  try {
    key = resolveKey(idempotencyKey, call);
  } catch (error) {
    throw wiring.toClientError(error);
  }
  const { scope, path } = call;
  const execution = new IdempotentExecution(
    { scope, key, procedurePath: path, fingerprint: requestFingerprint(path, request) },
    wiring.settings,
    {
      onReplay: () => {
        if (!call.isBatchCall) call.resHeaders.set(replayedHeader, "true");
      },
      checkpoint: wiring.checkpoint,
    },
  );
  const answered = <T>(execution: Promise<T>) =>
    execution.catch((error: unknown) => {
      throw wiring.toClientError(error);
    });
  return {
    key,
    /** Work inside the business database: claim, writes and outcome commit together. */
    inTransaction: <T>(work: (business: Business) => Promise<T>) => answered(execution.inTransaction(work)),
    /** Multi-step work with side effects outside the database: resumable from recorded points. */
    withLease: <T, Point extends string>(work: (step: LeasedStep<Point>) => Promise<T>) =>
      answered(execution.withLease(work)),
    /** Named points inside the work where tests may inject a crash. */
    checkpoint: (point: string) => wiring.checkpoint?.(point),
  };
}

export type { WithIdempotency } from "./execute";
