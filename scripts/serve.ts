/**
 * `npm run serve`: the payment provider, the shop, and beside it the training lab's own server, started and stopped
 * together. (`npm run demo` runs setup and the build first.) The lab server is the shop's code with the lab's
 * instruments (server/lab/main.ts), in processes, a port and connection pools of its own, so a class can crash
 * and hold it as it likes while the shop answers its shoppers as before (docs/training.md).
 */
import { type ChildProcess, spawn } from "node:child_process";
import { labServerEnvironment } from "../server/lab/server-env";
import { loadLocalEnv } from "./local-env";

loadLocalEnv();
const port = process.env.PORT ?? "3000";
const labPort = process.env.LAB_PORT ?? String(Number(port) + 1);
const labUrl = process.env.LAB_URL ?? `http://localhost:${labPort}`;
const common = { ...process.env, NEXT_TELEMETRY_DISABLED: "1" };
const server = (entry: string, env: NodeJS.ProcessEnv) =>
  spawn(process.execPath, ["--import", "tsx", entry], { stdio: "inherit", env });

const children: ChildProcess[] = [
  spawn(process.execPath, ["--import", "tsx", "provider/main.ts"], { stdio: "inherit" }),
  // One server process per core on one port (server/main.ts); SERVER_PROCESSES chooses another number.
  server("server/main.ts", { ...common, PORT: port, LAB_URL: labUrl }),
  server("server/lab/main.ts", { ...common, LAB_URL: labUrl, ...labServerEnvironment(process.env, labPort) }),
];
console.log(`Exactly Once Checkout: http://localhost:${port} (its training lab: ${labUrl}/lab)`);

let stopping = false;
function stopAll(code: number) {
  if (stopping) return;
  stopping = true;
  for (const child of children) child.kill("SIGTERM");
  process.exitCode = code;
}
for (const child of children) child.on("exit", (code) => stopAll(code ?? 1));
for (const signal of ["SIGINT", "SIGTERM"] as const) process.on(signal, () => stopAll(0));
