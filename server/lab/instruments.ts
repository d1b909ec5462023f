/**
 * The lab server's instruments (server/instruments.ts), installed by its entry (server/lab/main.ts) and by nothing
 * else. Around each API call they:
 * - bound what a trainee holds (server/lab/bounds.ts): runs going, held claims, crashes, live timelines;
 * - record each attempt of a scenario run (a request naming its run in `x-lab-run`) step by step on the timeline:
 *   its arrival, each named point its work reached, and its answer;
 * - cause the fault a request asks for (server/lab/faults.ts).
 * Any guest of the lab server is a trainee: the lab server is for training alone, and the shop's server has no
 * instruments, so nothing sent there causes anything.
 */
import { AsyncLocalStorage } from "node:async_hooks";
import cluster from "node:cluster";
import { randomUUID } from "node:crypto";
import { appDatabase } from "../db";
import { env } from "../env";
import { servedBy } from "../http/served-by";
import { idempotencyKeyHeader, replayedHeader } from "../idempotency/key";
import type { ApiExchange, Instruments } from "../instruments";
import { readCookie, sessionCookieName, verifySession } from "../session";
import { LabBoundError, refusalOf, spendCrash, take } from "./bounds";
import { type NewLabEvent, outcomeOfAnswer, recordLabEvents } from "./events";
import { type CrashPoint, type Fault, faultHeader, faultOf, labRunHeader, labTabHeader } from "./faults";

/** The lab's own procedures that stand for the unprotected side; every other lab procedure is the lab's machinery. */
const unprotectedTwins = new Set(["lab.placeOrderUnprotected", "lab.payUnprotected"]);

/** The twin's own steps, beside the named points of the shop's work. */
export type TwinStep = "twin-order" | "twin-charge";

interface LabAttempt {
  exchange: ApiExchange;
  fault: Fault | null;
  /** What every row of this attempt shares. */
  row: Omit<NewLabEvent, "step" | "detail" | "httpStatus" | "outcome" | "createdAt">;
  /** Steps not yet written: the answer writes them, with their own times, in one insert. */
  steps: NewLabEvent[];
  /** The arrival's insert, written at once so that a slow attempt shows while it runs. */
  arrival: Promise<void>;
}

const attempts = new AsyncLocalStorage<LabAttempt>();

/** API calls in flight in this process, and how many of them are waiting to crash it. */
let inFlight = 0;
let crashing = 0;
/** How long a crash lets this process's other calls finish before it kills the process. */
const crashDrainMs = 4000;
/** Time for the supervisor to hear that a process about to be killed takes no more connections. */
const leaveRotationMs = 100;

const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

function traineeOf(headers: Headers): string | null {
  const { SESSION_COOKIE_SECURE, SESSION_SECRET } = env();
  const cookie = readCookie(headers.get("cookie"), sessionCookieName(SESSION_COOKIE_SECURE === "true"));
  return cookie === undefined ? null : (verifySession(cookie, SESSION_SECRET)?.customerId ?? null);
}

function wantsEvents(headers: Headers): boolean {
  return headers.get("accept")?.includes("text/event-stream") ?? false;
}

function step(attempt: LabAttempt, name: string, detail?: string, httpStatus = 0, outcome = name): void {
  attempt.steps.push({
    ...attempt.row,
    step: name,
    detail: detail?.slice(0, 64) ?? null,
    httpStatus,
    outcome: outcome.slice(0, 64),
    createdAt: new Date(),
  });
}

/** Writes steps of an attempt; recording never fails the attempt itself, and a failure is said once. */
function record(steps: NewLabEvent[]): Promise<void> {
  return recordLabEvents(appDatabase().db, steps).catch((error: unknown) =>
    console.error("lab: an attempt could not be recorded:", error instanceof Error ? error.message : error),
  );
}

/** Writes the attempt's steps so far, after its arrival. */
async function flush(attempt: LabAttempt): Promise<void> {
  const steps = attempt.steps.splice(0);
  await attempt.arrival;
  await record(steps);
}

/**
 * Starts the answer and waits until it has left, without finishing it. A browser silently sends a request again
 * when its connection fails before any answer, so a lost answer or a crash starts one first: the attempts a trainee
 * sees are then the ones the page made.
 */
function startAnswer({ res }: ApiExchange, status = 200): Promise<void> {
  res.writeHead(status, { "content-type": "application/json", "content-length": "1024" });
  return new Promise((resolve) => res.write(" ", () => resolve()));
}

function cut({ req }: ApiExchange): void {
  req.socket.destroy();
}

/**
 * At the named point, the process dies, as a power cut would. It leaves the supervisor's rotation first and lets
 * its other calls (other trainees') finish, up to a bound, so that one trainee's crash is not another's.
 */
async function crash(attempt: LabAttempt, point: CrashPoint): Promise<never> {
  step(attempt, "answered", point, 0, `process killed at ${point}`);
  await flush(attempt);
  await startAnswer(attempt.exchange);
  crashing += 1;
  if (cluster.isWorker) {
    // A connection node:cluster hands to a process as it dies is lost without a word (its client waits for its
    // own timeout), which would hide the lesson behind a long wait.
    cluster.worker?.disconnect();
    await pause(leaveRotationMs);
  }
  const giveUpAt = Date.now() + crashDrainMs;
  while (inFlight > crashing && Date.now() < giveUpAt) await pause(50);
  process.kill(process.pid, "SIGKILL");
  // What a dead holder does from here: nothing. Its lease runs out and the next attempt, or the completer, resumes.
  return new Promise<never>(() => {});
}

async function atPoint(attempt: LabAttempt, point: string): Promise<void> {
  const { fault } = attempt;
  if (fault?.kind === "hold" && point === "claimed") await pause(fault.ms);
  if (fault?.kind === "crash" && fault.point === point) await crash(attempt, fault.point);
}

/** A named point of the shop's work, reached inside a lab attempt. */
async function reached(point: string, detail?: string): Promise<void> {
  const attempt = attempts.getStore();
  if (!attempt) return;
  step(attempt, point, detail);
  await atPoint(attempt, point);
}

/** A step of the unprotected twin, standing where the shop's work would reach `point`. */
export async function twinReached(name: TwinStep, point?: CrashPoint): Promise<void> {
  const attempt = attempts.getStore();
  if (!attempt) return;
  step(attempt, name);
  if (point) await atPoint(attempt, point);
}

/** Counts a call in flight for as long as it runs. */
async function counted<T>(work: () => Promise<T>): Promise<T> {
  inFlight += 1;
  try {
    return await work();
  } finally {
    inFlight -= 1;
  }
}

/** A live timeline: bounded per trainee and in total for as long as its connection stays open. */
async function liveTimeline(exchange: ApiExchange, answer: () => Promise<Response>): Promise<Response> {
  const trainee = traineeOf(exchange.headers);
  if (trainee === null) return answer();
  try {
    const giveBack = await take("timelines", trainee, randomUUID());
    exchange.res.once("close", giveBack);
  } catch (error) {
    if (error instanceof LabBoundError) return refusalOf(error, exchange.procedurePath);
    throw error;
  }
  return answer();
}

async function labAttempt(
  exchange: ApiExchange,
  trainee: string,
  answer: () => Promise<Response>,
): Promise<Response | null> {
  const { headers, procedurePath } = exchange;
  const fault = faultOf(headers);
  const run = headers.get(labRunHeader)?.slice(0, 36) ?? null;
  const attempt: LabAttempt = {
    exchange,
    fault,
    row: {
      labSession: trainee,
      run,
      attempt: randomUUID(),
      side: procedurePath && unprotectedTwins.has(procedurePath) ? "unprotected" : "protected",
      tab: headers.get(labTabHeader)?.slice(0, 64) ?? null,
      servedBy,
      procedurePath: (procedurePath ?? "?").slice(0, 64),
      idempotencyKey: headers.get(idempotencyKeyHeader)?.slice(0, 255) ?? null,
    },
    steps: [],
    arrival: Promise.resolve(),
  };
  step(attempt, "arrived", fault ? `${fault.kind}` : undefined);
  attempt.arrival = record(attempt.steps.splice(0));
  // Each lab attempt gets a connection of its own, so that no fault falls on a connection the page reuses.
  exchange.res.setHeader("connection", "close");

  const giveBack: (() => void)[] = [];
  const release = () => {
    for (const each of giveBack) each();
  };
  try {
    if (run) giveBack.push(await take("runs", trainee, run));
    if (fault?.kind === "hold") giveBack.push(await take("heldClaims", trainee, attempt.row.attempt as string));
    if (fault?.kind === "crash") await spendCrash(trainee, run);
  } catch (error) {
    release();
    if (!(error instanceof LabBoundError)) throw error;
    step(attempt, "answered", undefined, 429, "refused: lab bound (429)");
    await flush(attempt);
    return refusalOf(error, procedurePath);
  }

  if (fault?.kind === "lose-request") {
    release();
    step(attempt, "answered", undefined, 0, "request lost before the server: nothing ran");
    await flush(attempt);
    cut(exchange);
    return null;
  }
  let response: Response;
  try {
    response = await attempts.run(attempt, answer);
  } finally {
    release();
  }
  const outcome = outcomeOfAnswer(response.status, response.headers.get(replayedHeader) === "true");
  const lost = fault?.kind === "lose-response";
  step(attempt, "answered", undefined, response.status, lost ? `${outcome}, then the answer was lost` : outcome);
  await flush(attempt);
  if (!lost) return response;
  await startAnswer(exchange, response.status);
  cut(exchange);
  return null;
}

export const labInstruments: Instruments = {
  aroundApiCall(exchange, answer) {
    const { headers, procedurePath } = exchange;
    if (procedurePath === "lab.timeline" && wantsEvents(headers)) return liveTimeline(exchange, answer);
    return counted(async () => {
      // A lab attempt names its run or asks for a fault: a shop procedure (the protected side) or a twin.
      const isAttempt =
        (headers.has(labRunHeader) || headers.has(faultHeader)) &&
        procedurePath !== null &&
        (!procedurePath.startsWith("lab.") || unprotectedTwins.has(procedurePath));
      const trainee = isAttempt ? traineeOf(headers) : null;
      return trainee === null ? answer() : labAttempt(exchange, trainee, answer);
    });
  },
  reached,
};
