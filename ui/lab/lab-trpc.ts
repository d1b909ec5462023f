"use client";
/** The lab page's own client, typed by the lab server's router (the shop's pages know nothing of the lab). */
import { createTRPCContext } from "@trpc/tanstack-react-query";
import type { LabRouter } from "@/server/lab/root";

export const {
  TRPCProvider: LabTRPCProvider,
  useTRPC: useLabTRPC,
  useTRPCClient: useLabTRPCClient,
} = createTRPCContext<LabRouter>();
