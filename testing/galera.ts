/**
 * A three-node MariaDB Galera cluster on this machine (../shared/STACK-NOTES.md, "Multi-node engines"): each node a
 * `mariadbd` of its own, with its own port, data folder, socket and Galera ports on loopback, started detached so
 * that `npm run cluster:up` leaves it running. The machine's own MariaDB is never touched. Starting is idempotent:
 * a node that already answers is left as it is.
 */
import { spawn } from "node:child_process";
import { existsSync, mkdirSync, openSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import mysql from "mysql2/promise";
import { isRunning, runningPid } from "./daemon-pid";

export interface GaleraOptions {
  /** Where the nodes keep their data, configuration and logs (one folder each). */
  dir: string;
  /** Node n (1–3) serves SQL on sqlPort + n - 1 and group communication on groupPort + n - 1. */
  sqlPort: number;
  groupPort: number;
}

export const defaultGalera: GaleraOptions = { dir: "/tmp/eoc-cluster/galera", sqlPort: 3321, groupPort: 4571 };
/** The scale-out test suite's own cluster, apart from one `npm run cluster:up` started. */
export const testGalera: GaleraOptions = { dir: "/tmp/eoc-test-cluster/galera", sqlPort: 3331, groupPort: 4671 };

export const galeraNodes = [1, 2, 3] as const;
export type GaleraNode = (typeof galeraNodes)[number];

const provider = "/usr/lib/galera/libgalera_smm.so";
/**
 * As root, the nodes run as the `mysql` user, as the machine's own MariaDB does: a joiner's state transfer starts an
 * rsync daemon, which as root would drop to `nobody` and could not write the data folder.
 */
const runsAsRoot = process.getuid?.() === 0;

export function nodePort(options: GaleraOptions, node: GaleraNode): number {
  return options.sqlPort + node - 1;
}

/** root on a node, as the harness and `db:setup` use it (never the app at run time). */
export function nodeAdminUrl(options: GaleraOptions, node: GaleraNode): string {
  return `mysql://root@127.0.0.1:${nodePort(options, node)}`;
}

function nodeDir(options: GaleraOptions, node: GaleraNode): string {
  return join(options.dir, `node${node}`);
}

function configOf(options: GaleraOptions, node: GaleraNode): string {
  const dir = nodeDir(options, node);
  const group = (n: number) => options.groupPort + n - 1;
  const members = galeraNodes.map((n) => `127.0.0.1:${group(n)}`).join(",");
  return `[mariadbd]
datadir=${join(dir, "data")}
socket=${join(dir, "mariadbd.sock")}
pid-file=${join(dir, "mariadbd.pid")}
log-error=${join(dir, "error.log")}
port=${nodePort(options, node)}
bind-address=127.0.0.1
${runsAsRoot ? "user=mysql" : ""}
skip-name-resolve
innodb_buffer_pool_size=64M
innodb_log_file_size=32M
max_connections=300
binlog_format=ROW
default_storage_engine=InnoDB
innodb_autoinc_lock_mode=2
wsrep_on=ON
wsrep_provider=${provider}
wsrep_cluster_name=eoc_galera
wsrep_cluster_address=gcomm://${members}
wsrep_node_name=node${node}
wsrep_node_address=127.0.0.1
wsrep_provider_options="gmcast.listen_addr=tcp://127.0.0.1:${group(node)};ist.recv_addr=127.0.0.1:${group(node) + 10}"
wsrep_sst_receive_address=127.0.0.1:${group(node) + 20}
wsrep_sst_method=rsync
`;
}

async function query<T = mysql.RowDataPacket[]>(url: string, sql: string): Promise<T> {
  const connection = await mysql.createConnection({ uri: url, connectTimeout: 1000 });
  try {
    const [rows] = await connection.query(sql);
    return rows as T;
  } finally {
    await connection.end();
  }
}

/** The node's Galera state ("Synced" when it takes part), or null when it does not answer. */
export async function nodeState(options: GaleraOptions, node: GaleraNode): Promise<string | null> {
  try {
    const rows = await query(nodeAdminUrl(options, node), "SHOW STATUS LIKE 'wsrep_local_state_comment'");
    return String(rows[0]?.Value ?? "");
  } catch {
    return null;
  }
}

async function until(what: string, check: () => Promise<boolean>, timeoutMs: number, log: () => string) {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await check()) return;
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
  throw new Error(`Galera: ${what} did not happen within ${timeoutMs / 1000} s. Last log lines:\n${log()}`);
}

function logTail(options: GaleraOptions, node: GaleraNode): string {
  const file = join(nodeDir(options, node), "error.log");
  return existsSync(file) ? readFileSync(file, "utf8").split("\n").slice(-30).join("\n") : "(no log)";
}

/**
 * Starts one node, detached. `bootstrap` starts a new cluster from it (only when no node is up); otherwise it
 * joins the others and takes their state (SST by rsync) or the missing writes (IST).
 */
export async function startNode(options: GaleraOptions, node: GaleraNode, bootstrap = false): Promise<void> {
  if ((await nodeState(options, node)) === "Synced") return;
  const dir = nodeDir(options, node);
  mkdirSync(join(dir, "data"), { recursive: true });
  const config = join(dir, "my.cnf");
  writeFileSync(config, configOf(options, node));
  if (runsAsRoot) await run("chown", ["-R", "mysql:mysql", dir]);
  if (bootstrap && !existsSync(join(dir, "data", "mysql"))) {
    await run("mariadb-install-db", [`--defaults-file=${config}`, "--auth-root-authentication-method=normal"]);
  }
  const log = openSync(join(dir, "console.log"), "a");
  const args = [`--defaults-file=${config}`, ...(bootstrap ? ["--wsrep-new-cluster"] : [])];
  spawn("mariadbd", args, { detached: true, stdio: ["ignore", log, log] }).unref();
  await until(
    `node ${node} reaching Synced`,
    async () => (await nodeState(options, node)) === "Synced",
    120_000,
    () => logTail(options, node),
  );
}

function run(command: string, args: string[]): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { stdio: ["ignore", "pipe", "pipe"] });
    let output = "";
    child.stdout.on("data", (chunk) => {
      output += chunk;
    });
    child.stderr.on("data", (chunk) => {
      output += chunk;
    });
    child.on("error", reject);
    child.on("exit", (code) => (code === 0 ? resolve() : reject(new Error(`${command} failed:\n${output}`))));
  });
}

/** Starts the three nodes (bootstrapping from node 1 when none is up), one at a time, each until Synced. */
export async function startGaleraCluster(options: GaleraOptions = defaultGalera): Promise<void> {
  const states = await Promise.all(galeraNodes.map((node) => nodeState(options, node)));
  const anyUp = states.some((state) => state === "Synced");
  for (const node of galeraNodes) {
    await startNode(options, node, !anyUp && node === 1);
  }
}

/** Stops one node: `crash` kills it at once (a power cut), otherwise it shuts down cleanly. */
export async function stopNode(options: GaleraOptions, node: GaleraNode, mode: "graceful" | "crash" = "graceful") {
  const pid = runningPid(join(nodeDir(options, node), "mariadbd.pid"));
  if (pid === null) return;
  process.kill(pid, mode === "crash" ? "SIGKILL" : "SIGTERM");
  await until(
    `node ${node} stopping`,
    async () => !isRunning(pid),
    60_000,
    () => logTail(options, node),
  );
}

/** Stops every node, the last one cleanly so that it can bootstrap the cluster again. */
export async function stopGaleraCluster(options: GaleraOptions = defaultGalera): Promise<void> {
  for (const node of [...galeraNodes].reverse()) await stopNode(options, node);
}
