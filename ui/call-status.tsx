"use client";
import { isNetworkError, isRetryable, maxAttempts } from "./retry-policy";

/** The parts of a React Query mutation's state that say how an idempotent call is going. */
export interface CallState {
  isPending: boolean;
  isPaused: boolean;
  isError: boolean;
  failureCount: number;
  error: { message: string } | null;
}

export interface CallWording {
  /** "Placing your order…" */
  sending: string;
  /** "your order will be placed" */
  whenOnline: string;
  /** Why "Try again" is safe: "Try again sends the same order, so it is never placed twice." */
  safeToRepeat: string;
  /** While a call found unfinished on load is sent again: "Resuming your payment…" */
  resuming?: string;
}

/** One line for the live region while a call is under way; empty when idle. */
export function progressText(call: CallState, wording: CallWording, resuming = false): string {
  if (!call.isPending) return "";
  if (call.isPaused) return `You are offline; ${wording.whenOnline} when you are back online.`;
  if (call.failureCount > 0) return `Retrying (attempt ${call.failureCount + 1})…`;
  return (resuming && wording.resuming) || wording.sending;
}

/** Whether the call failed only because every automatic retry was spent: the same request may be sent again. */
export function retriesExhausted(call: CallState): boolean {
  return call.isError && isRetryable(call.error);
}

/** What went wrong and what to do next, in the shopper's words. */
export function failureText(call: CallState, wording: CallWording): string {
  if (!call.error) return "";
  const reason = isNetworkError(call.error)
    ? "We could not reach the shop. Check your connection."
    : call.error.message;
  if (!retriesExhausted(call)) return reason;
  return `We tried ${maxAttempts} times. ${reason} ${wording.safeToRepeat}`;
}

export function CallProgress({ text }: { text: string }) {
  return (
    <p className="call-status" role="status" aria-live="polite">
      {text && <span className="spinner" aria-hidden="true" />}
      {text}
    </p>
  );
}
