import { z } from "zod";
import { appError } from "../errors";
import { rowId } from "../inputs";
import { clientAddress, consumeRateLimit } from "../rate-limits";
import { authenticateMerchant, merchantEmail, signOutEverywhere } from "../services/merchants";
import { merchantOrderPage } from "../services/order-views";
import {
  adminProcedure,
  createTRPCRouter,
  currentMerchant,
  endMerchantSession,
  publicProcedure,
  startMerchantSession,
} from "../trpc";

const loginInput = z.object({
  email: merchantEmail,
  // Bounded so a huge "password" cannot make the server hash megabytes; the real rule is set-up's.
  password: z.string().min(1).max(256),
});

const orderListInput = z.object({
  /** The last order of the previous page: the list goes on with the orders placed before it. */
  before: z.object({ createdAt: z.iso.datetime(), id: rowId }).optional(),
  limit: z.number().int().min(1).max(100).default(25),
});

/** The merchant's session and back office. Signing in and out need no idempotency key: both are idempotent. */
export const merchantRouter = createTRPCRouter({
  /** Who is signed in as the merchant, or null. */
  me: publicProcedure.query(async ({ ctx }) => {
    const merchant = await currentMerchant(ctx);
    return { merchant: merchant && { email: merchant.email } };
  }),

  /** Attempts count per email and per client address, so guessing is slow whichever one an attacker varies. */
  login: publicProcedure.input(loginInput).mutation(async ({ ctx, input }) => {
    await consumeRateLimit("logins", `email:${input.email}`, ctx.resHeaders);
    await consumeRateLimit("logins", `address:${clientAddress(ctx.reqHeaders)}`, ctx.resHeaders);
    const merchant = await authenticateMerchant(ctx.db, input.email, input.password);
    if (!merchant) throw appError("UNAUTHORIZED", "That email and password do not match a merchant account.");
    startMerchantSession(ctx, merchant.id);
    return { merchant: { email: merchant.email } };
  }),

  /** Ends every session of this merchant account, on every device. */
  logout: adminProcedure.mutation(async ({ ctx }) => {
    await signOutEverywhere(ctx.db, ctx.merchant.id, Math.floor(Date.now() / 1000));
    endMerchantSession(ctx);
    return { signedOut: true };
  }),

  /** The newest orders first, each with its succeeded payment and what has been refunded of it. */
  orders: adminProcedure.input(orderListInput).query(({ ctx, input }) => merchantOrderPage(ctx.db, input)),
});
