/**
 * The failures a lab request may ask the server to cause (header `x-lab-fault`), so that every scenario works in
 * any browser with no tooling. Honoured only for lab attempts (a lab session's request, while the lab is enabled):
 * `serveApi` runs each one inside `labAttempts`, and only code inside it can see a fault.
 * - `lose-request`: the connection is cut before the server reads the call: nothing runs.
 * - `lose-response`: the call runs and commits, then the connection is cut before the answer is sent.
 * - `hold:<ms>`: the call holds its idempotency key that long once claimed, as a slow first attempt would.
 * - `crash:<point>`: the server process is killed at a payment's recovery point, as a power cut would, and the
 *   supervisor (node:cluster's primary) starts another. A server of one process has no supervisor: the request is
 *   abandoned there instead, its lease held, which is what the next attempt sees either way.
 */
import { AsyncLocalStorage } from "node:async_hooks";
import cluster from "node:cluster";

export const labFaultHeader = "x-lab-fault";
/** Which browser tab sent a lab request, for the timeline. */
export const labTabHeader = "x-lab-tab";
/** Which run of which scenario a lab request belongs to: the mark of a lab attempt, recorded on the timeline. */
export const labRunHeader = "x-lab-run";

/** The recovery points a lab attempt may crash at: a payment's (server/services/payments.ts). */
export const crashPoints = ["payment_created", "charge_attempted"] as const;
export type CrashPoint = (typeof crashPoints)[number];

export function isCrashPoint(point: string): point is CrashPoint {
  return (crashPoints as readonly string[]).includes(point);
}

export type LabFault =
  | { kind: "lose-request" }
  | { kind: "lose-response" }
  | { kind: "hold"; ms: number }
  | { kind: "crash"; point: CrashPoint };

const maxHoldMs = 10_000;
/** Time for the supervisor to hear that a process about to be killed takes no more connections. */
const leaveRotationMs = 100;

export function labFaultOf(headers: Headers): LabFault | null {
  const value = headers.get(labFaultHeader);
  if (value === "lose-request" || value === "lose-response") return { kind: value };
  const hold = /^hold:(\d{1,5})$/.exec(value ?? "");
  if (hold) return { kind: "hold", ms: Math.min(Number(hold[1]), maxHoldMs) };
  const point = /^crash:(\w+)$/.exec(value ?? "")?.[1];
  if (point && isCrashPoint(point)) return { kind: "crash", point };
  return null;
}

/** One lab attempt in flight: its fault, how it goes on the timeline, and how its answer is cut short. */
export interface LabAttempt {
  fault: LabFault | null;
  record(httpStatus: number, outcome: string): Promise<void>;
  /**
   * Starts the answer and waits until it has left, without finishing it. A browser silently sends a request again
   * when its connection fails before any answer, so a lost answer or a crash starts one first: the attempts a
   * trainee sees are then the ones the page made.
   */
  startAnswer(status?: number): Promise<void>;
  /** Cuts the connection. */
  cut(): void;
}

export const labAttempts = new AsyncLocalStorage<LabAttempt>();

/** The lab's slow first attempt: holds a claimed key for as long as the attempt asked. */
export async function holdIfTheLabAsks(): Promise<void> {
  const fault = labAttempts.getStore()?.fault;
  if (fault?.kind === "hold") await new Promise((resolve) => setTimeout(resolve, fault.ms));
}

/** The lab's crash: at the recovery point the attempt named, its process dies (or, alone, abandons the request). */
export async function crashIfTheLabAsks(point: CrashPoint): Promise<void> {
  const attempt = labAttempts.getStore();
  if (attempt?.fault?.kind !== "crash" || attempt.fault.point !== point) return;
  const supervised = cluster.isWorker;
  await attempt.record(0, supervised ? `process killed at ${point}` : `abandoned at ${point}, lease held`);
  await attempt.startAnswer();
  if (supervised) {
    // Out of the supervisor's rotation first: a connection node:cluster hands to a process as it dies is lost
    // without a word (its client waits for its own timeout), which would hide the lesson behind a long wait.
    cluster.worker?.disconnect();
    await new Promise((resolve) => setTimeout(resolve, leaveRotationMs));
    process.kill(process.pid, "SIGKILL");
  }
  attempt.cut();
  // What a dead holder does from here: nothing. Its lease runs out and the next attempt, or the completer, resumes.
  await new Promise<never>(() => {});
}
