/**
 * Configuration comes from the environment only, validated once at start-up: a missing or malformed variable
 * stops the process with one line that names it, instead of failing later on the first request.
 */
import { z } from "zod";

const mysqlUrl = z
  .string({ error: "is required" })
  .refine((value) => URL.canParse(value) && value.startsWith("mysql://"), "must be a mysql:// URL");

const redisUrl = z
  .string()
  .refine((value) => URL.canParse(value) && /^rediss?:\/\//.test(value), "must be a redis:// or rediss:// URL");

const positiveInt = (fallback: number) => z.coerce.number().int().positive().default(fallback);

export const envSchema = z.object({
  DATABASE_URL: mysqlUrl,
  SESSION_SECRET: z.string({ error: "is required" }).min(32, "must be at least 32 characters"),
  SESSION_COOKIE_SECURE: z.enum(["true", "false"]).default("false"),
  /**
   * The shop's public origins (comma-separated, e.g. https://shop.example), whose pages may send writes to any of
   * its servers; a server always accepts its own origin too.
   */
  APP_ORIGINS: z
    .string()
    .default("")
    .transform((value) =>
      value
        .split(",")
        .map((origin) => origin.trim())
        .filter(Boolean),
    )
    .pipe(z.array(z.url().transform((url) => new URL(url).origin))),
  IDEMPOTENCY_TTL_HOURS: z.coerce.number().positive().default(24),
  IDEMPOTENCY_WAIT_MS: positiveInt(2000),
  IDEMPOTENCY_LEASE_MS: positiveInt(30_000),
  /** Where idempotency keys live: the business database (default) or Redis. */
  IDEMPOTENCY_STORE: z.enum(["mysql", "redis"]).default("mysql"),
  /** Used only when IDEMPOTENCY_STORE=redis. */
  REDIS_URL: redisUrl.default("redis://127.0.0.1:6379"),
  /**
   * A Redis Cluster instead of REDIS_URL (IDEMPOTENCY_STORE=redis): some of its nodes as host:port, comma-separated.
   * Every write of the store is then confirmed by a replica, or fails closed (docs/scale-out.md).
   */
  REDIS_CLUSTER_NODES: z
    .string()
    .regex(/^[\w.-]+:\d{1,5}(,[\w.-]+:\d{1,5})*$/, "must be host:port pairs, comma-separated")
    .optional(),
  DATABASE_POOL_SIZE: positiveInt(20),
  PAYMENT_PROVIDER_URL: z.url().default("http://127.0.0.1:4010"),
  /** The secret the payment provider knows its merchant by (sent as a Bearer token); db:setup creates one. */
  PROVIDER_API_KEY: z.string({ error: "is required" }).min(32, "must be at least 32 characters"),
  /** How long a charge request may take before the app treats its answer as lost (504, resumable). */
  PAYMENT_PROVIDER_TIMEOUT_MS: positiveInt(5000),
  /**
   * How often each server tries to run the background work (completer, retention purge, reconciler); one server
   * at a time runs it. 0 turns it off in this server (then run `npm run completer` etc. from cron).
   */
  BACKGROUND_INTERVAL_MS: z.coerce.number().int().min(0).default(5000),
  /** How often the background reconciler compares the provider's ledger with ours. */
  RECONCILE_INTERVAL_MS: positiveInt(60_000),
  /** Writes (mutations) per minute per guest session or merchant account; 0 turns the limit off. */
  RATE_LIMIT_WRITES_PER_MINUTE: z.coerce.number().int().min(0).default(60),
  /** New guest sessions per minute per client address; 0 turns the limit off. */
  RATE_LIMIT_SESSIONS_PER_MINUTE: z.coerce.number().int().min(0).default(30),
  /** Merchant sign-in attempts per hour per email and per client address; 0 turns the limit off. */
  RATE_LIMIT_LOGINS_PER_HOUR: z.coerce.number().int().min(0).default(20),
  /** The port the server listens on, and the address (all interfaces when unset). */
  PORT: z.coerce.number().int().min(1).max(65_535).default(3000),
  LISTEN_HOST: z.string().optional(),
  /**
   * How many server processes share the port (node:cluster; a primary restarts any that dies). Unset: one per
   * core. 1 runs a single process with no primary, as `npm run dev` does.
   */
  SERVER_PROCESSES: z.coerce.number().int().min(1).max(64).optional(),
  /**
   * Where the training lab's server answers (`npm run serve` starts it on LAB_PORT beside the shop): the shop's
   * pages link to it, and its /lab sends trainees there. Unset: the shop shows no lab.
   */
  LAB_URL: z.url().optional(),
});

export type Env = z.infer<typeof envSchema>;

export class InvalidEnvironmentError extends Error {
  override name = "InvalidEnvironmentError";
}

/** Parses an environment, or throws one readable line naming every bad variable. */
export function parseEnv(source: Record<string, string | undefined>): Env {
  const result = envSchema.safeParse(source);
  if (result.success) return result.data;
  const problems = result.error.issues.map((issue) => `${issue.path.join(".")} ${issue.message}`);
  throw new InvalidEnvironmentError(`Invalid environment: ${problems.join("; ")}`);
}

let cached: Env | undefined;

/** The validated environment of this process (parsed on first use). */
export function env(): Env {
  cached ??= parseEnv(process.env);
  return cached;
}

/** Validates the environment at start-up; on failure prints the one line and exits. */
export function assertEnvOrExit(): Env {
  try {
    return env();
  } catch (error) {
    if (!(error instanceof InvalidEnvironmentError)) throw error;
    console.error(error.message);
    process.exit(1);
  }
}
