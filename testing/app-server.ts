/**
 * Starts the production build as a child process, with the server entry `npm start` runs (server/main.ts), or the
 * lab server's (server/lab/main.ts: the shop plus the lab, with faults), or the bench's. One server process by
 * default, so a test that crashes it sees it die; `processes` runs several behind a primary.
 */
import { randomBytes } from "node:crypto";
import { type ChildService, startChildService } from "./child-service";

export interface AppServer extends ChildService {
  port: number;
}

export const testSessionSecret = randomBytes(32).toString("base64url");
/**
 * The provider's API key for this test run. Also put in this process's environment, so that the scripts a test
 * runs with `...process.env` (the completer, the reconciler) reach the provider too.
 */
process.env.PROVIDER_API_KEY ??= randomBytes(32).toString("base64url");
export const testProviderApiKey = process.env.PROVIDER_API_KEY;

export const serverEntries = {
  shop: "server/main.ts",
  lab: "server/lab/main.ts",
  bench: "scripts/bench-server.ts",
};

export async function startAppServer(options: {
  port: number;
  env: Record<string, string>;
  processes?: number;
  entry?: keyof typeof serverEntries;
}): Promise<AppServer> {
  const entry = options.entry ?? "shop";
  const service = await startChildService({
    name: `${entry} server on port ${options.port}`,
    command: process.execPath,
    args: ["--import", "tsx", serverEntries[entry]],
    env: {
      ...process.env,
      NEXT_TELEMETRY_DISABLED: "1",
      NODE_ENV: "production",
      PORT: String(options.port),
      LISTEN_HOST: "127.0.0.1",
      SERVER_PROCESSES: String(options.processes ?? 1),
      SESSION_SECRET: testSessionSecret,
      PROVIDER_API_KEY: testProviderApiKey,
      // Tests start hundreds of sessions from one address; the security suite turns the limits on itself.
      RATE_LIMIT_WRITES_PER_MINUTE: "0",
      RATE_LIMIT_SESSIONS_PER_MINUTE: "0",
      RATE_LIMIT_LOGINS_PER_HOUR: "0",
      ...options.env,
    },
    url: `http://127.0.0.1:${options.port}`,
    healthPath: "/api/health",
  });
  return Object.assign(service, { port: options.port });
}

/** The lab server: the shop's code with the lab's instruments, so that a request may ask it for a fault. */
export function startLabServer(options: { port: number; env: Record<string, string>; processes?: number }) {
  return startAppServer({ ...options, entry: "lab" });
}
