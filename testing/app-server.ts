/** Starts the production build (`next start`) as a child process, the way it runs for real. */
import { type ChildProcess, spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { once } from "node:events";

export interface AppServer {
  url: string;
  port: number;
  process: ChildProcess;
  output(): string;
  /** Stops it gracefully; `crash` kills it at once, as a power cut would. */
  stop(mode?: "graceful" | "crash"): Promise<void>;
}

export const testSessionSecret = randomBytes(32).toString("base64url");

export async function startAppServer(options: { port: number; env: Record<string, string> }): Promise<AppServer> {
  const child = spawn("node_modules/.bin/next", ["start", "-p", String(options.port), "-H", "127.0.0.1"], {
    env: {
      ...process.env,
      NEXT_TELEMETRY_DISABLED: "1",
      NODE_ENV: "production",
      SESSION_SECRET: testSessionSecret,
      ...options.env,
    },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let output = "";
  child.stdout?.on("data", (chunk) => {
    output += chunk;
  });
  child.stderr?.on("data", (chunk) => {
    output += chunk;
  });
  const url = `http://127.0.0.1:${options.port}`;
  const server: AppServer = {
    url,
    port: options.port,
    process: child,
    output: () => output,
    async stop(mode = "graceful") {
      if (child.exitCode !== null || child.signalCode !== null) return;
      const exited = once(child, "exit");
      child.kill(mode === "crash" ? "SIGKILL" : "SIGTERM");
      await exited;
    },
  };
  const deadline = Date.now() + 30_000;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`next start exited early:\n${output}`);
    try {
      const response = await fetch(`${url}/api/health`);
      if (response.ok) return server;
    } catch {
      // not listening yet
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  await server.stop("crash");
  throw new Error(`next start on port ${options.port} did not become healthy:\n${output}`);
}
