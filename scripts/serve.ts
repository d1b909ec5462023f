/**
 * `npm run serve`: the payment provider and the production app together, stopped together.
 * (`npm run demo` runs setup and the build first.)
 */
import { type ChildProcess, spawn } from "node:child_process";
import { loadLocalEnv } from "./local-env";

loadLocalEnv();
const port = process.env.PORT ?? "3000";
const children: ChildProcess[] = [
  spawn(process.execPath, ["--import", "tsx", "provider/main.ts"], { stdio: "inherit" }),
  // One server process per core on one port (server/main.ts); SERVER_PROCESSES chooses another number.
  spawn(process.execPath, ["--import", "tsx", "server/main.ts"], {
    stdio: "inherit",
    // The demo is for training: its lab is on unless ENABLE_LAB=false says otherwise.
    env: { ENABLE_LAB: "true", ...process.env, PORT: port, NEXT_TELEMETRY_DISABLED: "1" },
  }),
];
console.log(`Exactly Once Checkout: http://localhost:${port}`);

let stopping = false;
function stopAll(code: number) {
  if (stopping) return;
  stopping = true;
  for (const child of children) child.kill("SIGTERM");
  process.exitCode = code;
}
for (const child of children) child.on("exit", (code) => stopAll(code ?? 1));
for (const signal of ["SIGINT", "SIGTERM"] as const) process.on(signal, () => stopAll(0));
