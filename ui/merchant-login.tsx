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
      <Field label="Email" type="email" autoComplete="username" value={email} onChange={setEmail} />
      <Field label="Password" type="password" autoComplete="current-password" value={password} onChange={setPassword} />
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

function Field(props: {
  label: string;
  type: "email" | "password";
  autoComplete: string;
  value: string;
  onChange: (value: string) => void;
}) {
  return (
    <label className="field">
      <span>{props.label}</span>
      <input
        type={props.type}
        autoComplete={props.autoComplete}
        required
        value={props.value}
        onChange={(event) => props.onChange(event.target.value)}
      />
    </label>
  );
}
