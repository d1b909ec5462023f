import { catalogRouter } from "./routers/catalog";
import { merchantRouter } from "./routers/merchant";
import { ordersRouter } from "./routers/orders";
import { paymentsRouter } from "./routers/payments";
import { sessionRouter } from "./routers/session";
import { createTRPCRouter } from "./trpc";

/** The shop's procedures (contract §8): all the shop's server serves, and what its browser client is typed by. */
export const shopProcedures = {
  session: sessionRouter,
  catalog: catalogRouter,
  orders: ordersRouter,
  payments: paymentsRouter,
  merchant: merchantRouter,
};

export const appRouter = createTRPCRouter(shopProcedures);

export type AppRouter = typeof appRouter;
