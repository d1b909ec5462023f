/**
 * The one fault system, for the training lab and for tests alike: a request to the lab server (server/lab/main.ts)
 * may ask it, in the `x-fault` header, to cause one failure. The shop's own server has no instruments installed,
 * so the header means nothing there.
 * - `lose-request`: the connection is cut before the server reads the call: nothing runs.
 * - `lose-response`: the call runs and commits, then the connection is cut before the answer is sent.
 * - `hold:<ms>`: the call holds its idempotency key that long once claimed, as a slow first attempt would.
 * - `crash:<point>`: the server process is killed at a named point of the call's work (server/instruments.ts), as
 *   a power cut would; the lab server's supervisor starts another.
 */
import type { InstrumentedPoint } from "../instruments";

export const faultHeader = "x-fault";
/** Which browser tab sent a lab request, for the timeline. */
export const labTabHeader = "x-lab-tab";
/** Which run of which scenario a lab request belongs to: the mark of a lab attempt, recorded on the timeline. */
export const labRunHeader = "x-lab-run";

/** The points a request may crash at. */
export const crashPoints = [
  "claimed",
  "before-commit",
  "payment_created",
  "charge_attempted",
] as const satisfies readonly InstrumentedPoint[];
export type CrashPoint = (typeof crashPoints)[number];

export function isCrashPoint(point: string): point is CrashPoint {
  return (crashPoints as readonly string[]).includes(point);
}

export type Fault =
  | { kind: "lose-request" }
  | { kind: "lose-response" }
  | { kind: "hold"; ms: number }
  | { kind: "crash"; point: CrashPoint };

export const maxHoldMs = 10_000;

export function faultOf(headers: Headers): Fault | null {
  const value = headers.get(faultHeader);
  if (value === "lose-request" || value === "lose-response") return { kind: value };
  const hold = /^hold:(\d{1,5})$/.exec(value ?? "");
  if (hold) return { kind: "hold", ms: Math.min(Number(hold[1]), maxHoldMs) };
  const point = /^crash:([\w-]+)$/.exec(value ?? "")?.[1];
  if (point && isCrashPoint(point)) return { kind: "crash", point };
  return null;
}
