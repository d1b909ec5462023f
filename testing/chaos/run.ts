/**
 * One chaos soak against one idempotency store: start the cluster, run the workload and the nemesis until the
 * deadline, heal, wait (bounded) for background work to settle, run the reconciler twice as an operator would,
 * read both ledgers and check everything. `runChaos` is what scripts/chaos.ts and a Vitest test call.
 */
import { execFile } from "node:child_process";
import { mkdirSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { testSessionSecret } from "../app-server";
import { type CheckResult, checkRun, type Violation } from "./checker";
import { Cluster, type StoreKind, soakTiming } from "./cluster";
import { type Attempt, errorCode, History } from "./history";
import { type Ledgers, readLedgers, readUnresolved } from "./ledger";
import { faultKindsFor, runNemesis } from "./nemesis";
import { Random, sleep } from "./random";
import { runWorkload } from "./workload";

export interface ChaosOptions {
  store: StoreKind;
  seconds: number;
  seed: number;
  /** Concurrent virtual customers (8–16 keeps two cores busy without starving the servers). */
  customers?: number;
  /** A request with no answer by then counts as lost (status 0) and is retried. */
  requestTimeoutMs?: number;
  /** Added to the contract's bound (lease + 2 background intervals + provider timeout) while settling. */
  settleSlackMs?: number;
  /** Where the history, ledgers, result and server logs go; a fresh temporary directory by default. */
  outputDir?: string;
  log?: (line: string) => void;
}

export interface ReconcilerRun {
  exitCode: number;
  repaired: number;
  output: string;
}

export interface ChaosResult extends CheckResult {
  store: StoreKind;
  seed: number;
  seconds: number;
  wallMs: number;
  customers: number;
  attemptsByKind: Record<string, Record<string, number>>;
  faultsByKind: Record<string, number>;
  failedFaults: string[];
  settle: { ms: number; boundMs: number; left: string[] };
  reconcilerRuns: ReconcilerRun[];
  outputDir: string;
  passed: boolean;
}

const run = promisify(execFile);

/** `npm run reconcile` against the cluster, straight to the provider (the proxy is the nemesis's, not ours). */
async function reconcileOnce(cluster: Cluster): Promise<ReconcilerRun> {
  const env = {
    ...process.env,
    ...cluster.appEnv,
    SESSION_SECRET: testSessionSecret,
    PAYMENT_PROVIDER_URL: cluster.providerUrl,
  };
  try {
    const { stdout, stderr } = await run("node_modules/.bin/tsx", ["scripts/reconcile.ts"], { env, timeout: 60_000 });
    const output = stdout + stderr;
    return { exitCode: 0, repaired: output.match(/^repaired:/gm)?.length ?? 0, output };
  } catch (error) {
    const failed = error as { code?: number; stdout?: string; stderr?: string };
    const output = `${failed.stdout ?? ""}${failed.stderr ?? ""}`;
    return {
      exitCode: typeof failed.code === "number" ? failed.code : -1,
      repaired: output.match(/^repaired:/gm)?.length ?? 0,
      output,
    };
  }
}

/** How an attempt ended, for the tally: the status and code, and for no answer, why. */
function outcomeLabel(attempt: Attempt): string {
  if (attempt.status === 0) {
    if (attempt.mode === "abandoned") return "0 abandoned";
    return attempt.error?.startsWith("no answer within") ? "0 client timeout" : "0 network";
  }
  return `${attempt.status} ${errorCode(attempt) ?? ""}`.trim();
}

function tally<T>(items: T[], keyOf: (item: T) => string): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const item of items) counts[keyOf(item)] = (counts[keyOf(item)] ?? 0) + 1;
  return counts;
}

export async function runChaos(options: ChaosOptions): Promise<ChaosResult> {
  const log = options.log ?? (() => undefined);
  const customers = options.customers ?? 12;
  const began = Date.now();
  const outputDir =
    options.outputDir ?? join(tmpdir(), `eoc-chaos-${options.store}-seed${options.seed}-${began.toString(36)}`);
  const rng = new Random(options.seed);
  log(`chaos (${options.store} store, seed ${options.seed}): starting two app servers, the provider and its proxy…`);
  const cluster = await Cluster.start(options.store);
  try {
    log(`  app servers ${cluster.appUrls.join(", ")}; provider ${cluster.providerUrl} via proxy ${cluster.proxy.url}`);
    const history = new History();
    const deadline = Date.now() + options.seconds * 1000;
    const kinds = faultKindsFor(options.store);
    log(`  ${customers} customers for ${options.seconds} s; faults: ${kinds.join(", ")}`);
    const drainLog = setInterval(() => {
      if (Date.now() < deadline) return;
      log(`  draining: ${history.inFlight.size} requests in flight: ${[...history.inFlight].slice(0, 3).join("; ")}`);
    }, 5000);
    await Promise.all([
      runWorkload({
        history,
        rng: rng.fork(),
        servers: cluster.appUrls,
        customers,
        deadline,
        requestTimeoutMs: options.requestTimeoutMs ?? 10_000,
      }),
      runNemesis({ cluster, history, rng: rng.fork(), kinds, deadline, log }).then(() => log("  nemesis done")),
    ]).finally(() => clearInterval(drainLog));
    log(
      `  traffic stopped at ${(history.now() / 1000).toFixed(1)} s with ${history.attempts.length} attempts; healing`,
    );
    const violations: Violation[] = [];
    try {
      await cluster.heal();
    } catch (error) {
      violations.push({ invariant: "setup", message: `the cluster could not be healed: ${error}` });
    }

    // The contract's bound for settling, from the last step: the lease, plus a background interval to notice and
    // one to finish, plus a provider call; with slack for a runner that died and for two busy cores.
    const boundMs =
      soakTiming.leaseMs +
      2 * soakTiming.backgroundIntervalMs +
      soakTiming.providerTimeoutMs +
      (options.settleSlackMs ?? 10_000);
    const settleStart = Date.now();
    let left: string[] = [];
    for (;;) {
      left = await readUnresolved(cluster).catch((error: unknown) => [`could not read the ledgers: ${error}`]);
      if (left.length === 0 || Date.now() - settleStart >= boundMs) break;
      await sleep(500);
    }
    const settle = { ms: Date.now() - settleStart, boundMs, left };
    log(`  settled in ${settle.ms} ms (bound ${boundMs} ms), ${left.length} unresolved; reconciling twice…`);

    const reconcilerRuns = [await reconcileOnce(cluster), await reconcileOnce(cluster)];
    const second = reconcilerRuns[1] as ReconcilerRun;
    if (second.repaired > 0) {
      violations.push({
        invariant: "reconciler idempotent",
        message: `the second reconciler run repaired ${second.repaired} more things; it should do nothing`,
        evidence: second.output,
      });
    }

    const ledgers: Ledgers = await readLedgers(cluster);
    const checked = checkRun({
      attempts: history.attempts,
      faults: history.faults,
      ledgers,
      store: options.store,
      expectedFaults: kinds,
    });
    checked.violations.unshift(...violations);

    const result: ChaosResult = {
      ...checked,
      store: options.store,
      seed: options.seed,
      seconds: options.seconds,
      wallMs: Date.now() - began,
      customers,
      attemptsByKind: Object.fromEntries(
        (["session", "place", "pay", "refund"] as const).map((kind) => [
          kind,
          tally(
            history.attempts.filter((a) => a.kind === kind),
            outcomeLabel,
          ),
        ]),
      ),
      faultsByKind: tally(
        history.faults.filter((f) => f.ok),
        (f) => f.kind,
      ),
      failedFaults: history.faults.filter((f) => !f.ok).map((f) => `${f.kind}: ${f.detail}`),
      settle,
      reconcilerRuns,
      outputDir,
      passed: checked.violations.length === 0,
    };
    mkdirSync(join(outputDir, "logs"), { recursive: true });
    writeFileSync(join(outputDir, "history.json"), JSON.stringify(history, null, 1));
    writeFileSync(join(outputDir, "ledgers.json"), JSON.stringify(ledgers, null, 1));
    writeFileSync(join(outputDir, "result.json"), JSON.stringify(result, null, 1));
    cluster.services.forEach(({ name, service }, index) => {
      writeFileSync(join(outputDir, "logs", `${String(index).padStart(2, "0")}-${name}.log`), service.output());
    });
    return result;
  } finally {
    await cluster.stop();
  }
}
