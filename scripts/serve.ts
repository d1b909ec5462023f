/**
 * `npm run serve`: the payment provider and the production app together, stopped together.
 * (`npm run demo` runs setup and the build first.)
 */
import { type ChildProcess, spawn } from "node:child_process";
import { loadLocalEnv } from "./local-env";

loadLocalEnv();
const port = process.env.PORT ?? "3000";
const children: ChildProcess[] = [
  spawn("node_modules/.bin/tsx", ["provider/main.ts"], { stdio: "inherit" }),
  spawn("node_modules/.bin/next", ["start", "-p", port], {
    stdio: "inherit",
    env: { ...process.env, NEXT_TELEMETRY_DISABLED: "1" },
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
