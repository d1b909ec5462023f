/**
 * A Galera node dies while orders are being placed through it. The servers on the surviving nodes go on answering,
 * the server on the dead node fails with retryable answers (never a 500), and every intent, retried with its key
 * on a surviving node, ends with exactly one order: the one any earlier 200 named, even a 200 from the dead node.
 */
import { randomUUID } from "node:crypto";
import { and, eq } from "drizzle-orm";
import { afterAll, beforeAll, expect, inject, it } from "vitest";
import { openDatabase } from "@/db/client";
import { orders } from "@/db/schema";
import { type AppServer, startAppServer } from "@/testing/app-server";
import { cart } from "@/testing/conformance/orders";
import { startNode, stopNode, testGalera } from "@/testing/galera";
import { type CallResult, ShopClient } from "@/testing/shop-client";

const [node1, , node3] = inject("galeraUrls") as [string, string, string];
const database = openDatabase(node1);
let survivor: AppServer;
let onDyingNode: AppServer;

beforeAll(async () => {
  [survivor, onDyingNode] = await Promise.all([
    startAppServer({ port: 3367, env: { DATABASE_URL: node1 } }),
    startAppServer({ port: 3368, env: { DATABASE_URL: node3 } }),
  ]);
}, 60_000);

afterAll(async () => {
  await Promise.all([survivor?.stop(), onDyingNode?.stop()]);
  await database.close();
  // The other cluster suites expect three nodes.
  await startNode(testGalera, 3);
}, 180_000);

const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** What a client saw: an answer, or none at all (the connection failed). */
type Seen = { server: "survivor" | "dying"; status: number; orderId?: number; at: number };

async function send(shopper: ShopClient, server: AppServer, key: string): Promise<CallResult | null> {
  try {
    return await shopper.on(server.url).mutation("orders.place", { idempotencyKey: key, ...cart });
  } catch {
    return null;
  }
}

it("a node killed under load: every intent retried on a survivor ends with one order, the one every 200 named", async () => {
  const shopper = new ShopClient(survivor.url);
  const customerId = await shopper.signIn();
  const intents = Array.from({ length: 60 }, () => randomUUID());
  const seen = new Map<string, Seen[]>(intents.map((key) => [key, []]));
  const start = Date.now();
  const record = (key: string, server: Seen["server"], result: CallResult | null) =>
    seen.get(key)?.push({
      server,
      status: result?.status ?? 0,
      orderId: result?.status === 200 ? result.data.order.id : undefined,
      at: Date.now() - start,
    });

  // Each intent is sent to both servers at once, one intent every 25 ms; node 3 dies a third of the way in.
  let killedAt = 0;
  const kill = pause(500).then(async () => {
    killedAt = Date.now() - start;
    await stopNode(testGalera, 3, "crash");
  });
  const firstRound = intents.map(async (key, index) => {
    await pause(index * 25);
    await Promise.all([
      send(shopper, survivor, key).then((result) => record(key, "survivor", result)),
      send(shopper, onDyingNode, key).then((result) => record(key, "dying", result)),
    ]);
  });
  await Promise.all([kill, ...firstRound]);

  // Then each client retries its intent on the survivor, with its key, until it gets its order.
  for (const key of intents) {
    for (let attempt = 1; attempt <= 40; attempt += 1) {
      const result = await send(shopper, survivor, key);
      record(key, "survivor", result);
      if (result?.status === 200) break;
      await pause(250);
    }
  }

  const all = [...seen.values()].flat();
  const statuses = (server: Seen["server"]) => [
    ...new Set(all.filter((s) => s.server === server).map((s) => s.status)),
  ];
  const survivorAfterKill = all.filter((s) => s.server === "survivor" && s.at > killedAt && s.status === 200);
  console.log(
    `Galera node 3 killed at ${killedAt} ms: the dying node's server answered ${JSON.stringify(statuses("dying"))}, ` +
      `the survivor ${JSON.stringify(statuses("survivor"))}; the survivor's first 200 after the kill came at ` +
      `${Math.min(...survivorAfterKill.map((s) => s.at))} ms`,
  );

  expect(
    all.some((s) => s.server === "dying" && s.status === 200),
    "node 3 took orders before it died",
  ).toBe(true);
  // A failed request is a retryable answer or no answer at all, never a 500 or a refusal of the intent.
  for (const status of [...statuses("dying"), ...statuses("survivor")]) expect([0, 200, 409, 503]).toContain(status);
  for (const key of intents) {
    const rows = await database.db
      .select({ id: orders.id })
      .from(orders)
      .where(and(eq(orders.customerId, customerId), eq(orders.placementKey, key)));
    expect(rows, `orders for intent ${key}`).toHaveLength(1);
    const named = new Set((seen.get(key) ?? []).filter((s) => s.status === 200).map((s) => s.orderId));
    expect([...named], `the orders the 200s for intent ${key} named`).toEqual([rows[0]?.id]);
  }
}, 180_000);
