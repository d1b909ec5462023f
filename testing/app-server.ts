/** Starts the production build (`next start`) as a child process, the way it runs for real. */
import { randomBytes } from "node:crypto";
import { type ChildService, startChildService } from "./child-service";

export interface AppServer extends ChildService {
  port: number;
}

export const testSessionSecret = randomBytes(32).toString("base64url");

export async function startAppServer(options: { port: number; env: Record<string, string> }): Promise<AppServer> {
  const service = await startChildService({
    name: `next start on port ${options.port}`,
    command: "node_modules/.bin/next",
    args: ["start", "-p", String(options.port), "-H", "127.0.0.1"],
    env: {
      ...process.env,
      NEXT_TELEMETRY_DISABLED: "1",
      NODE_ENV: "production",
      SESSION_SECRET: testSessionSecret,
      ...options.env,
    },
    url: `http://127.0.0.1:${options.port}`,
    healthPath: "/api/health",
  });
  return Object.assign(service, { port: options.port });
}
