/**
 * The scale-out suite's world (`vitest.cluster.config.ts`): a fresh three-node Galera cluster and a fresh Redis
 * Cluster on ports of their own, the app's database created through node 1 (Galera copies it to the others), all
 * stopped and deleted when the run ends. The payment provider stays on the machine's own MariaDB, as an outside
 * service would.
 */
import { rmSync } from "node:fs";
import type { TestProject } from "vitest/node";
import { setupDatabase } from "@/db/setup";
import { galeraNodes, nodeAdminUrl, nodePort, startGaleraCluster, stopGaleraCluster, testGalera } from "./galera";
import { addTestMerchant } from "./merchant";
import { redisClusterNodes, startRedisCluster, stopRedisCluster, testRedisCluster } from "./redis-cluster";
import { freshAppUrl } from "./test-database";

declare module "vitest" {
  export interface ProvidedContext {
    /** The app's database on each Galera node, in node order (the same database and user). */
    galeraUrls: string[];
    redisClusterNodes: string;
  }
}

const galera = testGalera;
const redisCluster = testRedisCluster;

export default async function setup(project: TestProject) {
  const stopAll = async () => {
    await stopRedisCluster(redisCluster);
    await stopGaleraCluster(galera);
    rmSync(galera.dir, { recursive: true, force: true });
    rmSync(redisCluster.dir, { recursive: true, force: true });
  };
  await stopAll();
  try {
    await Promise.all([startGaleraCluster(galera), startRedisCluster(redisCluster)]);
    const appUrl = new URL(freshAppUrl("galera"));
    appUrl.port = String(nodePort(galera, 1));
    await setupDatabase({ adminUrl: nodeAdminUrl(galera, 1), appUrl: appUrl.href });
    await addTestMerchant(appUrl.href);
    const urls = galeraNodes.map((node) => {
      const url = new URL(appUrl);
      url.port = String(nodePort(galera, node));
      return url.href;
    });
    project.provide("databaseUrl", urls[0] as string);
    project.provide("galeraUrls", urls);
    project.provide("redisClusterNodes", redisClusterNodes(redisCluster));
  } catch (error) {
    await stopAll();
    throw error;
  }
  return stopAll;
}
