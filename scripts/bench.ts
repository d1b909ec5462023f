/**
 * `npm run bench`: the idempotency layer's cost and payoff against a production build served as `npm start`
 * serves it (one process per core), in one run.
 * Prints requests/s, p50 and p99 for: the floor (the guarded order transaction run in this process straight
 * against the database, no HTTP), the ceiling (session.me, no table), a trivial write on the same path
 * (bench.acceptCart: a session and the cart validated, no table), the business write without the layer
 * (bench.placeOrderUnguarded), orders.place first executions, replays (medians of BENCH_ROUNDS rounds, default 7,
 * in which the phases take turns, each round starting with another), and a duplicate storm. Ratios are the
 * medians of each round's own ratio.
 * Needs `npm run build` first. Figures only; nothing here passes or fails.
 */
import { randomUUID } from "node:crypto";
import { existsSync } from "node:fs";
import { availableParallelism } from "node:os";
import autocannon from "autocannon";
import { count } from "drizzle-orm";
import { type Executor, openDatabase } from "../db/client";
import { orders } from "../db/schema";
import { appErrorPolicy } from "../server/errors";
import { IdempotentExecution, MysqlIdempotencyStore, requestFingerprint } from "../server/idempotency";
import { placeOrder } from "../server/services/orders";
import { startAppServer } from "../testing/app-server";
import { ShopClient } from "../testing/shop-client";
import { createTestDatabase } from "../testing/test-database";

const connections = Number(process.env.BENCH_CONNECTIONS ?? 64);
const seconds = Number(process.env.BENCH_SECONDS ?? 5);
const rounds = Number(process.env.BENCH_ROUNDS ?? 7);
const stormKeys = Number(process.env.BENCH_STORM_KEYS ?? 400);
const port = Number(process.env.BENCH_PORT ?? 3500);
const processes = Number(process.env.SERVER_PROCESSES ?? availableParallelism());
/** Per pool and process; the server has two pools, and all must fit in MariaDB's default 151 connections. */
const poolSize = Math.max(4, Math.floor(96 / (2 * processes)));

if (!existsSync(".next/BUILD_ID")) {
  console.error("No production build: run `npm run build` first.");
  process.exit(1);
}

const database = await createTestDatabase("bench");
const db = openDatabase(database.appUrl, { poolSize: 2 });
const server = await startAppServer({
  port,
  processes,
  entry: "bench",
  env: { DATABASE_URL: database.appUrl, DATABASE_POOL_SIZE: String(poolSize) },
});
/** The floor's own pools, as large as one server process's, its claim sent with START TRANSACTION likewise. */
const floorDatabase = openDatabase(database.appUrl, { poolSize: connections / 2 });
const floorTransactions = openDatabase(database.appUrl, { poolSize: connections / 2, multipleStatements: true });

interface Phase {
  name: string;
  rps: number;
  p50: number;
  p99: number;
  requests: number;
  non2xx: number;
  ordersCreated: number;
}

const countOrders = async () => (await db.db.select({ n: count() }).from(orders))[0]?.n ?? 0;

function report(name: string, phase: Phase): Phase {
  console.log(
    `${name.padEnd(24)} ${phase.rps.toFixed(0).padStart(7)} req/s  p50 ${String(phase.p50).padStart(4)} ms  p99 ${String(phase.p99).padStart(4)} ms  ${phase.requests} requests, ${phase.non2xx} non-2xx, ${phase.ordersCreated} orders`,
  );
  return phase;
}

async function measure(
  name: string,
  options: Omit<autocannon.Options, "url" | "connections">,
  quiet = false,
): Promise<Phase> {
  const before = await countOrders();
  const result = await autocannon({ url: server.url, connections, ...options });
  // Let requests still in flight when autocannon stopped land, so each phase counts its own orders.
  await new Promise((resolve) => setTimeout(resolve, 1000));
  const phase = {
    name,
    rps: result.requests.average,
    p50: result.latency.p50,
    p99: result.latency.p99,
    requests: result.requests.total,
    non2xx: result.non2xx,
    ordersCreated: (await countOrders()) - before,
  };
  return quiet ? phase : report(name, phase);
}

/**
 * The floor: `connections` callers in this process, each placing orders one after another for `seconds`, every
 * order the same guarded transaction as orders.place (claim, business write and outcome in one transaction), with
 * no HTTP, tRPC or framework in the way.
 */
async function measureFloor(customerId: string, cart: { items: { productId: number; quantity: number }[] }) {
  const settings = {
    store: new MysqlIdempotencyStore(floorDatabase.db, undefined, floorTransactions.db),
    waitMs: 2000,
    leaseMs: 30_000,
    retentionMs: 3600_000,
    errors: appErrorPolicy,
  };
  const before = await countOrders();
  const latencies: number[] = [];
  const until = Date.now() + seconds * 1000;
  await Promise.all(
    Array.from({ length: connections }, async () => {
      while (Date.now() < until) {
        const started = performance.now();
        const key = randomUUID();
        const fingerprint = requestFingerprint("orders.place", cart);
        await new IdempotentExecution<Executor>(
          { scope: customerId, key, procedurePath: "orders.place", fingerprint },
          settings,
        ).inTransaction(async (tx) => ({ order: await placeOrder(tx, customerId, key, cart) }));
        latencies.push(performance.now() - started);
      }
    }),
  );
  latencies.sort((a, b) => a - b);
  const at = (quantile: number) => Math.round(latencies[Math.floor(quantile * (latencies.length - 1))] ?? 0);
  return {
    name: "floor",
    rps: latencies.length / seconds,
    p50: at(0.5),
    p99: at(0.99),
    requests: latencies.length,
    non2xx: 0,
    ordersCreated: (await countOrders()) - before,
  } satisfies Phase;
}

try {
  const shopper = new ShopClient(server.url);
  await shopper.signIn();
  const headers = { "content-type": "application/json", cookie: shopper.cookie as string };
  const cart = { items: [{ productId: 1, quantity: 2 }] };
  const cartJson = JSON.stringify(cart);
  const post = (path: string, body: () => string): autocannon.Request => ({
    method: "POST",
    path: `/api/trpc/${path}`,
    headers,
    setupRequest: (request) => ({ ...request, body: body() }),
  });

  const ceilingRequest: autocannon.Request = { method: "GET", path: "/api/trpc/session.me", headers };
  const trivialRequest = post("bench.acceptCart", () => cartJson);
  const baselineRequest = post("bench.placeOrderUnguarded", () => cartJson);
  const usedKeys: string[] = [];
  const firstRequest = post("orders.place", () => {
    const key = randomUUID();
    usedKeys.push(key);
    return JSON.stringify({ idempotencyKey: key, ...cart });
  });
  // A replay is a retry of a recent request: replays cycle through the latest keys, as many as a server's replay
  // cache holds, rather than through every key of the run (whose sequential sweep would defeat any LRU cache).
  const replayWindow = 10_000;
  let replayIndex = 0;
  const replayRequest = post("orders.place", () => {
    const oldest = Math.max(0, usedKeys.length - replayWindow);
    const key = usedKeys[oldest + (replayIndex++ % (usedKeys.length - oldest))];
    return JSON.stringify({ idempotencyKey: key, ...cart });
  });

  const customerId = shopper.customerId as string;
  console.log(
    `Exactly Once Checkout benchmark: ${connections} connections, ${rounds} rounds of ${seconds} s per phase ` +
      `(medians shown), production build on ${processes} server process(es), ${poolSize} connections per pool`,
  );
  // Every measured code path runs first, so no phase pays for the server's JIT warming up.
  for (const request of [ceilingRequest, trivialRequest, baselineRequest, firstRequest]) {
    await measure("warm-up", { duration: 2, requests: [request] }, true);
  }
  await measureFloor(customerId, cart);
  // The phases take turns within each round, so a slow spell of this shared machine hits them alike.
  const samples: Record<"floor" | "ceiling" | "trivial" | "baseline" | "first" | "replay", Phase[]> = {
    floor: [],
    ceiling: [],
    trivial: [],
    baseline: [],
    first: [],
    replay: [],
  };
  const phases = {
    ceiling: ceilingRequest,
    trivial: trivialRequest,
    baseline: baselineRequest,
    first: firstRequest,
    replay: replayRequest,
  } satisfies Record<Exclude<keyof typeof samples, "floor">, autocannon.Request>;
  const names = Object.keys(samples) as (keyof typeof samples)[];
  for (let round = 0; round < rounds; round += 1) {
    // Each round starts with another phase, so none always runs right after the same neighbour (a phase that
    // follows many inserts pays for flushing them).
    const order = [...names.slice(round % names.length), ...names.slice(0, round % names.length)];
    for (const name of order) {
      samples[name].push(
        name === "floor"
          ? await measureFloor(customerId, cart)
          : await measure(name, { duration: seconds, requests: [phases[name]] }, true),
      );
    }
  }
  console.log(
    Object.entries(samples)
      .map(([name, phases]) => `${name} ${phases.map((phase) => phase.rps.toFixed(0)).join("/")}`)
      .join(", "),
  );
  const median = (phases: Phase[]) => [...phases].sort((a, b) => a.rps - b.rps)[Math.floor(phases.length / 2)] as Phase;
  report("floor (no HTTP)", median(samples.floor));
  report("ceiling (session.me)", median(samples.ceiling));
  report("trivial write (no table)", median(samples.trivial));
  report("baseline (no layer)", median(samples.baseline));
  report("orders.place first", median(samples.first));
  report("orders.place replay", median(samples.replay));

  const stormSequence = Array.from({ length: stormKeys }, () => randomUUID()).flatMap((key) =>
    Array.from({ length: 10 }, () => key),
  );
  let stormIndex = 0;
  const storm = await measure("duplicate storm (10×)", {
    amount: stormSequence.length,
    requests: [post("orders.place", () => JSON.stringify({ idempotencyKey: stormSequence[stormIndex++], ...cart }))],
  });
  const duplicateOrders = storm.ordersCreated - stormKeys;

  /** The median of the rounds' own ratios: both sides of each ran within seconds of each other. */
  const ratios = (a: keyof typeof samples, b: keyof typeof samples) =>
    samples[a].map((phase, round) => phase.rps / (samples[b][round] as Phase).rps).sort((x, y) => x - y);
  const verdict = (a: keyof typeof samples, b: keyof typeof samples, goal: number) => {
    const each = ratios(a, b);
    const value = each[Math.floor(each.length / 2)] as number;
    const rounds = each.map((ratio) => ratio.toFixed(2)).join(" ");
    return `${value.toFixed(2)} (goal ≥ ${goal}: ${value >= goal ? "met" : "NOT met"}; rounds sorted: ${rounds})`;
  };
  console.log("");
  console.log(`first execution / floor     ${verdict("first", "floor", 0.33)}`);
  console.log(`first execution / baseline  ${verdict("first", "baseline", 0.85)}`);
  console.log(`replay / first execution    ${verdict("replay", "first", 1.5)}`);
  console.log(`replay / trivial write      ${verdict("replay", "trivial", 0.8)}`);
  console.log(`replay / ceiling            ${verdict("replay", "ceiling", 0.8)}`);
  const firstP99s = samples.first.map((phase) => phase.p99).sort((a, b) => a - b);
  const firstP99 = firstP99s[Math.floor(firstP99s.length / 2)] as number;
  console.log(
    `orders.place first p99      ${firstP99} ms, median of the rounds (goal ≤ 150 ms: ${firstP99 <= 150 ? "met" : "NOT met"}; rounds sorted: ${firstP99s.join(" ")})`,
  );
  console.log(
    `duplicate storm: ${stormSequence.length} requests for ${stormKeys} keys -> ${storm.ordersCreated} orders created, ` +
      `${stormSequence.length - storm.ordersCreated} duplicates prevented, ${duplicateOrders} duplicate orders (goal 0), ` +
      `${storm.non2xx} non-2xx answers`,
  );
} finally {
  await server.stop();
  await Promise.all([db.close(), floorDatabase.close(), floorTransactions.close()]);
  await database.drop();
}
