/**
 * `npm run bench`: the idempotency layer's cost and payoff against a production build, in one run.
 * Prints requests/s, p50 and p99 for: the ceiling (session.me, no table), the business write without the layer
 * (bench.placeOrderUnguarded), orders.place first executions, replays (medians of BENCH_ROUNDS rounds, default 7,
 * in which the phases take turns, each round starting with another), and a duplicate storm. Ratios are the
 * medians of each round's own ratio.
 * Needs `npm run build` first. Figures only; nothing here passes or fails.
 */
import { randomUUID } from "node:crypto";
import { existsSync } from "node:fs";
import autocannon from "autocannon";
import { count } from "drizzle-orm";
import { openDatabase } from "../db/client";
import { orders } from "../db/schema";
import { startAppServer } from "../testing/app-server";
import { ShopClient } from "../testing/shop-client";
import { createTestDatabase } from "../testing/test-database";

const connections = Number(process.env.BENCH_CONNECTIONS ?? 64);
const seconds = Number(process.env.BENCH_SECONDS ?? 5);
const rounds = Number(process.env.BENCH_ROUNDS ?? 7);
const stormKeys = Number(process.env.BENCH_STORM_KEYS ?? 400);
const port = Number(process.env.BENCH_PORT ?? 3500);

if (!existsSync(".next/BUILD_ID")) {
  console.error("No production build: run `npm run build` first.");
  process.exit(1);
}

const database = await createTestDatabase("bench");
const db = openDatabase(database.appUrl, { poolSize: 2 });
const server = await startAppServer({
  port,
  env: { DATABASE_URL: database.appUrl, ENABLE_BENCH_PROCEDURES: "true", DATABASE_POOL_SIZE: "32" },
});

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
  const baselineRequest = post("bench.placeOrderUnguarded", () => cartJson);
  const usedKeys: string[] = [];
  const firstRequest = post("orders.place", () => {
    const key = randomUUID();
    usedKeys.push(key);
    return JSON.stringify({ idempotencyKey: key, ...cart });
  });
  let replayIndex = 0;
  const replayRequest = post("orders.place", () =>
    JSON.stringify({ idempotencyKey: usedKeys[replayIndex++ % usedKeys.length], ...cart }),
  );

  console.log(
    `Exactly Once Checkout benchmark: ${connections} connections, ${rounds} rounds of ${seconds} s per phase ` +
      "(medians shown), production build",
  );
  // Every measured code path runs first, so no phase pays for the server's JIT warming up.
  for (const request of [ceilingRequest, baselineRequest, firstRequest]) {
    await measure("warm-up", { duration: 2, requests: [request] }, true);
  }
  // The phases take turns within each round, so a slow spell of this shared machine hits them alike.
  const samples: Record<"ceiling" | "baseline" | "first" | "replay", Phase[]> = {
    ceiling: [],
    baseline: [],
    first: [],
    replay: [],
  };
  const phases = {
    ceiling: ceilingRequest,
    baseline: baselineRequest,
    first: firstRequest,
    replay: replayRequest,
  } satisfies Record<keyof typeof samples, autocannon.Request>;
  const names = Object.keys(phases) as (keyof typeof samples)[];
  for (let round = 0; round < rounds; round += 1) {
    // Each round starts with another phase, so none always runs right after the same neighbour (a phase that
    // follows many inserts pays for flushing them).
    const order = [...names.slice(round % names.length), ...names.slice(0, round % names.length)];
    for (const name of order) {
      samples[name].push(await measure(name, { duration: seconds, requests: [phases[name]] }, true));
    }
  }
  console.log(
    Object.entries(samples)
      .map(([name, phases]) => `${name} ${phases.map((phase) => phase.rps.toFixed(0)).join("/")}`)
      .join(", "),
  );
  const median = (phases: Phase[]) => [...phases].sort((a, b) => a.rps - b.rps)[Math.floor(phases.length / 2)] as Phase;
  report("ceiling (session.me)", median(samples.ceiling));
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
  console.log(`first execution / baseline  ${verdict("first", "baseline", 0.85)}`);
  console.log(`replay / baseline           ${verdict("replay", "baseline", 1.2)}`);
  console.log(`replay / ceiling            ${verdict("replay", "ceiling", 0.8)}`);
  console.log(
    `duplicate storm: ${stormSequence.length} requests for ${stormKeys} keys -> ${storm.ordersCreated} orders created, ` +
      `${stormSequence.length - storm.ordersCreated} duplicates prevented, ${duplicateOrders} duplicate orders (goal 0), ` +
      `${storm.non2xx} non-2xx answers`,
  );
} finally {
  await server.stop();
  await db.close();
  await database.drop();
}
