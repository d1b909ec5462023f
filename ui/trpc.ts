"use client";
import { createTRPCClient, httpBatchLink, httpLink, httpSubscriptionLink, splitLink } from "@trpc/client";
import { createTRPCContext } from "@trpc/tanstack-react-query";
import type { AppRouter } from "@/server/root";

export const { TRPCProvider, useTRPC, useTRPCClient } = createTRPCContext<AppRouter>();

const url = "/api/trpc";

/**
 * Queries are batched; mutations go one per request so each carries its own status and headers
 * (a batch with mixed outcomes answers 207, and per-call headers such as Idempotent-Replayed are ambiguous);
 * subscriptions (the lab's timeline) are server-sent events.
 */
export function createBrowserTRPCClient() {
  return createTRPCClient<AppRouter>({
    links: [
      splitLink({
        condition: (op) => op.type === "subscription",
        true: httpSubscriptionLink({ url }),
        false: splitLink({
          condition: (op) => op.type === "mutation",
          true: httpLink({ url }),
          false: httpBatchLink({ url }),
        }),
      }),
    ],
  });
}
