import type { Env } from "./env";
import { benchRouter } from "./routers/bench";
import { catalogRouter } from "./routers/catalog";
import { labRouter } from "./routers/lab";
import { merchantRouter } from "./routers/merchant";
import { ordersRouter } from "./routers/orders";
import { paymentsRouter } from "./routers/payments";
import { sessionRouter } from "./routers/session";
import { createTRPCRouter, mergeRouters } from "./trpc";

const shop = {
  session: sessionRouter,
  catalog: catalogRouter,
  orders: ordersRouter,
  payments: paymentsRouter,
  merchant: merchantRouter,
};

/** The shop and its training lab, as `npm run demo` serves them (and as the browser's client is typed). */
export const appRouter = createTRPCRouter({ ...shop, lab: labRouter });

/** The shop alone: what is served with ENABLE_LAB=false, so no lab procedure exists at all. */
export const shopRouter = createTRPCRouter(shop);

const bench = createTRPCRouter({ bench: benchRouter });
const routers = {
  lab: appRouter,
  shop: shopRouter,
  // The unguarded baselines of `npm run bench`: served only when ENABLE_BENCH_PROCEDURES=true.
  labWithBench: mergeRouters(appRouter, bench),
  shopWithBench: mergeRouters(shopRouter, bench),
};

/** The router this server serves, by its environment. */
export function servedRouter(env: Pick<Env, "ENABLE_LAB" | "ENABLE_BENCH_PROCEDURES">) {
  const withBench = env.ENABLE_BENCH_PROCEDURES === "true";
  if (env.ENABLE_LAB === "true") return withBench ? routers.labWithBench : routers.lab;
  return withBench ? routers.shopWithBench : routers.shop;
}

export type AppRouter = typeof appRouter;
