/**
 * A six-node Redis Cluster on this machine (three primaries, one replica each; ../shared/STACK-NOTES.md): each
 * node a detached `redis-server` with its own port and folder, without persistence like the machine's own Redis,
 * which is never touched. Starting is idempotent: a cluster that already answers `cluster_state:ok` is kept.
 */
import { spawn } from "node:child_process";
import { mkdirSync } from "node:fs";
import { join } from "node:path";
import { Redis } from "ioredis";
import { isRunning, runningPid } from "./daemon-pid";

export interface RedisClusterOptions {
  dir: string;
  /** Nodes listen on firstPort … firstPort + 5 (and on each port + 10000 for the cluster bus). */
  firstPort: number;
}

export const defaultRedisCluster: RedisClusterOptions = { dir: "/tmp/eoc-cluster/redis", firstPort: 7101 };
/** The scale-out test suite's own cluster, apart from one `npm run cluster:up` started. */
export const testRedisCluster: RedisClusterOptions = { dir: "/tmp/eoc-test-cluster/redis", firstPort: 7201 };

/** How long a primary may be silent before its replica takes over (ms). */
export const nodeTimeoutMs = 2000;

export function redisClusterPorts(options: RedisClusterOptions): number[] {
  return Array.from({ length: 6 }, (_, index) => options.firstPort + index);
}

/** What `REDIS_CLUSTER_NODES` is set to for this cluster. */
export function redisClusterNodes(options: RedisClusterOptions): string {
  return redisClusterPorts(options)
    .map((port) => `127.0.0.1:${port}`)
    .join(",");
}

async function ask(port: number, ...command: [string, ...string[]]): Promise<string | null> {
  const redis = new Redis({ port, host: "127.0.0.1", lazyConnect: true, connectTimeout: 500, maxRetriesPerRequest: 0 });
  redis.on("error", () => undefined);
  try {
    await redis.connect();
    return String(await redis.call(...command));
  } catch {
    return null;
  } finally {
    redis.disconnect();
  }
}

function pidFile(options: RedisClusterOptions, port: number): string {
  return join(options.dir, String(port), "redis.pid");
}

/** Starts one node (again), detached; a restarted node rejoins with the cluster configuration it kept. */
export async function startRedisNode(options: RedisClusterOptions, port: number): Promise<void> {
  if ((await ask(port, "PING")) === "PONG") return;
  const dir = join(options.dir, String(port));
  mkdirSync(dir, { recursive: true });
  const args = [
    "--port",
    String(port),
    "--bind",
    "127.0.0.1",
    "--dir",
    dir,
    "--save",
    "",
    "--appendonly",
    "no",
    "--cluster-enabled",
    "yes",
    "--cluster-config-file",
    "nodes.conf",
    "--cluster-node-timeout",
    String(nodeTimeoutMs),
    // A replica that lost its primary's link a while ago still takes over: the test decides when it is stale.
    "--cluster-replica-validity-factor",
    "0",
    "--pidfile",
    pidFile(options, port),
    "--logfile",
    join(dir, "redis.log"),
    "--daemonize",
    "yes",
  ];
  await new Promise<void>((resolve, reject) => {
    const child = spawn("redis-server", args, { stdio: "ignore" });
    child.on("error", reject);
    child.on("exit", (code) =>
      code === 0 ? resolve() : reject(new Error(`redis-server on ${port} failed (${code})`)),
    );
  });
  await until(`node ${port} answering`, async () => (await ask(port, "PING")) === "PONG", 10_000);
}

async function until(what: string, check: () => Promise<boolean>, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await check()) return;
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  throw new Error(`Redis Cluster: ${what} did not happen within ${timeoutMs / 1000} s`);
}

async function clusterReady(options: RedisClusterOptions): Promise<boolean> {
  for (const port of redisClusterPorts(options)) {
    const info = await ask(port, "INFO", "replication");
    if (!(await ask(port, "CLUSTER", "INFO"))?.includes("cluster_state:ok") || info === null) return false;
    if (info.includes("role:slave") && !info.includes("master_link_status:up")) return false;
  }
  return true;
}

/** Starts the six nodes and, the first time, creates the cluster; resolves once every node and link is up. */
export async function startRedisCluster(options: RedisClusterOptions = defaultRedisCluster): Promise<void> {
  const ports = redisClusterPorts(options);
  for (const port of ports) await startRedisNode(options, port);
  const formed = (await ask(ports[0] as number, "CLUSTER", "INFO"))?.includes("cluster_known_nodes:6");
  if (!formed) {
    const create = ["--cluster", "create", ...ports.map((port) => `127.0.0.1:${port}`)];
    await new Promise<void>((resolve, reject) => {
      const child = spawn("redis-cli", [...create, "--cluster-replicas", "1", "--cluster-yes"], { stdio: "ignore" });
      child.on("error", reject);
      child.on("exit", (code) => (code === 0 ? resolve() : reject(new Error(`redis-cli --cluster create: ${code}`))));
    });
  }
  await until("every node reporting cluster_state:ok and every replica linked", () => clusterReady(options), 60_000);
}

/** Sends a node a signal: SIGKILL is a crash, SIGSTOP freezes it (a stalled link), SIGCONT wakes it. */
export function signalRedisNode(options: RedisClusterOptions, port: number, signal: NodeJS.Signals): void {
  const pid = runningPid(pidFile(options, port));
  if (pid !== null) process.kill(pid, signal);
}

/** Stops every node at once (the cluster keeps its configuration in each node's folder). */
export async function stopRedisCluster(options: RedisClusterOptions = defaultRedisCluster): Promise<void> {
  for (const port of redisClusterPorts(options)) {
    const pid = runningPid(pidFile(options, port));
    if (pid === null) continue;
    process.kill(pid, "SIGKILL");
    await until(`node ${port} stopping`, async () => !isRunning(pid), 10_000);
  }
}
