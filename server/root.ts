import { benchRouter } from "./routers/bench";
import { catalogRouter } from "./routers/catalog";
import { merchantRouter } from "./routers/merchant";
import { ordersRouter } from "./routers/orders";
import { paymentsRouter } from "./routers/payments";
import { sessionRouter } from "./routers/session";
import { createTRPCRouter, mergeRouters } from "./trpc";

export const appRouter = createTRPCRouter({
  session: sessionRouter,
  catalog: catalogRouter,
  orders: ordersRouter,
  payments: paymentsRouter,
  merchant: merchantRouter,
});

/** The app with the unguarded baselines of `npm run bench`: served only when ENABLE_BENCH_PROCEDURES=true. */
export const benchmarkedAppRouter = mergeRouters(appRouter, createTRPCRouter({ bench: benchRouter }));

export type AppRouter = typeof appRouter;
