import { createTRPCRouter, customerProcedure } from "../trpc";

export const sessionRouter = createTRPCRouter({
  /** Who am I; the first call of a visit sets the signed guest cookie. */
  me: customerProcedure.query(({ ctx }) => ({ customerId: ctx.customerId })),
});
