import { randomBytes } from "node:crypto";
import { inject } from "vitest";

// In-process tests use the run's fresh database through the same env() the app reads.
process.env.DATABASE_URL = inject("databaseUrl");
process.env.SESSION_SECRET ??= randomBytes(32).toString("base64url");
process.env.PROVIDER_API_KEY ??= randomBytes(32).toString("base64url");
// In-process tests share one address ("unknown", no X-Forwarded-For): the limits are tested against a server.
process.env.RATE_LIMIT_WRITES_PER_MINUTE ??= "0";
process.env.RATE_LIMIT_SESSIONS_PER_MINUTE ??= "0";
process.env.RATE_LIMIT_LOGINS_PER_HOUR ??= "0";
