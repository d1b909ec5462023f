/**
 * The system under test for one soak: two production app servers, the simulated provider behind a TCP proxy, a
 * fresh database for each, and (for the Redis store) a private Redis. It owns every process it starts, can break
 * each part on purpose, heal everything, and tear it all down, dropping the databases.
 */
import { once } from "node:events";
import { createServer } from "node:net";
import mysql from "mysql2/promise";
import { type AppServer, startAppServer } from "../app-server";
import type { ChildService } from "../child-service";
import { type ProviderServer, startProviderServer } from "../provider-server";
import { type RedisServer, startRedisServer } from "../redis-server";
import { startTcpProxy, type TcpProxy } from "../tcp-proxy";
import { adminUrl, createTestDatabase, type TestDatabase } from "../test-database";
import { sleep } from "./random";

export type StoreKind = "mysql" | "redis";

/** The app's timing for the soak: short enough that abandoned work settles within seconds. */
export const soakTiming = {
  leaseMs: 3000,
  providerTimeoutMs: 1500,
  backgroundIntervalMs: 1000,
  /** The reconciler runs often, so that it too runs under faults and beside live payments. */
  reconcileIntervalMs: 5000,
};

export async function freePort(): Promise<number> {
  const server = createServer();
  server.listen(0, "127.0.0.1");
  await once(server, "listening");
  const address = server.address();
  await new Promise((resolve) => server.close(resolve));
  if (address === null || typeof address === "string") throw new Error("no free port");
  return address.port;
}

/** Every process of a cluster still running, so an interrupted soak (Ctrl-C) can still clean up. */
const running = new Set<Cluster>();

export async function stopAllClusters(): Promise<void> {
  await Promise.all([...running].map((cluster) => cluster.stop()));
}

export class Cluster {
  /** Every incarnation of every service, for their logs. */
  readonly services: { name: string; service: ChildService }[] = [];
  readonly appUrls: string[];
  private readonly apps: AppServer[];
  private stopped = false;

  private constructor(
    readonly store: StoreKind,
    readonly appDatabase: TestDatabase,
    readonly providerDatabase: TestDatabase,
    private provider: ProviderServer,
    readonly proxy: TcpProxy,
    readonly redis: RedisServer | undefined,
    private readonly appPorts: number[],
    readonly appEnv: Record<string, string>,
    apps: AppServer[],
  ) {
    this.apps = apps;
    this.appUrls = apps.map((app) => app.url);
    apps.forEach((app, index) => {
      this.services.push({ name: `app-${index}`, service: app });
    });
    this.services.push({ name: "provider", service: provider });
  }

  static async start(store: StoreKind): Promise<Cluster> {
    const [appDatabase, providerDatabase] = await Promise.all([
      createTestDatabase("chaos"),
      createTestDatabase("chaosprov", "provider"),
    ]);
    const started: { stop(): Promise<unknown> }[] = [];
    try {
      const providerPort = await freePort();
      const provider = await startProviderServer({
        port: providerPort,
        databaseUrl: providerDatabase.appUrl,
        faultControl: true,
      });
      started.push(provider);
      const proxy = await startTcpProxy({ targetPort: providerPort });
      started.push({ stop: () => proxy.close() });
      const redis = store === "redis" ? await startRedisServer(await freePort()) : undefined;
      if (redis) started.push(redis);
      const appEnv: Record<string, string> = {
        DATABASE_URL: appDatabase.appUrl,
        PAYMENT_PROVIDER_URL: proxy.url,
        IDEMPOTENCY_LEASE_MS: String(soakTiming.leaseMs),
        PAYMENT_PROVIDER_TIMEOUT_MS: String(soakTiming.providerTimeoutMs),
        BACKGROUND_INTERVAL_MS: String(soakTiming.backgroundIntervalMs),
        RECONCILE_INTERVAL_MS: String(soakTiming.reconcileIntervalMs),
        IDEMPOTENCY_STORE: store,
        ...(redis ? { REDIS_URL: redis.url } : {}),
      };
      const appPorts = [await freePort(), await freePort()];
      const starting = await Promise.allSettled(appPorts.map((port) => startAppServer({ port, env: appEnv })));
      const apps = starting.flatMap((outcome) => (outcome.status === "fulfilled" ? [outcome.value] : []));
      started.push(...apps);
      const failed = starting.find((outcome) => outcome.status === "rejected");
      if (failed) throw failed.reason;
      const cluster = new Cluster(store, appDatabase, providerDatabase, provider, proxy, redis, appPorts, appEnv, apps);
      running.add(cluster);
      return cluster;
    } catch (error) {
      await Promise.allSettled(started.map((service) => service.stop()));
      await Promise.allSettled([appDatabase.drop(), providerDatabase.drop()]);
      throw error;
    }
  }

  get providerUrl(): string {
    return this.provider.url;
  }

  /** Kills app server `index` as a power cut would, leaves it down for `downMs`, and starts it on the same port. */
  async crashApp(index: number, downMs: number): Promise<void> {
    await this.apps[index]?.stop("crash");
    await sleep(downMs);
    await this.startApp(index);
  }

  private async startApp(index: number): Promise<void> {
    const port = this.appPorts[index] as number;
    // A port just released can linger briefly under load: try a few times before calling the cluster broken.
    for (let attempt = 1; ; attempt++) {
      try {
        const app = await startAppServer({ port, env: this.appEnv });
        this.apps[index] = app;
        this.services.push({ name: `app-${index}`, service: app });
        return;
      } catch (error) {
        if (attempt >= 3) throw error;
        await sleep(500);
      }
    }
  }

  async restartProvider(mode: "graceful" | "crash", downMs: number): Promise<void> {
    const port = Number(new URL(this.provider.url).port);
    await this.provider.stop(mode);
    await sleep(downMs);
    this.provider = await startProviderServer({
      port,
      databaseUrl: this.providerDatabase.appUrl,
      faultControl: true,
    });
    this.services.push({ name: "provider", service: this.provider });
  }

  setProviderFaults(latencyMs: number, failureRate: number): Promise<void> {
    return this.provider.setFaults({ latencyMs, failureRate });
  }

  /** Ends every MySQL connection of the app's user (both servers' pools and background work). */
  async killAppConnections(): Promise<number> {
    const admin = await mysql.createConnection({ uri: adminUrl });
    try {
      const [rows] = await admin.query("SELECT id FROM information_schema.processlist WHERE user = ?", [
        this.appDatabase.user,
      ]);
      let killed = 0;
      for (const { id } of rows as { id: number }[]) {
        // A connection may end by itself between the listing and the kill.
        await admin.query(`KILL CONNECTION ${Number(id)}`).then(
          () => killed++,
          () => undefined,
        );
      }
      return killed;
    } finally {
      await admin.end();
    }
  }

  async restartRedis(downMs: number): Promise<void> {
    if (!this.redis) throw new Error("this cluster has no Redis");
    await this.redis.stop();
    await sleep(downMs);
    await this.redis.start();
  }

  private static alive(service: ChildService): boolean {
    return service.process.exitCode === null && service.process.signalCode === null;
  }

  /** Every fault off and every server up (each fault heals itself; this is the guard that makes sure). */
  async heal(): Promise<void> {
    if (!Cluster.alive(this.provider)) await this.restartProvider("crash", 0);
    await this.setProviderFaults(0, 0);
    for (const [index, app] of this.apps.entries()) {
      if (!Cluster.alive(app)) await this.startApp(index);
    }
  }

  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    running.delete(this);
    await Promise.allSettled(this.apps.map((app) => app.stop()));
    await Promise.allSettled([this.provider.stop(), this.proxy.close(), this.redis?.stop()]);
    await Promise.allSettled([this.appDatabase.drop(), this.providerDatabase.drop()]);
  }
}
