"use client";
import { useMutation, useQueryClient } from "@tanstack/react-query";
import type { inferRouterInputs } from "@trpc/server";
import { useCallback, useEffect, useRef, useState } from "react";
import type { AppRouter } from "@/server/root";
import { type TestCardNumber, testCardNumbers } from "@/shop/test-cards";
import { clearIntent, keyForIntent, payIntent, readIntent, settleIntent } from "./intent-key";
import { errorData, idempotentRetry } from "./retry-policy";
import { useTRPC } from "./trpc";
import { useSingleFlight } from "./use-single-flight";

type PayInput = inferRouterInputs<AppRouter>["payments"]["pay"];

/** Only last four digits are ever stored; for the test cards they name the card, so a resume can find it. */
export function cardEndingIn(last4: string): TestCardNumber | undefined {
  return testCardNumbers.find((card) => card.endsWith(last4));
}

/** This tab's unfinished pay intent for the order (a declined one is finished), with its card, if any. */
export function unfinishedPayIntent(orderId: number): { key: string; card: TestCardNumber } | undefined {
  const intent = readIntent(payIntent(orderId));
  const card = intent && !intent.settled ? cardEndingIn(intent.content) : undefined;
  return intent && card ? { key: intent.key, card } : undefined;
}

/**
 * Paying one order: one key per (order, card) intent, automatic retries with that key, a guard against a second
 * click, and, when this tab holds an unfinished intent for an unpaid order (a reload, a duplicated tab), an
 * automatic resume with the same key.
 */
export function usePayment(orderId: number, orderStatus: string) {
  const trpc = useTRPC();
  const queryClient = useQueryClient();
  const intent = payIntent(orderId);
  const sending = useSingleFlight();
  const resumeChecked = useRef(false);
  const [resuming, setResuming] = useState(false);

  const mutation = useMutation(
    trpc.payments.pay.mutationOptions({
      ...idempotentRetry,
      onSuccess: (_result, { idempotencyKey }) => {
        if (idempotencyKey) clearIntent(intent, idempotencyKey);
      },
      onError: (error, { idempotencyKey }) => {
        if (!idempotencyKey || errorData(error)?.code !== "PAYMENT_REQUIRED") return;
        const payment = errorData(error)?.payment as { declineCode?: string } | undefined;
        // Interrupted before charging ("pay again") needs a new key; a decline keeps its key so that paying again
        // with the same card replays the decline instead of asking the bank twice.
        if (payment?.declineCode === "not_completed") clearIntent(intent, idempotencyKey);
        else settleIntent(intent, idempotencyKey);
      },
      onSettled: () => {
        sending.end();
        setResuming(false);
        // Not awaited: the answer is shown at once; the order's status catches up when the refetch lands.
        void queryClient.invalidateQueries({ queryKey: trpc.orders.get.queryKey({ orderId }) });
      },
    }),
  );
  const { mutate } = mutation;

  const send = useCallback(
    (variables: PayInput, resume = false) => {
      if (!sending.start()) return;
      setResuming(resume);
      mutate(variables);
    },
    [mutate, sending],
  );

  /** Pays with this card: the same key as before for the same card, a new one for another card. */
  const pay = (card: TestCardNumber) => send({ idempotencyKey: keyForIntent(intent, card.slice(-4)), orderId, card });

  /** Sends the last request again, key and all (after the automatic retries ran out). */
  const tryAgain = () => {
    if (mutation.variables) send(mutation.variables);
  };

  useEffect(() => {
    if (orderStatus === "paid") {
      clearIntent(intent);
      return;
    }
    if (resumeChecked.current) return;
    resumeChecked.current = true;
    const unfinished = unfinishedPayIntent(orderId);
    if (unfinished) send({ idempotencyKey: unfinished.key, orderId, card: unfinished.card }, true);
  }, [orderStatus, intent, orderId, send]);

  return { mutation, pay, tryAgain, resuming };
}
