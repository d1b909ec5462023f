/**
 * Crash injection for tests: with ENABLE_FAULT_INJECTION=true, a request carrying
 * `x-fault-crash-at: <procedure>:<point>` kills this server process at that point, as a power cut would.
 * Off by default; no request can crash a server otherwise.
 */
import { env } from "./env";

export const crashHeader = "x-fault-crash-at";

export function crashIfRequested(headers: Headers, procedurePath: string, point: string): void {
  if (env().ENABLE_FAULT_INJECTION !== "true") return;
  if (headers.get(crashHeader) !== `${procedurePath}:${point}`) return;
  console.error(`Fault injection: crashing at ${procedurePath}:${point}`);
  process.kill(process.pid, "SIGKILL");
}
