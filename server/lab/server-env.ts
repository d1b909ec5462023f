/**
 * How the lab server is started beside the shop (`npm run serve`, and the classroom run): the settings it differs
 * from the shop's in, each overridable from the environment (.env.example lists them).
 */
export function labServerEnvironment(env: NodeJS.ProcessEnv, labPort: string): Record<string, string> {
  return {
    PORT: labPort,
    // More processes than cores: a crash fault kills one, and the others answer while it restarts.
    SERVER_PROCESSES: env.LAB_SERVER_PROCESSES ?? "4",
    // Held claims and slow attempts hold these, never the shop's.
    DATABASE_POOL_SIZE: env.LAB_DATABASE_POOL_SIZE ?? "6",
    // A trainee runs each scenario many times: each run is a handful of writes.
    RATE_LIMIT_WRITES_PER_MINUTE: env.LAB_WRITES_PER_MINUTE ?? "600",
    // A crashed attempt's lease runs out in seconds, so the crash scenario's retry resumes within a lesson.
    IDEMPOTENCY_LEASE_MS: env.LAB_IDEMPOTENCY_LEASE_MS ?? "5000",
    // The shop's servers run the background work; the lab keeps only its own rows tidy.
    BACKGROUND_INTERVAL_MS: "0",
  };
}
