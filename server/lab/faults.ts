/**
 * The failures a lab request may ask the server to cause (header `x-lab-fault`), so that every scenario works in
 * any browser with no tooling. Honoured only for lab requests (session.ts) while the lab is enabled.
 * - `lose-request`: the connection is cut before the server reads the call: nothing runs.
 * - `lose-response`: the call runs and commits, then the connection is cut before the answer is sent.
 * - `hold:<ms>`: the call holds its idempotency key that long once claimed, as a slow first attempt would.
 */
export const labFaultHeader = "x-lab-fault";
/** Which browser tab sent a lab request, for the timeline. */
export const labTabHeader = "x-lab-tab";
/** Which run of which scenario a lab request belongs to: the mark of a lab attempt, recorded on the timeline. */
export const labRunHeader = "x-lab-run";

export type LabFault = { kind: "lose-request" } | { kind: "lose-response" } | { kind: "hold"; ms: number };

const maxHoldMs = 10_000;

export function labFaultOf(headers: Headers): LabFault | null {
  const value = headers.get(labFaultHeader);
  if (value === "lose-request" || value === "lose-response") return { kind: value };
  const hold = /^hold:(\d{1,5})$/.exec(value ?? "");
  if (hold) return { kind: "hold", ms: Math.min(Number(hold[1]), maxHoldMs) };
  return null;
}
