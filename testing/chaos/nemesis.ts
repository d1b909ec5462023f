/**
 * The nemesis: injects faults at random until the deadline, in two lanes that run side by side, so faults overlap
 * (a server killed while the provider is slow leaves a charge on its way that arrives late). One lane restarts
 * processes, the other degrades the provider and the connections. In each lane kinds come in shuffled rounds, so
 * every kind is injected once before any twice and a short run still covers them all; each fault heals itself
 * before its lane's next one starts.
 */
import type { Cluster } from "./cluster";
import type { FaultKind, History } from "./history";
import { type Random, sleep } from "./random";

export function faultKindsFor(store: Cluster["store"]): FaultKind[] {
  const kinds: FaultKind[] = [
    "app-crash",
    "provider-restart",
    "provider-latency",
    "provider-errors",
    "proxy-drop",
    "mysql-kill",
  ];
  return store === "redis" ? [...kinds, "redis-restart"] : kinds;
}

/** The other lane may be restarting the provider: one that restarts comes back healthy, so a miss here is fine. */
const healProvider = (cluster: Cluster) => cluster.setProviderFaults(0, 0).catch(() => undefined);

/** Runs one fault, start to heal; returns what was done, for the log. */
async function inject(kind: FaultKind, cluster: Cluster, rng: Random): Promise<string> {
  switch (kind) {
    case "app-crash": {
      const index = rng.int(0, 1);
      const downMs = rng.int(200, 1500);
      await cluster.crashApp(index, downMs);
      return `SIGKILL app ${index} (${cluster.appUrls[index]}), down ${downMs} ms, restarted`;
    }
    case "provider-restart": {
      const mode = rng.chance(0.5) ? "crash" : "graceful";
      const downMs = rng.int(100, 1000);
      await cluster.restartProvider(mode, downMs);
      return `provider stopped (${mode}), down ${downMs} ms, restarted`;
    }
    case "provider-latency": {
      // Beyond the app's provider timeout: requests time out at the app and arrive at the provider late.
      // Up to four times the timeout: a charge sent late in the window lands after the app has moved on.
      const latencyMs = rng.int(1800, 6000);
      const holdMs = rng.int(1500, 3500);
      await cluster.setProviderFaults(latencyMs, 0);
      await sleep(holdMs);
      await healProvider(cluster);
      return `provider latency ${latencyMs} ms for ${holdMs} ms`;
    }
    case "provider-errors": {
      const failureRate = rng.int(30, 90) / 100;
      const holdMs = rng.int(1500, 3500);
      await cluster.setProviderFaults(0, failureRate);
      await sleep(holdMs);
      await healProvider(cluster);
      return `provider 503 rate ${failureRate} for ${holdMs} ms`;
    }
    case "proxy-drop": {
      const cuts: number[] = [];
      for (let round = rng.int(1, 3); round > 0; round--) {
        cuts.push(cluster.proxy.dropAll());
        if (rng.chance(0.5)) await cluster.proxy.refuse(rng.int(200, 1000));
        else await sleep(rng.int(100, 500));
      }
      return `app↔provider connections dropped ${cuts.length}× (${cuts.join("+")} cut)`;
    }
    case "mysql-kill": {
      const killed: number[] = [];
      for (let round = rng.int(1, 3); round > 0; round--) {
        killed.push(await cluster.killAppConnections());
        await sleep(rng.int(100, 400));
      }
      return `app MySQL connections killed ${killed.length}× (${killed.join("+")})`;
    }
    case "redis-restart": {
      const downMs = rng.int(200, 1000);
      await cluster.restartRedis(downMs);
      return `Redis killed, down ${downMs} ms, restarted empty`;
    }
  }
}

const processFaults: FaultKind[] = ["app-crash", "provider-restart", "redis-restart"];

export async function runNemesis(options: {
  cluster: Cluster;
  history: History;
  rng: Random;
  kinds: FaultKind[];
  /** Epoch ms: no fault starts after this. */
  deadline: number;
  log: (line: string) => void;
}): Promise<void> {
  const { cluster, history, deadline, log } = options;
  const pause = (ms: number) => sleep(Math.max(0, Math.min(ms, deadline - Date.now())));
  const lane = async (kinds: FaultKind[], rng: Random, warmupMs: number) => {
    if (kinds.length === 0) return;
    // Let the workload get going first, so the first fault hits traffic.
    await pause(warmupMs);
    while (Date.now() < deadline) {
      for (const kind of rng.shuffled(kinds)) {
        if (Date.now() >= deadline) return;
        const start = history.now();
        let detail: string;
        let ok = true;
        try {
          detail = await inject(kind, cluster, rng);
        } catch (error) {
          ok = false;
          detail = `injection failed: ${error instanceof Error ? error.message.split("\n")[0] : error}`;
        }
        history.faults.push({ kind, start, end: history.now(), ok, detail });
        log(`  [${(start / 1000).toFixed(1)} s] fault ${kind}: ${detail}`);
        await pause(rng.int(200, 1200));
      }
    }
  };
  await Promise.all([
    lane(
      options.kinds.filter((kind) => processFaults.includes(kind)),
      options.rng.fork(),
      1500,
    ),
    lane(
      options.kinds.filter((kind) => !processFaults.includes(kind)),
      options.rng.fork(),
      2500,
    ),
  ]);
}
