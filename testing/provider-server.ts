/** Starts the simulated payment provider as its own process, as `npm run provider` does. */
import { type ChildProcess, spawn } from "node:child_process";
import { once } from "node:events";

export interface ProviderServer {
  url: string;
  process: ChildProcess;
  stop(): Promise<void>;
  /** Every charge the provider made for an order, straight from the provider. */
  chargesFor(orderId: number): Promise<{ id: string; status: string; amountCents: number }[]>;
}

export async function startProviderServer(options: {
  port: number;
  databaseUrl: string;
  latencyMs?: number;
}): Promise<ProviderServer> {
  const child = spawn("node_modules/.bin/tsx", ["provider/main.ts"], {
    env: {
      ...process.env,
      PROVIDER_DATABASE_URL: options.databaseUrl,
      PROVIDER_PORT: String(options.port),
      PROVIDER_LATENCY_MS: String(options.latencyMs ?? 0),
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
  const server: ProviderServer = {
    url,
    process: child,
    async stop() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      const exited = once(child, "exit");
      child.kill("SIGTERM");
      await exited;
    },
    async chargesFor(orderId) {
      const response = await fetch(`${url}/v1/charges?reference=order-${orderId}`);
      return (await response.json()).data;
    },
  };
  for (const deadline = Date.now() + 20_000; Date.now() < deadline; ) {
    if (child.exitCode !== null) throw new Error(`provider exited early:\n${output}`);
    try {
      if ((await fetch(`${url}/health`)).ok) return server;
    } catch {
      // not listening yet
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  await server.stop();
  throw new Error(`provider on port ${options.port} did not start:\n${output}`);
}
