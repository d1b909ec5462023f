import { benchRouter } from "./routers/bench";
import { catalogRouter } from "./routers/catalog";
import { merchantRouter } from "./routers/merchant";
import { ordersRouter } from "./routers/orders";
import { paymentsRouter } from "./routers/payments";
import { sessionRouter } from "./routers/session";
import { createTRPCRouter } from "./trpc";

export const appRouter = createTRPCRouter({
  session: sessionRouter,
  catalog: catalogRouter,
  orders: ordersRouter,
  payments: paymentsRouter,
  merchant: merchantRouter,
  bench: benchRouter,
});

export type AppRouter = typeof appRouter;
