/**
 * `npm run client -- [--url http://localhost:3000] [--card 4242424242424242] [--lose-first-answers]`: a service
 * calling the shop's API with the same discipline as the browser. It places an order and pays it, each with one
 * idempotency key for the intent, and retries on its own, with that same key, through lost answers, 409, 503 and
 * 504, printing each attempt. `--lose-first-answers` (with `--url` at the lab server, http://localhost:3001 under
 * `npm run serve`) asks the lab server to drop the first answer of each call after it committed
 * (server/lab/faults.ts), so the retry's replay shows; the shop's own server never honours it.
 * Built on @trpc/client and the app's router type; the retry rules are the browser's (ui/retry-policy.ts).
 */
import { randomUUID } from "node:crypto";
import { parseArgs } from "node:util";
import { createTRPCClient, httpLink, isTRPCClientError, type TRPCClientError } from "@trpc/client";
import type { AppRouter } from "../server/root";
import { testCardNumbers } from "../shop/test-cards";
import { errorData, isRetryable, maxAttempts, retryDelay } from "../ui/retry-policy";

const { values } = parseArgs({
  options: {
    url: { type: "string", default: process.env.SHOP_URL ?? "http://localhost:3000" },
    card: { type: "string", default: "4242424242424242" },
    "lose-first-answers": { type: "boolean", default: false },
  },
});
const card = testCardNumbers.find((number) => number === values.card);
if (!card) {
  console.error(`--card must be one of the test cards: ${testCardNumbers.join(", ")}`);
  process.exit(2);
}

const labRun = values["lose-first-answers"] ? randomUUID() : null;
/** The cookies the server set (the guest session), sent back on every call, as a browser would. */
const cookies = new Map<string, string>();
/** What the last answer said beside its body. */
let lastAnswer: { replayed: boolean; servedBy: string | null } = { replayed: false, servedBy: null };

interface CallContext extends Record<string, unknown> {
  fault?: string;
}

const client = createTRPCClient<AppRouter>({
  links: [
    httpLink({
      url: `${values.url}/api/trpc`,
      headers: ({ op }) => ({
        cookie: [...cookies.entries()].map(([name, value]) => `${name}=${value}`).join("; "),
        // In a lab session every attempt names its run, so the lab's timeline shows the retries too.
        ...(labRun ? { "x-lab-run": labRun } : {}),
        ...((op.context as CallContext).fault ? { "x-fault": (op.context as CallContext).fault } : {}),
      }),
      fetch: async (input, init) => {
        const response = await fetch(input, init);
        for (const setCookie of response.headers.getSetCookie()) {
          const [pair = ""] = setCookie.split(";");
          const at = pair.indexOf("=");
          cookies.set(pair.slice(0, at), pair.slice(at + 1));
        }
        lastAnswer = {
          replayed: response.headers.get("idempotent-replayed") === "true",
          servedBy: response.headers.get("x-served-by"),
        };
        return response;
      },
    }),
  ],
});

function describeFailure(error: unknown): string {
  if (!isTRPCClientError(error)) return String(error);
  const data = errorData(error);
  if (!data) return `no answer (${(error as TRPCClientError<AppRouter>).cause?.message ?? error.message})`;
  return `${data.httpStatus} ${data.code}: ${error.message}`;
}

/** Sends one intent until it has a final answer, every attempt with the same key. */
async function untilAnswered<T>(what: string, call: (attempt: number) => Promise<T>): Promise<T> {
  for (let attempt = 1; ; attempt += 1) {
    try {
      const result = await call(attempt);
      const by = lastAnswer.servedBy ? ` by ${lastAnswer.servedBy}` : "";
      console.log(`  ${what}, attempt ${attempt}: ${lastAnswer.replayed ? "replayed" : "done"}${by}`);
      return result;
    } catch (error) {
      console.log(`  ${what}, attempt ${attempt}: ${describeFailure(error)}`);
      if (!isRetryable(error) || attempt >= maxAttempts) throw error;
      const waitMs = retryDelay(attempt - 1, error);
      console.log(`    retrying with the same key in ${waitMs} ms`);
      await new Promise((resolve) => setTimeout(resolve, waitMs));
    }
  }
}

const loseFirst = values["lose-first-answers"];
const faultOn = (attempt: number): CallContext => (loseFirst && attempt === 1 ? { fault: "lose-response" } : {});

try {
  const { customerId } = await client.session.me.query();
  console.log(`Signed in as guest ${customerId} at ${values.url}`);
  if (loseFirst) console.log("The lab server will drop the first answer of each call after committing it.");

  const placeKey = randomUUID();
  console.log(`Placing an order with idempotency key ${placeKey}`);
  const placed = await untilAnswered("place order", (attempt) =>
    client.orders.place.mutate(
      { idempotencyKey: placeKey, items: [{ productId: 1, quantity: 1 }] },
      { context: faultOn(attempt) },
    ),
  );
  console.log(`  order ${placed.order.id}: ${placed.order.totalCents} ${placed.order.currency}`);

  const payKey = randomUUID();
  console.log(`Paying order ${placed.order.id} with card …${card.slice(-4)} and idempotency key ${payKey}`);
  const paid = await untilAnswered("pay", (attempt) =>
    client.payments.pay.mutate(
      { idempotencyKey: payKey, orderId: placed.order.id, card },
      { context: faultOn(attempt) },
    ),
  );
  console.log(`  payment ${paid.payment.id}: ${paid.payment.status}, charge ${paid.payment.providerChargeId}`);
} catch (error) {
  console.error(`Stopped: ${describeFailure(error)}`);
  process.exitCode = 1;
}
