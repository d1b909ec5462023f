"use client";
import {
  createTRPCClient,
  httpBatchLink,
  httpLink,
  httpSubscriptionLink,
  splitLink,
  type TRPCLink,
} from "@trpc/client";
import type { AnyTRPCRouter } from "@trpc/server";
import { createTRPCContext } from "@trpc/tanstack-react-query";
import type { AppRouter } from "@/server/root";

export const { TRPCProvider, useTRPC, useTRPCClient } = createTRPCContext<AppRouter>();

const url = "/api/trpc";

/**
 * Queries are batched; mutations go one per request so each carries its own status and headers
 * (a batch with mixed outcomes answers 207, and per-call headers such as Idempotent-Replayed are ambiguous);
 * subscriptions (the lab's timeline) are server-sent events.
 */
const browserLinks: TRPCLink<AppRouter>[] = [
  splitLink({
    condition: (op) => op.type === "subscription",
    true: httpSubscriptionLink({ url }),
    false: splitLink({
      condition: (op) => op.type === "mutation",
      true: httpLink({ url }),
      false: httpBatchLink({ url }),
    }),
  }),
];

export const createBrowserTRPCClient = () => createTRPCClient<AppRouter>({ links: browserLinks });

/**
 * A client of another router built by the same tRPC setup (server/trpc.ts), such as the lab server's: the same
 * plain-JSON config, so the same links serve it (TypeScript cannot see that through a generic router).
 */
export function createBrowserClientOf<Router extends AnyTRPCRouter>() {
  return createTRPCClient<Router>({ links: browserLinks as unknown as TRPCLink<Router>[] });
}
