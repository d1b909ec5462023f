/**
 * A private `redis-server` for one test file, without persistence like the machine's own, that tests can stop and
 * start again on the same port: a restart loses every key, as a real one without persistence would.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { once } from "node:events";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

export interface RedisServer {
  url: string;
  port: number;
  /** Kills the server as a crash would (connections drop, keys are gone); resolves once it has exited. */
  stop(): Promise<void>;
  /** Starts it again on the same port, empty; resolves once it accepts connections. */
  start(): Promise<void>;
}

export async function startRedisServer(port: number): Promise<RedisServer> {
  const dir = mkdtempSync(join(tmpdir(), "eoc-redis-"));
  let child: ChildProcess | undefined;

  async function start() {
    const spawned = spawn(
      "redis-server",
      ["--port", String(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no", "--dir", dir],
      { stdio: ["ignore", "pipe", "pipe"] },
    );
    child = spawned;
    let output = "";
    await new Promise<void>((resolve, reject) => {
      spawned.stdout?.on("data", (chunk) => {
        output += chunk;
        if (output.includes("Ready to accept connections")) resolve();
      });
      spawned.stderr?.on("data", (chunk) => {
        output += chunk;
      });
      spawned.on("exit", () => reject(new Error(`redis-server on port ${port} exited:\n${output}`)));
      spawned.on("error", reject);
    });
  }

  async function stop() {
    const running = child;
    child = undefined;
    if (!running || running.exitCode !== null || running.signalCode !== null) return;
    const exited = once(running, "exit");
    running.kill("SIGKILL");
    await exited;
  }

  await start();
  return { url: `redis://127.0.0.1:${port}`, port, stop, start };
}
