/**
 * The one place tRPC is set up: context, error formatting, and the procedure bases every router builds on.
 */
import { randomUUID } from "node:crypto";
import { initTRPC, TRPCError } from "@trpc/server";
import type { FetchCreateContextFnOptions } from "@trpc/server/adapters/fetch";
import { ZodError, z } from "zod";
import type { Executor } from "@/db/client";
import { isTransientInfrastructureError } from "@/db/errors";
import { appDatabase } from "./db";
import { env } from "./env";
import { appError, asAppError, ErrorDetails } from "./errors";
import { merchantScope } from "./idempotency";
import {
  type IdempotencyWiring,
  type IdempotentProcedureOptions,
  idempotencyOfCall,
  withIdempotencyKey,
} from "./idempotency/procedure";
import { idempotencySettings } from "./idempotency-settings";
import { instruments } from "./instruments";
import { clientAddress, consumeRateLimit } from "./rate-limits";
import { findMerchant } from "./services/merchants";
import {
  expiredSessionCookie,
  merchantSession,
  readCookie,
  sessionCookie,
  sessionCookieName,
  signSession,
  signSessionOf,
  verifySession,
  verifySessionOf,
} from "./session";

export function createContext({ req, resHeaders, info }: FetchCreateContextFnOptions) {
  return {
    db: appDatabase().db,
    env: env(),
    reqHeaders: req.headers,
    resHeaders,
    /** Per-call response headers are only unambiguous when the request carries one call. */
    isBatchCall: info.isBatchCall,
  };
}

export type Context = Awaited<ReturnType<typeof createContext>>;

const genericFailure = "Something went wrong on our side. Try again; a retry with the same key is never done twice.";

const t = initTRPC.context<Context>().create({
  // Never ship stacks to clients, whatever NODE_ENV says.
  isDev: false,
  errorFormatter({ shape, error }) {
    const zodError = error.cause instanceof ZodError ? error.cause : undefined;
    const details = error.cause instanceof ErrorDetails ? error.cause.details : {};
    return {
      ...shape,
      message: zodError
        ? `Invalid input: ${zodError.issues.map((issue) => `${issue.path.join(".") || "input"} ${issue.message}`).join("; ")}`
        : error.code === "INTERNAL_SERVER_ERROR"
          ? genericFailure
          : shape.message,
      data: {
        code: shape.data.code,
        httpStatus: shape.data.httpStatus,
        path: shape.data.path,
        ...(zodError ? { fieldErrors: z.flattenError(zodError).fieldErrors } : {}),
        ...details,
      },
    };
  },
});

export const createTRPCRouter = t.router;
export const createCallerFactory = t.createCallerFactory;
export const mergeRouters = t.mergeRouters;

/** Turns database outages and lock timeouts into a retryable 503 instead of a 500 with driver text. */
const transientFailuresAreUnavailable = t.middleware(async ({ next }) => {
  const result = await next();
  if (!result.ok && isTransientInfrastructureError(result.error.cause ?? result.error)) {
    throw appError("SERVICE_UNAVAILABLE", "The service is briefly unavailable. Try again in a moment.", {
      retryAfterMs: 1000,
    });
  }
  return result;
});

export const publicProcedure = t.procedure.use(transientFailuresAreUnavailable);

/** Every write counts against its author's budget (server/rate-limits.ts). */
function limitWrites(type: string, author: string, resHeaders: Headers) {
  return type === "mutation" ? consumeRateLimit("writes", author, resHeaders) : undefined;
}

/**
 * Resolves the guest customer from the signed cookie, minting one (and setting the cookie) on a first visit. The
 * customer's row is written only with its first order (services/orders.ts), so visits that write nothing, or
 * whose input is refused, leave nothing behind. A cookie that fails its signature check is refused and cleared,
 * never silently replaced.
 */
export const customerProcedure = publicProcedure.use(async ({ ctx, type, next }) => {
  const secure = ctx.env.SESSION_COOKIE_SECURE === "true";
  const cookie = readCookie(ctx.reqHeaders.get("cookie"), sessionCookieName(secure));
  const issue = (customerId: string) =>
    ctx.resHeaders.append("set-cookie", sessionCookie(signSession(customerId, ctx.env.SESSION_SECRET), secure));
  let customerId: string;
  if (cookie === undefined) {
    await consumeRateLimit("newSessions", clientAddress(ctx.reqHeaders), ctx.resHeaders);
    customerId = randomUUID();
    issue(customerId);
  } else {
    const verified = verifySession(cookie, ctx.env.SESSION_SECRET);
    if (verified === null) {
      ctx.resHeaders.append("set-cookie", expiredSessionCookie(secure));
      throw new TRPCError({
        code: "UNAUTHORIZED",
        message:
          "Your session cookie is not valid or has expired. It has been cleared: reload the page to start a new session.",
      });
    }
    customerId = verified.customerId;
    if (verified.renew) issue(customerId);
  }
  await limitWrites(type, `guest:${customerId}`, ctx.resHeaders);
  return next({ ctx: { customerId } });
});

/** The signed-in merchant of this request, or null: a missing, forged, expired or signed-out cookie is none. */
export async function currentMerchant(ctx: Pick<Context, "db" | "env" | "reqHeaders" | "resHeaders">) {
  const secure = ctx.env.SESSION_COOKIE_SECURE === "true";
  const cookie = readCookie(ctx.reqHeaders.get("cookie"), merchantSession.cookieName(secure));
  if (cookie === undefined) return null;
  const verified = verifySessionOf(merchantSession, cookie, ctx.env.SESSION_SECRET);
  const merchant = verified && (await findMerchant(ctx.db, Number(verified.subject)));
  if (!verified || !merchant || verified.issuedAt < merchant.signedOutAt) {
    ctx.resHeaders.append("set-cookie", expiredSessionCookie(secure, merchantSession));
    return null;
  }
  if (verified.renew) startMerchantSession(ctx, merchant.id);
  return merchant;
}

/** For pages rendered on the server: the merchant of a request, read from its headers. */
export function merchantOfRequest(reqHeaders: Headers) {
  return currentMerchant({ db: appDatabase().db, env: env(), reqHeaders, resHeaders: new Headers() });
}

export function startMerchantSession(ctx: Pick<Context, "env" | "resHeaders">, merchantId: number) {
  const secure = ctx.env.SESSION_COOKIE_SECURE === "true";
  const value = signSessionOf(merchantSession, String(merchantId), ctx.env.SESSION_SECRET);
  ctx.resHeaders.append("set-cookie", sessionCookie(value, secure, merchantSession));
}

export function endMerchantSession(ctx: Pick<Context, "env" | "resHeaders">) {
  ctx.resHeaders.append("set-cookie", expiredSessionCookie(ctx.env.SESSION_COOKIE_SECURE === "true", merchantSession));
}

/** Merchant-only actions (catalog edits, refunds, the order list): 401 without a merchant's session. */
export const adminProcedure = publicProcedure.use(async ({ ctx, type, next }) => {
  const merchant = await currentMerchant(ctx);
  if (!merchant) {
    throw new TRPCError({ code: "UNAUTHORIZED", message: "Sign in as the merchant at /admin/login to do this." });
  }
  await limitWrites(type, `merchant:${merchant.id}`, ctx.resHeaders);
  return next({ ctx: { merchant } });
});

/** How this app's procedures use the idempotency layer: the process's settings, its instruments and error mapping. */
function idempotencyWiring(ctx: Context): IdempotencyWiring<Executor> {
  return {
    settings: idempotencySettings(ctx.db, ctx.env),
    checkpoint: instruments().reached,
    toClientError: asAppError,
  };
}

function idempotencyIn(ctx: Context, scope: string, path: string, input: unknown) {
  const call = {
    reqHeaders: ctx.reqHeaders,
    resHeaders: ctx.resHeaders,
    isBatchCall: ctx.isBatchCall,
    path,
    scope,
    input,
  };
  return { call, wiring: idempotencyWiring(ctx) };
}

/**
 * A guest's idempotent write (contract §2), its keys scoped to the guest: the input gains `idempotencyKey`, and
 * the resolver gets `ctx.idempotency` to run its work once and replay it after.
 *
 *   place: idempotentProcedure(placeOrderInput).mutation(({ ctx, input }) =>
 *     ctx.idempotency.inTransaction((tx) => placeOrder(tx, …)))
 */
export function idempotentProcedure<Shape extends z.ZodRawShape>(
  input: z.ZodObject<Shape>,
  options: IdempotentProcedureOptions<z.infer<z.ZodObject<Shape>>> = {},
) {
  return customerProcedure.input(withIdempotencyKey(input)).use(({ ctx, input: parsed, path, next }) => {
    const { call, wiring } = idempotencyIn(ctx, ctx.customerId, path, parsed);
    return next({ ctx: { idempotency: idempotencyOfCall(call, wiring, options) } });
  });
}

/** A merchant's idempotent write, its keys in the merchant's scope. */
export function adminIdempotentProcedure<Shape extends z.ZodRawShape>(
  input: z.ZodObject<Shape>,
  options: IdempotentProcedureOptions<z.infer<z.ZodObject<Shape>>> = {},
) {
  return adminProcedure.input(withIdempotencyKey(input)).use(({ ctx, input: parsed, path, next }) => {
    const { call, wiring } = idempotencyIn(ctx, merchantScope, path, parsed);
    return next({ ctx: { idempotency: idempotencyOfCall(call, wiring, options) } });
  });
}
