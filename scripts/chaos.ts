/**
 * `npm run chaos` (npx tsx scripts/chaos.ts [--seconds N] [--store mysql|redis|both] [--seed N] [--customers N]):
 * the chaos soak. A mixed workload against two production app servers while faults are injected at random, then
 * both ledgers and the whole history are checked (testing/chaos/checker.ts). Exits 1 on any violation, 2 when the
 * soak itself could not run. Needs `npm run build`, MariaDB and redis-server.
 */
import { existsSync } from "node:fs";
import { parseArgs } from "node:util";
import { stopAllClusters } from "@/testing/chaos/cluster";
import { formatReport } from "@/testing/chaos/report";
import { runChaos } from "@/testing/chaos/run";

const { values } = parseArgs({
  options: {
    seconds: { type: "string", default: "60" },
    store: { type: "string", default: "both" },
    seed: { type: "string" },
    customers: { type: "string", default: "12" },
  },
});

function positive(name: string, value: string | undefined): number {
  const number = Number(value);
  if (!Number.isInteger(number) || number <= 0) {
    console.error(`--${name} must be a positive whole number (got ${value})`);
    process.exit(2);
  }
  return number;
}

const seconds = positive("seconds", values.seconds);
const customers = positive("customers", values.customers);
// Printed with every result, so a failing run can be repeated with the same choices.
const seed = values.seed === undefined ? Date.now() % 2 ** 31 : positive("seed", values.seed);
if (!["mysql", "redis", "both"].includes(values.store ?? "")) {
  console.error(`--store must be mysql, redis or both (got ${values.store})`);
  process.exit(2);
}
const stores = values.store === "both" ? (["mysql", "redis"] as const) : [values.store as "mysql" | "redis"];
if (!existsSync(".next/BUILD_ID")) {
  console.error("No production build: run `npm run build` first.");
  process.exit(2);
}

for (const signal of ["SIGINT", "SIGTERM"] as const) {
  process.once(signal, () => {
    console.error(`\n${signal}: stopping servers and dropping the soak's databases…`);
    void stopAllClusters().finally(() => process.exit(130));
  });
}

let failed = false;
for (const store of stores) {
  try {
    const result = await runChaos({ store, seconds, seed, customers, log: (line) => console.log(line) });
    console.log(formatReport(result));
    failed ||= !result.passed;
  } catch (error) {
    console.error(`chaos soak (${store} store) could not run:`, error);
    process.exitCode = 2;
    break;
  }
}
if (process.exitCode !== 2) process.exitCode = failed ? 1 : 0;
// Everything the soak started is stopped by now; idle keep-alive sockets must not keep the command waiting.
process.exit();
