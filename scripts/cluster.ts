/**
 * `npm run cluster:up` / `npm run cluster:down`: a three-node MariaDB Galera cluster (SQL on 3321–3323) and a
 * six-node Redis Cluster (7101–7106) on this machine, beside the single MariaDB and Redis, which stay untouched.
 * Both commands are idempotent. docs/scale-out.md says how to point the app at them.
 */
import { defaultGalera, nodeAdminUrl, startGaleraCluster, stopGaleraCluster } from "../testing/galera";
import { defaultRedisCluster, redisClusterNodes, startRedisCluster, stopRedisCluster } from "../testing/redis-cluster";

const command = process.argv[2];
if (command === "up") {
  console.log("Starting the Galera cluster (one node at a time, about 20 s each the first time)…");
  await startGaleraCluster(defaultGalera);
  console.log("Starting the Redis Cluster…");
  await startRedisCluster(defaultRedisCluster);
  console.log(`Galera is up: ${[1, 2, 3].map((node) => nodeAdminUrl(defaultGalera, node as 1 | 2 | 3)).join(", ")}`);
  console.log(`Redis Cluster is up: REDIS_CLUSTER_NODES=${redisClusterNodes(defaultRedisCluster)}`);
  console.log(
    `Set up the app's database on it with DATABASE_ADMIN_URL=${nodeAdminUrl(defaultGalera, 1)} and a DATABASE_URL ` +
      "on one of those ports, then npm run db:setup.",
  );
} else if (command === "down") {
  await stopRedisCluster(defaultRedisCluster);
  await stopGaleraCluster(defaultGalera);
  console.log("The Galera and Redis clusters are stopped (their data stays in /tmp/eoc-cluster).");
} else {
  console.error("Usage: tsx scripts/cluster.ts up|down");
  process.exit(2);
}
