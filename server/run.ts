/**
 * Runs a server: SERVER_PROCESSES processes on one port through node:cluster, one per core by default. The primary
 * accepts connections and hands them to its workers, and starts a new worker for any that dies (a crash, an
 * out-of-memory kill), so the server keeps answering while a process restarts. With one process there is no
 * primary: the server is the process. Each server process also takes its turn at the background work (one at a
 * time runs it; see server/background.ts).
 *
 * Two entries use it: the shop's (server/main.ts) and the training lab's (server/lab/main.ts), which differ only in
 * their router and in what each serving process prepares before it serves (the lab installs its instruments).
 */
import cluster from "node:cluster";
import { existsSync } from "node:fs";
import { availableParallelism } from "node:os";
import type { AnyTRPCRouter } from "@trpc/server";
import { assertEnvOrExit } from "./env";

export interface ServerEntry {
  /** What the log calls this server. */
  name: string;
  /** Loaded in each serving process, after the environment is set (Next and React read NODE_ENV as they load). */
  router(): Promise<AnyTRPCRouter>;
  /** Run in each serving process before it serves its first request. */
  prepare?(): Promise<void>;
  /** Run in the primary of several processes, before it starts them. */
  supervise?(): Promise<void>;
}

/** How long a stopping server lets requests in flight finish before it exits anyway. */
const drainMs = 5000;

export async function runServer(entry: ServerEntry): Promise<void> {
  /**
   * A process whose stdout or stderr pipe has lost its reader (the supervisor or log shipper that started it died)
   * would report each failed write by writing the error again, to the same pipe: measured, a loop of about 3,000
   * writes a second taking half a core, forever. It exits instead, for its supervisor to start a fresh one.
   */
  for (const stream of [process.stdout, process.stderr]) {
    stream.on("error", (error: NodeJS.ErrnoException) => {
      if (error.code === "EPIPE") process.exit(1);
    });
  }

  const dev = process.argv.includes("--dev");
  // The machine's own settings (db:setup writes them); variables already set win.
  if (existsSync(".env")) process.loadEnvFile(".env");
  // Before Next and React load: they choose their production or development builds by it.
  Object.assign(process.env, { NODE_ENV: dev ? "development" : "production" });
  const env = assertEnvOrExit();
  const processes = env.SERVER_PROCESSES ?? (dev ? 1 : availableParallelism());
  const where = `${env.LISTEN_HOST ?? "*"}:${env.PORT}`;

  async function serve() {
    await entry.prepare?.();
    const { startServer } = await import("./http/server");
    const { processReplayCache } = await import("./idempotency-settings");
    processReplayCache();
    const server = await startServer({ port: env.PORT, hostname: env.LISTEN_HOST, dev, router: await entry.router() });
    let stopBackground = async () => {};
    if (env.BACKGROUND_INTERVAL_MS > 0) {
      const { startAppBackgroundWork } = await import("./background");
      stopBackground = startAppBackgroundWork(env);
    }
    // Stopping: take no new connections, let the requests in flight answer, then exit.
    for (const signal of ["SIGINT", "SIGTERM"] as const) {
      process.once(signal, () => {
        setTimeout(() => process.exit(0), drainMs).unref();
        server.close(() => stopBackground().finally(() => process.exit(0)));
        server.closeIdleConnections();
      });
    }
    if (cluster.isPrimary) console.log(`${entry.name}: listening on ${where} (pid ${process.pid})`);
  }

  async function supervise() {
    // Dates and the rest of a completed record cross between processes as they are (structured clone).
    cluster.setupPrimary({ serialization: "advanced" });
    const { relayCompletedRecords } = await import("./shared-replay-cache");
    relayCompletedRecords();
    await entry.supervise?.();
    let stopping = false;
    /**
     * A worker that keeps dying at start would otherwise be restarted in a tight loop, so those back off; one that
     * had served (and was killed, or crashed on a request) is replaced at once.
     */
    let restartDelayMs = 100;
    const served = new Set<number>();
    cluster.on("exit", (worker, code, signal) => {
      if (stopping) {
        if (Object.keys(cluster.workers ?? {}).length === 0) process.exit(0);
        return;
      }
      console.error(`${entry.name}: process ${worker.process.pid} exited (${signal ?? code}); starting another`);
      const hadServed = served.delete(worker.id);
      setTimeout(() => cluster.fork(), hadServed ? 0 : restartDelayMs);
      if (!hadServed) restartDelayMs = Math.min(restartDelayMs * 2, 5000);
    });
    cluster.on("listening", (worker) => {
      served.add(worker.id);
      restartDelayMs = 100;
      console.log(`${entry.name}: process ${worker.process.pid} listening on ${where}`);
    });
    for (const signal of ["SIGINT", "SIGTERM"] as const) {
      process.on(signal, () => {
        stopping = true;
        for (const worker of Object.values(cluster.workers ?? {})) worker?.process.kill("SIGTERM");
        if (Object.keys(cluster.workers ?? {}).length === 0) process.exit(0);
      });
    }
    for (let index = 0; index < processes; index += 1) cluster.fork();
  }

  if (processes > 1 && cluster.isPrimary) await supervise();
  else await serve();
}
