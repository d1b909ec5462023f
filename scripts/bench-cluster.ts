/**
 * `npm run bench:cluster`: orders.place through the served app on one MariaDB against a three-node Galera cluster
 * in its two topologies (docs/scale-out.md): every write to one node through haproxy, or each app server writing
 * to a node of its own. Two app servers of one process each in every case, loaded at once; the Galera cluster is
 * the one `npm run cluster:up` starts (started here if it is down). Prints requests/s, p50, p99, and the orders
 * each phase created beside its 2xx answers. Needs `npm run build` and haproxy (`apt-get install -y haproxy`).
 * Figures only; nothing here passes or fails.
 */
import { spawn } from "node:child_process";
import { randomUUID } from "node:crypto";
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import autocannon from "autocannon";
import { count } from "drizzle-orm";
import { openDatabase } from "../db/client";
import { orders } from "../db/schema";
import { dropDatabase, setupDatabase } from "../db/setup";
import { type AppServer, startAppServer } from "../testing/app-server";
import { defaultGalera, galeraNodes, nodeAdminUrl, nodePort, startGaleraCluster } from "../testing/galera";
import { addTestMerchant } from "../testing/merchant";
import { ShopClient } from "../testing/shop-client";
import { createTestDatabase, freshAppUrl } from "../testing/test-database";

const seconds = Number(process.env.BENCH_SECONDS ?? 10);
const connectionsPerServer = Number(process.env.BENCH_CONNECTIONS ?? 16);
const rounds = Number(process.env.BENCH_ROUNDS ?? 3);
const haproxyPort = 3329;
const serverPorts = [3591, 3592] as const;

if (!existsSync(".next/BUILD_ID")) {
  console.error("No production build: run `npm run build` first.");
  process.exit(1);
}

/** haproxy in TCP mode: node 1 takes every connection, nodes 2 and 3 only once it fails its health check. */
async function startHaproxy(): Promise<() => void> {
  const dir = join(defaultGalera.dir, "haproxy");
  mkdirSync(dir, { recursive: true });
  const config = join(dir, "haproxy.cfg");
  const pidFile = join(dir, "haproxy.pid");
  const backends = galeraNodes
    .map((node) => `  server node${node} 127.0.0.1:${nodePort(defaultGalera, node)} check${node > 1 ? " backup" : ""}`)
    .join("\n");
  writeFileSync(
    config,
    `global\n  maxconn 1000\ndefaults\n  mode tcp\n  timeout connect 2s\n  timeout client 1h\n  timeout server 1h\n` +
      `listen galera_one_writer\n  bind 127.0.0.1:${haproxyPort}\n${backends}\n`,
  );
  await new Promise<void>((resolve, reject) => {
    const child = spawn("haproxy", ["-f", config, "-D", "-p", pidFile], { stdio: "inherit" });
    child.on("error", reject);
    child.on("exit", (code) => (code === 0 ? resolve() : reject(new Error(`haproxy exited with ${code}`))));
  });
  return () => process.kill(Number(readFileSync(pidFile, "utf8").trim()), "SIGTERM");
}

async function galeraDatabase(): Promise<URL> {
  const appUrl = new URL(freshAppUrl("bench_galera"));
  appUrl.port = String(nodePort(defaultGalera, 1));
  await setupDatabase({ adminUrl: nodeAdminUrl(defaultGalera, 1), appUrl: appUrl.href });
  await addTestMerchant(appUrl.href);
  return appUrl;
}

const onPort = (url: URL | string, port: number) => {
  const copy = new URL(url);
  copy.port = String(port);
  return copy.href;
};

interface Figures {
  rps: number;
  p50: number;
  p99: number;
  answered: number;
  orders: number;
}

/** Loads both servers at once with first executions (a fresh key per request) of orders.place. */
async function measure(servers: AppServer[], countUrl: string): Promise<Figures> {
  const database = openDatabase(countUrl, { poolSize: 1 });
  const countOrders = async () => (await database.db.select({ n: count() }).from(orders))[0]?.n ?? 0;
  try {
    const before = await countOrders();
    const results = await Promise.all(
      servers.map(async (server) => {
        const shopper = new ShopClient(server.url);
        await shopper.signIn();
        const cart = { items: [{ productId: 1, quantity: 1 }] };
        return autocannon({
          url: server.url,
          connections: connectionsPerServer,
          duration: seconds,
          requests: [
            {
              method: "POST",
              path: "/api/trpc/orders.place",
              headers: { "content-type": "application/json", cookie: shopper.cookie as string },
              setupRequest: (request) => ({
                ...request,
                body: JSON.stringify({ idempotencyKey: randomUUID(), ...cart }),
              }),
            },
          ],
        });
      }),
    );
    await new Promise((resolve) => setTimeout(resolve, 1000));
    return {
      rps: results.reduce((sum, result) => sum + result.requests.average, 0),
      p50: Math.max(...results.map((result) => result.latency.p50)),
      p99: Math.max(...results.map((result) => result.latency.p99)),
      answered: results.reduce((sum, result) => sum + result["2xx"], 0),
      orders: (await countOrders()) - before,
    };
  } finally {
    await database.close();
  }
}

const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)] as number;

await startGaleraCluster(defaultGalera);
const stopHaproxy = await startHaproxy();
const single = await createTestDatabase("bench_single");
const galera = await galeraDatabase();
const topologies: { name: string; urls: [string, string] }[] = [
  { name: "one MariaDB", urls: [single.appUrl, single.appUrl] },
  { name: "Galera, one writer (haproxy)", urls: [onPort(galera, haproxyPort), onPort(galera, haproxyPort)] },
  {
    name: "Galera, any node (1 and 2)",
    urls: [onPort(galera, nodePort(defaultGalera, 1)), onPort(galera, nodePort(defaultGalera, 2))],
  },
];
console.log(
  `orders.place first executions: 2 app servers × ${connectionsPerServer} connections, ${rounds} rounds of ${seconds} s (medians)`,
);
try {
  for (const topology of topologies) {
    const servers = await Promise.all(
      topology.urls.map((url, index) =>
        startAppServer({ port: serverPorts[index] as number, env: { DATABASE_URL: url, DATABASE_POOL_SIZE: "16" } }),
      ),
    );
    try {
      const figures: Figures[] = [];
      for (let round = 0; round < rounds; round += 1) figures.push(await measure(servers, topology.urls[0]));
      const pick = (name: keyof Figures) => median(figures.map((figure) => figure[name]));
      const total = (name: "answered" | "orders") => figures.reduce((sum, figure) => sum + figure[name], 0);
      console.log(
        `${topology.name.padEnd(30)} ${pick("rps").toFixed(0).padStart(6)} req/s  p50 ${pick("p50")} ms  ` +
          `p99 ${pick("p99")} ms  ${total("answered")} answered 2xx, ${total("orders")} orders created`,
      );
    } finally {
      await Promise.all(servers.map((server) => server.stop()));
    }
  }
} finally {
  stopHaproxy();
  await single.drop();
  await dropDatabase({ adminUrl: nodeAdminUrl(defaultGalera, 1), appUrl: galera.href });
}
