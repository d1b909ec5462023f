/** A service of ours started as a child process and awaited until its health check answers. */
import { type ChildProcess, spawn } from "node:child_process";
import { once } from "node:events";

export interface ChildService {
  url: string;
  process: ChildProcess;
  output(): string;
  /** Stops it gracefully; `crash` kills it at once, as a power cut would. */
  stop(mode?: "graceful" | "crash"): Promise<void>;
}

export async function startChildService(options: {
  name: string;
  command: string;
  args: string[];
  env: NodeJS.ProcessEnv;
  url: string;
  healthPath: string;
  timeoutMs?: number;
}): Promise<ChildService> {
  const child = spawn(options.command, options.args, { env: options.env, stdio: ["ignore", "pipe", "pipe"] });
  let output = "";
  child.stdout?.on("data", (chunk) => {
    output += chunk;
  });
  child.stderr?.on("data", (chunk) => {
    output += chunk;
  });
  const service: ChildService = {
    url: options.url,
    process: child,
    output: () => output,
    async stop(mode = "graceful") {
      if (child.exitCode !== null || child.signalCode !== null) return;
      const exited = once(child, "exit");
      child.kill(mode === "crash" ? "SIGKILL" : "SIGTERM");
      await exited;
    },
  };
  const deadline = Date.now() + (options.timeoutMs ?? 30_000);
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`${options.name} exited early:\n${output}`);
    try {
      if ((await fetch(`${options.url}${options.healthPath}`)).ok) return service;
    } catch {
      // not listening yet
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  await service.stop("crash");
  throw new Error(`${options.name} at ${options.url} did not become healthy:\n${output}`);
}
