/**
 * `npm run lab:classroom -- [--trainees 30] [--seconds 60] [--shoppers 4]`: a class in the training lab while the
 * shop serves its shoppers, on one machine, as `npm run serve` runs them (the shop's server, and the lab's own
 * beside it). Each simulated trainee keeps its live timelines open and runs every scenario both ways, with their
 * crashes, held claims and lost answers, for the class's length and until each has shown its lesson; simulated
 * shoppers browse and buy on the shop meanwhile. Then the shoppers alone, for as long again: the quiet run.
 *
 * It prints each trainee's results and the shoppers' availability and latency, class beside quiet, and fails
 * unless every trainee saw every scenario's lesson, the shoppers had every call answered, and their p95 in class
 * stayed within 1.5 times the quiet run's. Shoppers and trainees run in processes of their own, the trainees' at a
 * lower CPU priority, so that the class's clients do not slow the shoppers' clock.
 * Needs `npm run build`. All simulated clients share one address, so the per-address limit on new sessions is off.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { availableParallelism, setPriority } from "node:os";
import { parseArgs } from "node:util";
import { count, like } from "drizzle-orm";
import { openDatabase } from "@/db/client";
import { labEvents } from "@/db/schema";
import { labBounds } from "@/server/lab/bounds";
import { labServerEnvironment } from "@/server/lab/server-env";
import { startAppServer, startLabServer } from "@/testing/app-server";
import { freePort } from "@/testing/chaos/cluster";
import { runShopper, type ShopperReport } from "@/testing/classroom/shopper";
import { runTrainee, type TraineeReport } from "@/testing/classroom/trainee";
import { startProviderServer } from "@/testing/provider-server";
import { createTestDatabase } from "@/testing/test-database";

const { values } = parseArgs({
  options: {
    role: { type: "string", default: "class" },
    trainees: { type: "string", default: "30" },
    seconds: { type: "string", default: "60" },
    shoppers: { type: "string", default: "4" },
    "max-seconds": { type: "string", default: "480" },
    url: { type: "string" },
  },
});
const trainees = Number(values.trainees);
const seconds = Number(values.seconds);
const shoppers = Number(values.shoppers);

/** The shoppers' process: shops until told to stop on stdin, then prints its report as one JSON line. */
async function shoppersRole(shopUrl: string): Promise<void> {
  let stop = false;
  process.stdin.on("data", () => {
    stop = true;
  });
  const report: ShopperReport = { calls: 0, answered: 0, failures: {}, latenciesMs: [] };
  await Promise.all(Array.from({ length: shoppers }, () => runShopper(shopUrl, () => !stop, report)));
  process.stdout.write(`${JSON.stringify(report)}\n`);
}

/** The trainees' process: the whole class, each trainee on its own, then their reports as one JSON line. */
async function traineesRole(labUrl: string): Promise<void> {
  setPriority(10);
  const until = Date.now() + seconds * 1000;
  const giveUpAt = Date.now() + Number(values["max-seconds"]) * 1000;
  const reports = await Promise.all(
    Array.from({ length: trainees }, (_, index) =>
      runTrainee({ labUrl, name: `trainee-${index + 1}`, until, giveUpAt, timelines: labBounds.timelinesPerTrainee }),
    ),
  );
  process.stdout.write(`${JSON.stringify(reports)}\n`);
}

function child(role: string, url: string): { process: ChildProcess; report: Promise<unknown> } {
  const started = spawn(
    process.execPath,
    ["--import", "tsx", "scripts/lab-classroom.ts", "--role", role, "--url", url, ...forwarded()],
    { stdio: ["pipe", "pipe", "inherit"] },
  );
  let output = "";
  started.stdout?.on("data", (chunk) => {
    output += chunk;
  });
  const report = new Promise((resolve, reject) =>
    started.on("exit", (code) => {
      const line = output.trim().split("\n").at(-1) ?? "";
      if (code === 0) resolve(JSON.parse(line));
      else reject(new Error(`the ${role} process exited with ${code}:\n${output}`));
    }),
  );
  return { process: started, report };
}

function forwarded(): string[] {
  return [
    "--trainees",
    String(trainees),
    "--seconds",
    String(seconds),
    "--shoppers",
    String(shoppers),
    "--max-seconds",
    String(values["max-seconds"]),
  ];
}

function percentile(sorted: number[], p: number): number {
  return sorted.length === 0 ? 0 : (sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * p))] as number);
}

function describeShoppers(name: string, report: ShopperReport, lengthS: number) {
  const sorted = [...report.latenciesMs].sort((a, b) => a - b);
  const p95 = percentile(sorted, 0.95);
  const failures =
    Object.entries(report.failures)
      .map(([what, n]) => `${n}× ${what}`)
      .join(", ") || "none";
  console.log(
    `${name.padEnd(6)} ${lengthS.toFixed(0).padStart(4)} s  ${String(report.calls).padStart(6)} calls  ` +
      `${((100 * report.answered) / Math.max(1, report.calls)).toFixed(2).padStart(6)} % answered  ` +
      `p50 ${percentile(sorted, 0.5).toFixed(1).padStart(6)} ms  p95 ${p95.toFixed(1).padStart(6)} ms  ` +
      `p99 ${percentile(sorted, 0.99).toFixed(1).padStart(6)} ms  not answered: ${failures}`,
  );
  return { p95, allAnswered: report.answered === report.calls && report.calls > 0 };
}

async function classRole(): Promise<void> {
  if (!existsSync(".next/BUILD_ID")) {
    console.error("No production build: run `npm run build` first.");
    process.exit(1);
  }
  const stops: (() => Promise<void>)[] = [];
  try {
    const [appDatabase, providerDatabase] = await Promise.all([
      createTestDatabase("classroom"),
      createTestDatabase("classprov", "provider"),
    ]);
    stops.push(
      () => appDatabase.drop(),
      () => providerDatabase.drop(),
    );
    const provider = await startProviderServer({ port: await freePort(), databaseUrl: providerDatabase.appUrl });
    stops.push(() => provider.stop());
    const [shopPort, labPort] = [await freePort(), await freePort()];
    const labUrl = `http://127.0.0.1:${labPort}`;
    const common = {
      DATABASE_URL: appDatabase.appUrl,
      PAYMENT_PROVIDER_URL: provider.url,
      LAB_URL: labUrl,
      // As shipped, but for new sessions per address: every simulated client here has the same one.
      RATE_LIMIT_WRITES_PER_MINUTE: "60",
      RATE_LIMIT_SESSIONS_PER_MINUTE: "0",
    };
    const shopProcesses = availableParallelism();
    const labEnv = labServerEnvironment(process.env, String(labPort));
    const [shop, lab] = await Promise.all([
      startAppServer({ port: shopPort, processes: shopProcesses, env: common }),
      startLabServer({ port: labPort, processes: Number(labEnv.SERVER_PROCESSES), env: { ...common, ...labEnv } }),
    ]);
    stops.push(
      () => shop.stop(),
      () => lab.stop(),
    );
    console.log(
      `Shop: ${shopProcesses} processes on ${shop.url}; lab: ${labEnv.SERVER_PROCESSES} processes (pool ${labEnv.DATABASE_POOL_SIZE} each, nice ${process.env.LAB_NICE ?? 10}) on ${labUrl}`,
    );
    console.log(`Class: ${trainees} trainees for at least ${seconds} s, ${shoppers} shoppers; then the quiet run.`);

    // Warm-up: the shop's processes compile their hot paths before anything is measured.
    const warmUp = child("shoppers", shop.url);
    await new Promise((resolve) => setTimeout(resolve, 5000));
    warmUp.process.stdin?.end("stop\n");
    await warmUp.report;

    const classStarted = Date.now();
    const classShoppers = child("shoppers", shop.url);
    const traineeReports = (await child("trainees", labUrl).report) as TraineeReport[];
    classShoppers.process.stdin?.end("stop\n");
    const classReport = (await classShoppers.report) as ShopperReport;
    const classSeconds = (Date.now() - classStarted) / 1000;

    const quietShoppers = child("shoppers", shop.url);
    await new Promise((resolve) => setTimeout(resolve, classSeconds * 1000));
    quietShoppers.process.stdin?.end("stop\n");
    const quietReport = (await quietShoppers.report) as ShopperReport;

    const database = openDatabase(appDatabase.appUrl, { poolSize: 1 });
    const fired = async (pattern: string) =>
      (await database.db.select({ n: count() }).from(labEvents).where(like(labEvents.outcome, pattern)))[0]?.n ?? 0;
    const faults = {
      crashes: await fired("process killed at %"),
      lostAnswers: await fired("%then the answer was lost"),
      lostRequests: await fired("request lost before the server%"),
      refusedByBounds: await fired("refused: lab bound%"),
    };
    const holds = (await database.db.select({ n: count() }).from(labEvents).where(like(labEvents.detail, "hold")))[0]
      ?.n;
    await database.close();

    console.log(
      "\nTrainees (per scenario: runs that showed the lesson / runs; disturbed by others' crashes; refused by a bound):",
    );
    let everyResult = true;
    let runs = 0;
    for (const trainee of traineeReports) {
      const cells = Object.entries(trainee.scenarios).map(([id, s]) => {
        runs += s.runs;
        if (s.held === 0) everyResult = false;
        return `${id} ${s.held}/${s.runs}${s.disturbed ? ` d${s.disturbed}` : ""}${s.refused ? ` r${s.refused}` : ""}`;
      });
      const timelinesHeld = trainee.timelinesOpen === labBounds.timelinesPerTrainee && trainee.extraTimelineRefused;
      if (!timelinesHeld || Object.keys(trainee.scenarios).length < 10) everyResult = false;
      for (const why of trainee.disturbances) console.log(`    disturbed: ${why.slice(0, 300)}`);
      console.log(
        `  ${trainee.name}: ${cells.join(", ")}; timelines ${trainee.timelinesOpen} open (one more ${trainee.extraTimelineRefused ? "refused" : "NOT refused"}), ${trainee.eventsSeen} events seen`,
      );
    }
    console.log(
      `\n${traineeReports.length} trainees, ${runs} scenario runs; faults fired: ${faults.crashes} crashes, ${holds} held claims, ${faults.lostAnswers} lost answers, ${faults.lostRequests} lost requests; ${faults.refusedByBounds} attempts refused by a bound`,
    );

    console.log("\nShoppers on the shop's server:");
    const inClass = describeShoppers("class", classReport, classSeconds);
    const quiet = describeShoppers("quiet", quietReport, classSeconds);
    const ratio = inClass.p95 / Math.max(quiet.p95, 0.001);
    const checks = [
      [everyResult, "every trainee saw every scenario's lesson, its timelines bounded"],
      [inClass.allAnswered && quiet.allAnswered, "the shoppers had every call answered"],
      [ratio <= 1.5, `the shoppers' p95 in class is ${ratio.toFixed(2)}× the quiet run's (at most 1.5×)`],
    ] as const;
    for (const [ok, what] of checks) console.log(`${ok ? "met" : "NOT met"}: ${what}`);
    const passed = checks.every(([ok]) => ok);
    console.log(`classroom: ${passed ? "PASSED" : "FAILED"}`);
    process.exitCode = passed ? 0 : 1;
  } finally {
    for (const stop of stops.reverse()) await stop().catch(() => undefined);
  }
}

if (values.role === "shoppers") await shoppersRole(values.url as string);
else if (values.role === "trainees") await traineesRole(values.url as string);
else await classRole();
