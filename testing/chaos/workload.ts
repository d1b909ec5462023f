/**
 * The soak's workload: virtual customers, each in a bounded loop of sign-in, place an order, pay it (with a random
 * test card, sometimes a new key and card after a failure), and sometimes have the merchant refund part of it,
 * several times. Each operation is sent normally, as two concurrent duplicates, or abandoned mid-flight; see
 * client.ts.
 */
import { randomUUID } from "node:crypto";
import { testMerchant } from "../merchant";
import { ChaosClient, type SendPlan } from "./client";
import { errorCode, type History, isStoredError, resultOf } from "./history";
import type { Random } from "./random";

export const cards = {
  ok: "4242424242424242",
  declined: "4000000000000002",
  providerError: "4000000000000119",
  lostAnswer: "4000000000000259",
} as const;

/** Weighted so that most orders end up paid and refundable, while every card's path is exercised. */
const cardChoices = [cards.ok, cards.ok, cards.ok, cards.declined, cards.providerError, cards.lostAnswer];

export interface WorkloadOptions {
  history: History;
  rng: Random;
  servers: readonly string[];
  customers: number;
  /** Epoch ms: no new attempt starts after this. */
  deadline: number;
  requestTimeoutMs: number;
}

/** Upper bound on a customer's iterations, so the loop is bounded by count as well as by time. */
const maxIterations = 500;

function planFor(rng: Random, abandonRate: number): SendPlan {
  const roll = rng.next();
  return {
    style: roll < abandonRate ? "abandon" : roll < abandonRate + 0.15 ? "duplicate" : "normal",
    maxAttempts: rng.int(3, 8),
    abortAfterMs: rng.int(5, 400),
  };
}

function cart(rng: Random) {
  const products = rng.shuffled([1, 2, 3]).slice(0, rng.int(1, 3));
  return products.map((productId) => ({ productId, quantity: rng.int(1, 3) }));
}

async function payOrder(client: ChaosClient, rng: Random, orderId: number) {
  for (let tries = 0; tries < 3; tries++) {
    const answer = await client.perform(
      "pay",
      { idempotencyKey: randomUUID(), orderId, card: rng.pick(cardChoices) },
      planFor(rng, 0.1),
    );
    if (answer?.status === 200) return resultOf(answer).payment as { id: number; amountCents: number };
    // "Already paid" (an abandoned attempt went through): nothing left to pay.
    if (answer && isStoredError(answer) && errorCode(answer) === "CONFLICT") return undefined;
    // After a failure, often straight away with a new key and another card: the app must resolve the earlier attempt.
    if (!rng.chance(0.7)) return undefined;
  }
  return undefined;
}

async function refundSome(client: ChaosClient, rng: Random, payment: { id: number; amountCents: number }) {
  let refunded = 0;
  const refundOnce = async () => {
    const left = payment.amountCents - refunded;
    // Sometimes more than is left (a 422), usually a part of what is left.
    const amountCents =
      left <= 1 || rng.chance(0.2) ? left + rng.int(1, 300) : rng.int(1, Math.max(1, Math.floor(left / 2)));
    const answer = await client.perform(
      "refund",
      { idempotencyKey: randomUUID(), paymentId: payment.id, amountCents },
      planFor(rng, 0.08),
    );
    if (answer?.status === 200) refunded += amountCents;
  };
  const count = rng.int(1, 3);
  for (let i = 0; i < count; i++) {
    // Two refunds at once under different keys: their sum must still fit the payment.
    if (rng.chance(0.25)) await Promise.all([refundOnce(), refundOnce()]);
    else await refundOnce();
  }
}

/** Refunds are the merchant's: one merchant session, signed in before the faults start, refunds for everyone. */
async function merchantCookie(servers: readonly string[]): Promise<string> {
  const response = await fetch(`${servers[0]}/api/trpc/merchant.login`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify(testMerchant),
  });
  const cookie = response.headers.get("set-cookie")?.split(";")[0];
  if (response.status !== 200 || !cookie) throw new Error(`merchant sign-in failed (HTTP ${response.status})`);
  return cookie;
}

async function customerLoop(options: WorkloadOptions & { merchantCookie: string }, rng: Random) {
  const stopped = () => Date.now() >= options.deadline;
  const newClient = () =>
    new ChaosClient(options.history, options.servers, rng, options.requestTimeoutMs, stopped, options.merchantCookie);
  let client = newClient();
  for (let iteration = 0; iteration < maxIterations && !stopped(); iteration++) {
    if (!client.customerId || rng.chance(0.2)) {
      client = newClient();
      if (!(await client.signIn())) continue;
    }
    const placed = await client.perform(
      "place",
      { idempotencyKey: randomUUID(), items: cart(rng) },
      planFor(rng, 0.05),
    );
    if (placed?.status !== 200 || stopped()) continue;
    const payment = await payOrder(client, rng, resultOf(placed).order.id);
    if (payment && !stopped() && rng.chance(0.7)) await refundSome(client, rng, payment);
  }
}

export async function runWorkload(options: WorkloadOptions): Promise<void> {
  const streams = Array.from({ length: options.customers }, () => options.rng.fork());
  const merchant = await merchantCookie(options.servers);
  await Promise.all(streams.map((rng) => customerLoop({ ...options, merchantCookie: merchant }, rng)));
}
