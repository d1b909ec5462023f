import { fetchRequestHandler } from "@trpc/server/adapters/fetch";
import { env } from "@/server/env";
import { guardApiRequest, maxBatchSize } from "@/server/request-guards";
import { appRouter, benchmarkedAppRouter } from "@/server/root";
import { createContext } from "@/server/trpc";

async function handler(incoming: Request) {
  const req = await guardApiRequest(incoming, env().APP_ORIGINS);
  if (req instanceof Response) return req;
  return fetchRequestHandler({
    endpoint: "/api/trpc",
    req,
    router: env().ENABLE_BENCH_PROCEDURES === "true" ? benchmarkedAppRouter : appRouter,
    createContext,
    maxBatchSize,
    onError({ error, path }) {
      // The client gets a typed, sanitised error; the full story stays in the server log.
      if (error.code === "INTERNAL_SERVER_ERROR") console.error(`tRPC ${path ?? "?"} failed:`, error.cause ?? error);
    },
  });
}

export { handler as GET, handler as POST };
