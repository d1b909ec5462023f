import { spawn } from "node:child_process";
import { once } from "node:events";
import { describe, expect, it } from "vitest";
import { InvalidEnvironmentError, parseEnv } from "./env";

const valid = {
  DATABASE_URL: "mysql://app:pw@127.0.0.1:3306/shop",
  SESSION_SECRET: "k".repeat(32),
  PROVIDER_API_KEY: "p".repeat(32),
};

describe("environment validation", () => {
  it("accepts a complete environment and fills the defaults", () => {
    expect(parseEnv(valid)).toMatchObject({ IDEMPOTENCY_TTL_HOURS: 24, IDEMPOTENCY_WAIT_MS: 2000 });
  });

  it("keeps idempotency keys in MySQL unless told to use Redis, and checks the Redis URL", () => {
    expect(parseEnv(valid)).toMatchObject({ IDEMPOTENCY_STORE: "mysql", REDIS_URL: "redis://127.0.0.1:6379" });
    expect(parseEnv({ ...valid, IDEMPOTENCY_STORE: "redis", REDIS_URL: "rediss://cache:6380" })).toMatchObject({
      IDEMPOTENCY_STORE: "redis",
      REDIS_URL: "rediss://cache:6380",
    });
    expect(() => parseEnv({ ...valid, IDEMPOTENCY_STORE: "memcached", REDIS_URL: "http://cache" })).toThrowError(
      /IDEMPOTENCY_STORE .*; REDIS_URL must be a redis:\/\/ or rediss:\/\/ URL$/,
    );
  });

  it("knows of no training lab unless told where its server is (npm run serve tells it)", () => {
    expect(parseEnv(valid).LAB_URL).toBeUndefined();
    expect(parseEnv({ ...valid, LAB_URL: "http://localhost:3001" }).LAB_URL).toBe("http://localhost:3001");
  });

  it("names every bad variable in one line", () => {
    expect(() => parseEnv({ DATABASE_URL: "postgres://x", IDEMPOTENCY_TTL_HOURS: "-1" })).toThrowError(
      new InvalidEnvironmentError(
        "Invalid environment: DATABASE_URL must be a mysql:// URL; SESSION_SECRET is required; IDEMPOTENCY_TTL_HOURS Too small: expected number to be >0; PROVIDER_API_KEY is required",
      ),
    );
  });

  it("stops the production server at start-up with one clear line", async () => {
    const server = spawn(process.execPath, ["--import", "tsx", "server/main.ts"], {
      env: {
        PATH: process.env.PATH ?? "",
        NODE_ENV: "production",
        PORT: "3999",
        LISTEN_HOST: "127.0.0.1",
        NEXT_TELEMETRY_DISABLED: "1",
        ...valid,
        SESSION_SECRET: "too-short",
      },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let stderr = "";
    server.stderr.on("data", (chunk) => {
      stderr += chunk;
    });
    const [exitCode] = await once(server, "exit");
    expect(exitCode).toBe(1);
    expect(stderr.trim().split("\n")).toEqual(["Invalid environment: SESSION_SECRET must be at least 32 characters"]);
  });
});
