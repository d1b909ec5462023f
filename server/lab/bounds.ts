/**
 * What one trainee, and a whole class, may hold of the lab server at once. Beyond each bound the request is refused
 * with a 429 that says which bound and when to try again, before it runs anything.
 *
 * Runs going, held claims and live timelines are counted in one ledger that the lab server's primary keeps for all
 * its processes, and given back when a process dies. Crash faults are counted in the database: a count per minute
 * must outlive the process that counted it, which the crash kills.
 */
import cluster from "node:cluster";
import { randomUUID } from "node:crypto";
import { RateLimiterMySQL, RateLimiterRes } from "rate-limiter-flexible";
import { appDatabase } from "../db";
import { env } from "../env";

export const labBounds = {
  /** Scenario runs a trainee has going at once (a run is going while one of its attempts is in flight). */
  runsPerTrainee: 3,
  /** Claims held by a `hold:` fault at once. */
  heldClaimsPerTrainee: 2,
  heldClaimsInTotal: 16,
  /** Live timeline subscriptions open at once. */
  timelinesPerTrainee: 3,
  timelinesInTotal: 200,
  /**
   * Runs with crash faults per minute: each crash kills a lab process, which its supervisor restarts in a second or
   * two. A run may crash once per side (the twin and the shop), and its two crashes count once.
   */
  crashingRunsPerTraineePerMinute: 4,
  crashingRunsPerMinuteInTotal: 15,
  crashesPerRun: 2,
};

export class LabBoundError extends Error {
  override name = "LabBoundError";
  constructor(
    message: string,
    readonly retryAfterMs: number,
  ) {
    super(message);
  }
}

export type HeldKind = "runs" | "heldClaims" | "timelines";

const heldBounds: Record<HeldKind, { perTrainee: number; inTotal: number; what: string; retryAfterMs: number }> = {
  runs: {
    perTrainee: labBounds.runsPerTrainee,
    inTotal: Number.POSITIVE_INFINITY,
    what: "scenario runs going",
    retryAfterMs: 2000,
  },
  heldClaims: {
    perTrainee: labBounds.heldClaimsPerTrainee,
    inTotal: labBounds.heldClaimsInTotal,
    what: "held claims",
    retryAfterMs: 1000,
  },
  timelines: {
    perTrainee: labBounds.timelinesPerTrainee,
    inTotal: labBounds.timelinesInTotal,
    what: "live timelines",
    retryAfterMs: 1000,
  },
};

/**
 * What every trainee holds at once, of one kind: items (a run, a held claim, a timeline), each held once or more
 * (a run's several attempts in flight are one run). A refusal is its message and wait, or null when taken.
 */
class Ledger {
  private readonly perTrainee = new Map<string, Map<string, number>>();
  private total = 0;

  constructor(private readonly kind: HeldKind) {}

  take(trainee: string, item: string): { message: string; retryAfterMs: number } | null {
    const bound = heldBounds[this.kind];
    const items = this.perTrainee.get(trainee) ?? new Map<string, number>();
    const times = items.get(item) ?? 0;
    if (times === 0 && items.size >= bound.perTrainee) {
      const message = `You already have ${items.size} ${bound.what} in the lab (at most ${bound.perTrainee}). Let one finish, then try again.`;
      return { message, retryAfterMs: bound.retryAfterMs };
    }
    if (times === 0 && this.total >= bound.inTotal) {
      const message = `The lab is holding ${this.total} ${bound.what} for the whole class (at most ${bound.inTotal}). Try again in a few seconds.`;
      return { message, retryAfterMs: 2 * bound.retryAfterMs };
    }
    if (times === 0) this.total += 1;
    items.set(item, times + 1);
    this.perTrainee.set(trainee, items);
    return null;
  }

  give(trainee: string, item: string): void {
    const items = this.perTrainee.get(trainee);
    const times = items?.get(item);
    if (!items || times === undefined) return;
    if (times > 1) {
      items.set(item, times - 1);
      return;
    }
    items.delete(item);
    this.total -= 1;
    if (items.size === 0) this.perTrainee.delete(trainee);
  }
}

const newLedgers = (): Record<HeldKind, Ledger> => ({
  runs: new Ledger("runs"),
  heldClaims: new Ledger("heldClaims"),
  timelines: new Ledger("timelines"),
});

interface LedgerMessage {
  labLedger: "take" | "give" | "answer";
  id: number;
  kind: HeldKind;
  trainee: string;
  item: string;
  refusal?: { message: string; retryAfterMs: number } | null;
}

function isLedgerMessage(message: unknown): message is LedgerMessage {
  return typeof message === "object" && message !== null && "labLedger" in message;
}

/**
 * The lab server's primary keeps the one ledger of its processes, so that a trainee's bound holds whichever
 * process each request lands on; what a process held is given back when it dies (a crash fault's, say).
 */
export function keepLabLedger(): void {
  const ledgers = newLedgers();
  const heldBy = new Map<number, Map<string, LedgerMessage>>();
  cluster.on("message", (worker, message: unknown) => {
    if (!isLedgerMessage(message)) return;
    const held = heldBy.get(worker.id) ?? new Map<string, LedgerMessage>();
    heldBy.set(worker.id, held);
    const ledger = ledgers[message.kind];
    if (message.labLedger === "take") {
      const refusal = ledger.take(message.trainee, message.item);
      if (!refusal) held.set(`${message.id}`, message);
      worker.send({ ...message, labLedger: "answer", refusal });
    } else if (message.labLedger === "give") {
      ledger.give(message.trainee, message.item);
      held.delete(`${message.id}`);
    }
  });
  cluster.on("exit", (worker) => {
    for (const taken of heldBy.get(worker.id)?.values() ?? []) ledgers[taken.kind].give(taken.trainee, taken.item);
    heldBy.delete(worker.id);
  });
}

/** A process on its own keeps its ledger itself; a worker asks its primary's. */
const localLedgers = newLedgers();
const waiting = new Map<number, (refusal: LedgerMessage["refusal"]) => void>();
let nextId = 0;
if (cluster.isWorker) {
  process.on("message", (message: unknown) => {
    if (!isLedgerMessage(message) || message.labLedger !== "answer") return;
    waiting.get(message.id)?.(message.refusal);
    waiting.delete(message.id);
  });
}

/**
 * Takes one `item` of `kind` for the trainee, or throws the 429's error; the returned function gives it back
 * (once).
 */
export async function take(kind: HeldKind, trainee: string, item: string): Promise<() => void> {
  const id = ++nextId;
  let refusal: LedgerMessage["refusal"];
  if (cluster.isWorker && process.send) {
    const answered = new Promise<LedgerMessage["refusal"]>((resolve) => waiting.set(id, resolve));
    process.send({ labLedger: "take", id, kind, trainee, item } satisfies LedgerMessage);
    refusal = await answered;
  } else {
    refusal = localLedgers[kind].take(trainee, item);
  }
  if (refusal) throw new LabBoundError(refusal.message, refusal.retryAfterMs);
  let given = false;
  return () => {
    if (given) return;
    given = true;
    if (cluster.isWorker && process.send)
      process.send({ labLedger: "give", id, kind, trainee, item } satisfies LedgerMessage);
    else localLedgers[kind].give(trainee, item);
  };
}

const holder = globalThis as typeof globalThis & { labCrashBudgets?: Record<string, RateLimiterMySQL> };

function crashBudgets() {
  const budget = (keyPrefix: string, points: number, duration: number) =>
    new RateLimiterMySQL({
      storeClient: appDatabase().db.$client.pool,
      storeType: "pool",
      dbName: new URL(env().DATABASE_URL).pathname.slice(1),
      tableName: "rate_limits",
      tableCreated: true,
      clearExpiredByTimeout: false,
      keyPrefix,
      points,
      duration,
    });
  holder.labCrashBudgets ??= {
    run: budget("labCrashesOfRun", labBounds.crashesPerRun, 600),
    trainee: budget("labCrashingRuns", labBounds.crashingRunsPerTraineePerMinute, 60),
    class: budget("labCrashingRunsAll", labBounds.crashingRunsPerMinuteInTotal, 60),
  };
  return holder.labCrashBudgets as Record<"run" | "trainee" | "class", RateLimiterMySQL>;
}

async function spendOrRefuse(budget: RateLimiterMySQL, key: string, refusal: string): Promise<RateLimiterRes> {
  try {
    return await budget.consume(key);
  } catch (rejection) {
    if (!(rejection instanceof RateLimiterRes)) throw rejection;
    throw new LabBoundError(refusal, rejection.msBeforeNext);
  }
}

/**
 * Counts a crash fault of `run` (a request without one is a run of its own) against the run's, the trainee's and
 * the class's budgets, or throws the 429's error. Counted in the database: the crash kills the process that counted.
 */
export async function spendCrash(trainee: string, run: string | null): Promise<void> {
  const budgets = crashBudgets();
  const runKey = `${trainee}:${run ?? randomUUID()}`;
  const spent = await spendOrRefuse(
    budgets.run,
    runKey,
    `This run has crashed the lab ${labBounds.crashesPerRun} times already (once per side is the most).`,
  );
  // The run's second crash (the other side's) was paid for with its first.
  if (spent.consumedPoints > 1) return;
  try {
    await spendOrRefuse(
      budgets.trainee,
      trainee,
      `You have run ${labBounds.crashingRunsPerTraineePerMinute} crashing scenarios this minute (the most one trainee may).`,
    );
    await spendOrRefuse(
      budgets.class,
      "all",
      `The class has run ${labBounds.crashingRunsPerMinuteInTotal} crashing scenarios this minute (the most it may).`,
    );
  } catch (error) {
    // Refused, the run has not crashed: its retry may, once the budget allows.
    await budgets.run.delete(runKey).catch(() => undefined);
    throw error;
  }
}

/** The 429 a bound answers with, shaped as tRPC's errors are, with Retry-After. */
export function refusalOf(error: LabBoundError, procedurePath: string | null): Response {
  const retryAfterSeconds = Math.max(1, Math.ceil(error.retryAfterMs / 1000));
  const body = {
    error: {
      message: `${error.message} Try again in ${retryAfterSeconds} s.`,
      code: -32029,
      data: {
        code: "TOO_MANY_REQUESTS",
        httpStatus: 429,
        path: procedurePath,
        retryAfterMs: retryAfterSeconds * 1000,
        labBound: true,
      },
    },
  };
  return new Response(JSON.stringify(body), {
    status: 429,
    headers: { "content-type": "application/json", "retry-after": String(retryAfterSeconds) },
  });
}
