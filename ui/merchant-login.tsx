"use client";
import { useMutation } from "@tanstack/react-query";
import { type FormEvent, useState } from "react";
import { useTRPC } from "./trpc";

export function MerchantLogin() {
  const trpc = useTRPC();
  const [email, setEmail] = useState("");
  const [password, setPassword] = useState("");
  const login = useMutation(
    trpc.merchant.login.mutationOptions({
      onSuccess: () => window.location.assign("/admin"),
    }),
  );

  function submit(event: FormEvent) {
    event.preventDefault();
    if (!login.isPending) login.mutate({ email, password });
  }

  return (
    <form className="panel login" onSubmit={submit} aria-labelledby="login-title">
      <h2 id="login-title" className="panel__title">
        Sign in
      </h2>
      <label className="field">
        <span>Email</span>
        <input
          type="email"
          autoComplete="username"
          required
          value={email}
          onChange={(event) => setEmail(event.target.value)}
        />
      </label>
      <label className="field">
        <span>Password</span>
        <input
          type="password"
          autoComplete="current-password"
          required
          value={password}
          onChange={(event) => setPassword(event.target.value)}
        />
      </label>
      <button type="submit" className="button" disabled={login.isPending} aria-busy={login.isPending || undefined}>
        {login.isPending || login.isSuccess ? "Signing in…" : "Sign in"}
      </button>
      {login.isError && (
        <p role="alert" className="notice notice--error">
          {login.error.data ? login.error.message : "We could not reach the shop. Check your connection and try again."}
        </p>
      )}
    </form>
  );
}
