/**
 * The lab's scenarios: each runs once unprotected (the twin, `lab.placeOrderUnprotected`, no key) and once
 * protected (the shop's own `orders.place` with one key per intent), under the same failure, which the server
 * causes on request (server/lab/faults.ts). The counts that come back are the lesson. They run in a browser (the
 * lab page) and in Node alike (`npm run lab:classroom`): an attempt is one `fetch`.
 */
import { newIdempotencyKey } from "../intent-key";

export type Fault = "lose-request" | "lose-response" | `hold:${number}` | "crash:charge_attempted";

/** A bound of the lab refused an attempt (429): the run does not count, and is run again after `retryAfterMs`. */
export class LabBoundRefusal extends Error {
  override name = "LabBoundRefusal";
  constructor(
    message: string,
    readonly retryAfterMs: number,
  ) {
    super(message);
  }
}

export interface Attempt {
  side: "unprotected" | "protected";
  /** What the client saw: an HTTP status, or no answer at all. */
  answer: string;
  /** The server process that answered (X-Served-By), when its answer started to arrive. */
  servedBy: string | null;
}

interface Call {
  side: Attempt["side"];
  key?: string;
  fault?: Fault;
  cart?: Cart;
  /** Another procedure than placing the cart (its input given whole). */
  procedure?: { path: string; input: unknown };
}

/** What an attempt got back: the process that answered, and the business payload of a success. */
interface Sent {
  servedBy: string | null;
  /** The HTTP status, or null when no answer arrived. */
  status: number | null;
  data?: unknown;
  /** How long the server asked the client to wait before retrying (a 409 or 503). */
  retryAfterMs?: number;
}

interface Cart {
  items: { productId: number; quantity: number }[];
}

const oneBag: Cart = { items: [{ productId: 1, quantity: 1 }] };
/** What the twin's provider is asked for one bag (the twin does not price its payments). */
const oneBagCents = 1450;
/** The provider charges this card and answers (shop/test-cards.ts). */
const succeeds = "4242424242424242";
/** The provider charges this card, then its answer is lost (shop/test-cards.ts). */
const chargedThenTimesOut = "4000000000000259";
const twoBags: Cart = { items: [{ productId: 1, quantity: 2 }] };

export interface ScenarioRun {
  run: string;
  tab: string;
  /** Every key the protected side used. */
  keys: string[];
  attempts: Attempt[];
  /** The first refusal by a lab bound, if any: the run then shows nothing and is to be run again. */
  refused: LabBoundRefusal | null;
  /** One attempt, as the browser sends it. */
  send(call: Call): Promise<Sent>;
}

/** Runs a scenario both ways: first the unprotected twin, then the shop's procedures. */
export async function runScenarioBothWays(scenario: Scenario, run: ScenarioRun): Promise<void> {
  await scenario.unprotected(run);
  if (run.refused) throw run.refused;
  await scenario.protect(run);
  if (run.refused) throw run.refused;
}

/** What a run should show: the duplicate on the unprotected side, exactly one on the protected side. */
export interface ExpectedResult {
  counted: "orders" | "charges";
  unprotected: number;
  /** The unprotected side may show more (each retry of scenario 5 places another order). */
  unprotectedOrMore?: boolean;
  protected: number;
}

export interface Scenario {
  id: string;
  title: string;
  expected: ExpectedResult;
  /** What happens, in a trainee's words. */
  story: string;
  /** What to look for in the numbers. */
  lesson: string;
  unprotected(run: ScenarioRun): Promise<void>;
  protect(run: ScenarioRun): Promise<void>;
}

const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** At most this many retries look for another process (a server of one process never gives one). */
const retriesForAnotherProcess = 6;

async function retryUntilAnotherProcess(run: ScenarioRun, side: Attempt["side"]): Promise<void> {
  const key = side === "protected" ? newIdempotencyKey() : undefined;
  const first = await run.send({ side, key, fault: "lose-response" });
  for (let retry = 0; retry < retriesForAnotherProcess; retry += 1) {
    const { servedBy } = await run.send({ side, key });
    if (servedBy !== null && servedBy !== first.servedBy) return;
  }
}

/** Places one bag through the shop's orders.place, for a scenario that pays it. */
async function placeProtectedOrder(run: ScenarioRun): Promise<number> {
  // The shop's own discipline: one key for the intent, retried until it is answered.
  const placed = await retryWhileInFlight(run, { side: "protected", key: newIdempotencyKey() });
  const orderId = (placed.data as { order?: { id?: number } } | undefined)?.order?.id;
  if (orderId === undefined) throw new Error("The order to pay could not be placed; run the scenario again.");
  return orderId;
}

/** How long a client keeps retrying an attempt the server says is still in flight. */
const inFlightPatienceMs = 90_000;

/**
 * Retries, as the shop's checkout does, while there is no answer (a server restarting refuses connections) or the
 * server answers 409 or 503 with a time to wait.
 */
async function retryWhileInFlight(run: ScenarioRun, call: Call): Promise<Sent> {
  const giveUpAt = Date.now() + inFlightPatienceMs;
  for (;;) {
    const sent = await run.send(call);
    const retryable = sent.status === null || sent.status === 409 || sent.status === 503;
    if (!retryable || Date.now() > giveUpAt || run.refused) return sent;
    await pause(Math.min(sent.retryAfterMs ?? 1000, 5000));
  }
}

export const scenarios: Scenario[] = [
  {
    id: "double-click",
    expected: { counted: "orders", unprotected: 2, protected: 1 },
    title: "1. Double click on Place order",
    story: "Two sends leave in the same task, before the first answer can disable the button.",
    lesson: "Unprotected, both run. Protected, the second waits for the first and replays its answer.",
    unprotected: async (run) => {
      await Promise.all([run.send({ side: "unprotected" }), run.send({ side: "unprotected" })]);
    },
    protect: async (run) => {
      const key = newIdempotencyKey();
      await Promise.all([run.send({ side: "protected", key }), run.send({ side: "protected", key })]);
    },
  },
  {
    id: "lost-response",
    expected: { counted: "orders", unprotected: 2, protected: 1 },
    title: "2. Answer lost after the server committed",
    story: "The order is written, then the connection drops before the answer arrives; the client retries.",
    lesson: "Unprotected, the retry places a second order. Protected, the retry replays the first one.",
    unprotected: async (run) => {
      await run.send({ side: "unprotected", fault: "lose-response" });
      await run.send({ side: "unprotected" });
    },
    protect: async (run) => {
      const key = newIdempotencyKey();
      await run.send({ side: "protected", key, fault: "lose-response" });
      await run.send({ side: "protected", key });
    },
  },
  {
    id: "lost-request",
    expected: { counted: "orders", unprotected: 1, protected: 1 },
    title: "3. Request lost before the server",
    story: "The connection drops before the server reads the request; the client retries.",
    lesson: "Both end with one order: nothing ran the first time. Protected, the retry executes (not a replay).",
    unprotected: async (run) => {
      await run.send({ side: "unprotected", fault: "lose-request" });
      await run.send({ side: "unprotected" });
    },
    protect: async (run) => {
      const key = newIdempotencyKey();
      await run.send({ side: "protected", key, fault: "lose-request" });
      await run.send({ side: "protected", key });
    },
  },
  {
    id: "slow-first",
    expected: { counted: "orders", unprotected: 2, protected: 1 },
    title: "4. Timeout while the first attempt is still running",
    story: "The first attempt is slow (the server holds it 3 s); the client gives up waiting after 0.3 s and retries.",
    lesson:
      "Unprotected, both run. Protected, the retry waits up to 2 s for the original, then answers 409 with a time to retry; the next retry replays.",
    unprotected: async (run) => {
      const first = run.send({ side: "unprotected" });
      await pause(300);
      await Promise.all([first, run.send({ side: "unprotected" })]);
    },
    protect: async (run) => {
      const key = newIdempotencyKey();
      const first = run.send({ side: "protected", key, fault: "hold:3000" });
      await pause(300);
      await run.send({ side: "protected", key });
      await first;
      await run.send({ side: "protected", key });
    },
  },
  {
    id: "other-process",
    expected: { counted: "orders", unprotected: 2, unprotectedOrMore: true, protected: 1 },
    title: "5. The retry lands on another server process",
    story:
      "The answer is lost after the order is written; the client retries (each lab attempt opens a new connection) until another server process answers.",
    lesson:
      "Unprotected, every retry places another order. Protected, a process that never ran the original replays it: keys and answers live in the store, not in one process's memory.",
    unprotected: (run) => retryUntilAnotherProcess(run, "unprotected"),
    protect: (run) => retryUntilAnotherProcess(run, "protected"),
  },
  {
    id: "crash",
    expected: { counted: "charges", unprotected: 2, protected: 1 },
    title: "6. The server crashes between recovery points",
    story:
      "The order is paid with a card that succeeds. The server process is killed right after the provider charged, before the charge was recorded (recovery point charge_attempted); the supervisor starts a new one. The client retries.",
    lesson:
      "Unprotected, the retry charges again: two charges. Protected, the retry gets 409 while the dead attempt's lease runs out, then resumes from charge_attempted: it asks the provider with the payment's own key, finds the charge and records it (the background completer would have done the same): one.",
    unprotected: async (run) => {
      await run.send({ side: "unprotected" });
      const pay = {
        path: "lab.payUnprotected",
        input: { run: run.run, amountCents: oneBagCents, loseProviderAnswer: false },
      };
      await run.send({ side: "unprotected", procedure: pay, fault: "crash:charge_attempted" });
      await run.send({ side: "unprotected", procedure: pay });
    },
    protect: async (run) => {
      const orderId = await placeProtectedOrder(run);
      const key = newIdempotencyKey();
      const pay = { path: "payments.pay", input: { orderId, card: succeeds } };
      await run.send({ side: "protected", key, procedure: pay, fault: "crash:charge_attempted" });
      await retryWhileInFlight(run, { side: "protected", key, procedure: pay });
    },
  },
  {
    id: "provider-answer-lost",
    expected: { counted: "charges", unprotected: 2, protected: 1 },
    title: "7. The provider charges, but its answer is lost",
    story:
      "The order is paid with the test card 4000 0000 0000 0259: the provider charges it, then its answer never arrives (a timeout, 504). The client retries.",
    lesson:
      "Unprotected, the provider cannot tell the retry from a new purchase: two charges. Protected, the shop sends the provider a key derived from the payment, so the retry finds the first charge: one.",
    unprotected: async (run) => {
      await run.send({ side: "unprotected" });
      const pay = (loseProviderAnswer: boolean) => ({
        path: "lab.payUnprotected",
        input: { run: run.run, amountCents: oneBagCents, loseProviderAnswer },
      });
      await run.send({ side: "unprotected", procedure: pay(true) });
      await run.send({ side: "unprotected", procedure: pay(false) });
    },
    protect: async (run) => {
      const orderId = await placeProtectedOrder(run);
      const key = newIdempotencyKey();
      const pay = { path: "payments.pay", input: { orderId, card: chargedThenTimesOut } };
      await run.send({ side: "protected", key, procedure: pay });
      await run.send({ side: "protected", key, procedure: pay });
    },
  },
  {
    id: "key-reuse",
    expected: { counted: "orders", unprotected: 2, protected: 1 },
    title: "8. Same key, different cart",
    story: "A client reuses a key for a changed cart (one bag, then two).",
    lesson: "Unprotected, two orders. Protected, the second is refused with 422: a key names one request.",
    unprotected: async (run) => {
      await run.send({ side: "unprotected", cart: oneBag });
      await run.send({ side: "unprotected", cart: twoBags });
    },
    protect: async (run) => {
      const key = newIdempotencyKey();
      await run.send({ side: "protected", key, cart: oneBag });
      await run.send({ side: "protected", key, cart: twoBags });
    },
  },
  {
    id: "two-keys-one-order",
    expected: { counted: "charges", unprotected: 2, protected: 1 },
    title: "9a. The unique index, second line: two tabs pay one order, each with its own key",
    story:
      "The same order is paid from two tabs at once. Each tab is a separate intent, so each has its own key: the dedup table cannot tell them apart.",
    lesson:
      "Unprotected, two charges. Protected, the order is held by the first payment in its transaction and a payment's success is unique per order (payments_one_success_per_order): the second tab gets 409, and the provider charges once.",
    unprotected: async (run) => {
      await run.send({ side: "unprotected" });
      const pay = {
        path: "lab.payUnprotected",
        input: { run: run.run, amountCents: oneBagCents, loseProviderAnswer: false },
      };
      await Promise.all([
        run.send({ side: "unprotected", procedure: pay }),
        run.send({ side: "unprotected", procedure: pay }),
      ]);
    },
    protect: async (run) => {
      const orderId = await placeProtectedOrder(run);
      const pay = { path: "payments.pay", input: { orderId, card: succeeds } };
      await Promise.all([
        run.send({ side: "protected", key: newIdempotencyKey(), procedure: pay }),
        run.send({ side: "protected", key: newIdempotencyKey(), procedure: pay }),
      ]);
    },
  },
];

/** The counts a run left behind (lab.results). */
export interface RunCounts {
  unprotectedOrders: number;
  protectedOrders: number;
  unprotectedCharges: number;
  protectedCharges: number;
}

/** Whether a run's counts are the lesson its scenario teaches. */
export function showsExpected({ expected }: Scenario, counts: RunCounts): boolean {
  const [unprotected, protectedSide] =
    expected.counted === "orders"
      ? [counts.unprotectedOrders, counts.protectedOrders]
      : [counts.unprotectedCharges, counts.protectedCharges];
  const twinHolds = expected.unprotectedOrMore
    ? unprotected >= expected.unprotected
    : unprotected === expected.unprotected;
  return twinHolds && protectedSide === expected.protected;
}

/** Sends one attempt the way the shop's browser code does, plus the lab's headers. */
export function browserRun(run: string, tab: string): ScenarioRun {
  return scenarioRunOver({ run, tab, baseUrl: "", fetch: (input, init) => fetch(input, init) });
}

/** A run whose attempts go through `fetch` to the lab server at `baseUrl` (empty: the page's own origin). */
export function scenarioRunOver(options: {
  run: string;
  tab: string;
  baseUrl: string;
  fetch: (input: string, init: RequestInit) => Promise<Response>;
}): ScenarioRun {
  const { run, tab, baseUrl } = options;
  const attempts: Attempt[] = [];
  const keys: string[] = [];
  const scenarioRun: ScenarioRun = {
    run,
    tab,
    keys,
    attempts,
    refused: null,
    async send({ side, key, fault, cart = oneBag, procedure }) {
      if (key && !keys.includes(key)) keys.push(key);
      const path = procedure?.path ?? (side === "protected" ? "orders.place" : "lab.placeOrderUnprotected");
      const input = procedure?.input ?? (side === "protected" ? cart : { ...cart, run });
      const headers: Record<string, string> = {
        "content-type": "application/json",
        "x-lab-run": run,
        "x-lab-tab": tab,
        ...(key ? { "idempotency-key": key } : {}),
        ...(fault ? { "x-fault": fault } : {}),
      };
      let servedBy: string | null = null;
      let sent: Sent;
      try {
        const response = await options.fetch(`${baseUrl}/api/trpc/${path}`, {
          method: "POST",
          headers,
          body: JSON.stringify(input),
        });
        servedBy = response.headers.get("x-served-by");
        // An answer counts once all of it has arrived.
        const body = (await response.json()) as {
          result?: { data?: unknown };
          error?: { message?: string; data?: { retryAfterMs?: number; labBound?: boolean } };
        };
        if (response.status === 429 && body.error?.data?.labBound) {
          scenarioRun.refused ??= new LabBoundRefusal(
            body.error.message ?? "The lab is busy.",
            body.error.data.retryAfterMs ?? 1000,
          );
        }
        const replayed = response.headers.get("idempotent-replayed") === "true";
        attempts.push({ side, answer: `${response.status}${replayed ? " (replayed)" : ""}`, servedBy });
        sent = {
          servedBy,
          status: response.status,
          data: body.result?.data,
          retryAfterMs: body.error?.data?.retryAfterMs,
        };
      } catch {
        attempts.push({ side, answer: "no answer", servedBy });
        sent = { servedBy, status: null };
      }
      return sent;
    },
  };
  return scenarioRun;
}
