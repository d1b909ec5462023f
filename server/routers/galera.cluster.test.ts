/**
 * orders.place and payments.pay through HTTP on a three-node Galera cluster, with the default MySQL store and the
 * two app servers on different nodes: every scenario the single server passes (double sends split across the
 * servers, replays, crashes, the completer), now with each server writing to its own node.
 */
import { and, count, eq } from "drizzle-orm";
import { afterAll, beforeAll, inject } from "vitest";
import { openDatabase } from "@/db/client";
import { idempotencyKeys } from "@/db/schema";
import { type AppServer, startAppServer } from "@/testing/app-server";
import { describeOrderPlacement } from "@/testing/conformance/orders";
import { describePayments } from "@/testing/conformance/payments";

const [node1, node2, node3] = inject("galeraUrls") as [string, string, string];
const database = openDatabase(node1);
let serverA: AppServer;
let serverB: AppServer;

beforeAll(async () => {
  [serverA, serverB] = await Promise.all([
    startAppServer({ port: 3361, env: { DATABASE_URL: node1 } }),
    startAppServer({ port: 3362, env: { DATABASE_URL: node2 } }),
  ]);
}, 60_000);

afterAll(async () => {
  await Promise.all([serverA?.stop(), serverB?.stop()]);
  await database.close();
});

async function keysOf(customerId: string) {
  const [row] = await database.db
    .select({ n: count() })
    .from(idempotencyKeys)
    .where(eq(idempotencyKeys.customerId, customerId));
  return row?.n ?? 0;
}

describeOrderPlacement("MySQL on Galera, servers on nodes 1 and 2", database, () => ({
  serverA,
  serverB,
  storedKeys: keysOf,
}));

describePayments("MySQL on Galera, servers on nodes 2 and 3", {
  storeEnv: () => ({}),
  ports: [3363, 3364, 3365, 3366],
  serverDatabaseUrls: () => [node2, node3],
  storedRecord: async (scope, key) => {
    const [record] = await database.db
      .select()
      .from(idempotencyKeys)
      .where(and(eq(idempotencyKeys.customerId, scope), eq(idempotencyKeys.idempotencyKey, key)));
    return record ? JSON.stringify(record) : null;
  },
});
