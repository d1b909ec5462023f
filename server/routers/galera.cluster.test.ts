/**
 * orders.place and payments.pay through HTTP on a three-node Galera cluster, with the default MySQL store and the
 * two app servers on different nodes: every scenario the single server passes (double sends split across the
 * servers, replays, crashes, the completer), now with each server writing to its own node.
 */
import { afterAll, beforeAll, inject } from "vitest";
import { openDatabase } from "@/db/client";
import { type AppServer, startAppServer } from "@/testing/app-server";
import { describeOrderPlacement, mysqlKeyCount } from "@/testing/conformance/orders";
import { describePayments, mysqlStoredRecord } from "@/testing/conformance/payments";

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

describeOrderPlacement("MySQL on Galera, servers on nodes 1 and 2", database, () => ({
  serverA,
  serverB,
  storedKeys: mysqlKeyCount(database),
}));

describePayments("MySQL on Galera, servers on nodes 2 and 3", {
  storeEnv: () => ({}),
  ports: [3363, 3364, 3365, 3366],
  serverDatabaseUrls: () => [node2, node3],
  storedRecord: mysqlStoredRecord(database),
});
