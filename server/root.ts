import { catalogRouter } from "./routers/catalog";
import { sessionRouter } from "./routers/session";
import { createTRPCRouter } from "./trpc";

export const appRouter = createTRPCRouter({
  session: sessionRouter,
  catalog: catalogRouter,
});

export type AppRouter = typeof appRouter;
