"use client";
import { useMutation } from "@tanstack/react-query";
import { useTRPC } from "./trpc";

export function MerchantBar({ email }: { email: string }) {
  const trpc = useTRPC();
  const logout = useMutation(
    trpc.merchant.logout.mutationOptions({
      onSettled: () => window.location.assign("/admin/login"),
    }),
  );
  return (
    <p className="merchant-bar">
      Signed in as <strong data-testid="merchant-email">{email}</strong>{" "}
      <button
        type="button"
        className="button button--quiet button--small"
        disabled={logout.isPending}
        onClick={() => logout.mutate()}
      >
        Sign out
      </button>
    </p>
  );
}
