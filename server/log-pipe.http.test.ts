/**
 * A production server whose log reader dies (the supervisor that piped its output is killed) must not spin:
 * before server/main.ts stopped it, such a server wrote "write EPIPE" to its broken stderr about 3,000
 * times a second, forever, at half a core.
 */
import { spawn } from "node:child_process";
import { once } from "node:events";
import { expect, inject, it } from "vitest";
import { testProviderApiKey, testSessionSecret } from "@/testing/app-server";

const port = 3273;

/** A parent that starts the server (as `npm start` does) with piped output, reports its pid, and lives on. */
const supervisor = `
const { spawn } = require("node:child_process");
const child = spawn(process.execPath, ["--import", "tsx", "server/main.ts"], {
  stdio: ["ignore", "pipe", "pipe"],
  env: { ...process.env, PORT: "${port}", LISTEN_HOST: "127.0.0.1", SERVER_PROCESSES: "1" },
});
child.stdout.resume();
child.stderr.resume();
console.log(child.pid);
setInterval(() => {}, 1000);
`;

const alive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

it("exits once nobody reads its logs, instead of writing the failure to the same broken pipe forever", async () => {
  const parent = spawn(process.execPath, ["-e", supervisor], {
    stdio: ["ignore", "pipe", "inherit"],
    env: {
      ...process.env,
      NODE_ENV: "production",
      DATABASE_URL: inject("databaseUrl"),
      SESSION_SECRET: testSessionSecret,
      PROVIDER_API_KEY: testProviderApiKey,
      // Nothing listens there: every background pass fails, and says so in the log.
      PAYMENT_PROVIDER_URL: "http://127.0.0.1:9",
      BACKGROUND_INTERVAL_MS: "200",
      RECONCILE_INTERVAL_MS: "200",
    },
  });
  const [firstLine] = (await once(parent.stdout, "data")) as [Buffer];
  const serverPid = Number(firstLine.toString().trim());
  let healthy = false;
  for (let attempt = 0; attempt < 300 && !healthy; attempt++) {
    healthy = await fetch(`http://127.0.0.1:${port}/api/health`).then(
      (response) => response.ok,
      () => false,
    );
    if (!healthy) await new Promise((resolve) => setTimeout(resolve, 100));
  }
  expect(healthy, "the server came up").toBe(true);

  parent.kill("SIGKILL");
  let gone = false;
  for (let waited = 0; waited < 15_000 && !gone; waited += 100) {
    await new Promise((resolve) => setTimeout(resolve, 100));
    gone = !alive(serverPid);
  }
  if (!gone) process.kill(serverPid, "SIGKILL");
  expect(gone, "the orphaned server exited within 15 s").toBe(true);
}, 60_000);
