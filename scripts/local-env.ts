/**
 * Loads `.env` into process.env (variables already set win), and creates the machine-local secrets on first
 * run so a newcomer needs no manual step. Secrets are generated here and never committed (.env is ignored).
 */
import { randomBytes } from "node:crypto";
import { appendFileSync, existsSync } from "node:fs";

const envFile = ".env";

export function loadLocalEnv(): void {
  if (existsSync(envFile)) process.loadEnvFile(envFile);
}

/** Fills the database URLs and the session secret with fresh local values when absent, and records them in .env. */
export function ensureLocalSecrets(adminUrl: string): void {
  const additions: string[] = [];
  if (!process.env.DATABASE_URL) {
    const admin = new URL(adminUrl);
    const password = randomBytes(18).toString("base64url");
    process.env.DATABASE_URL = `mysql://checkout_app:${password}@${admin.host}/exactly_once_checkout`;
    additions.push(`DATABASE_URL=${process.env.DATABASE_URL}`);
  }
  if (!process.env.PROVIDER_DATABASE_URL) {
    const admin = new URL(adminUrl);
    const password = randomBytes(18).toString("base64url");
    process.env.PROVIDER_DATABASE_URL = `mysql://payment_provider:${password}@${admin.host}/simulated_payment_provider`;
    additions.push(`PROVIDER_DATABASE_URL=${process.env.PROVIDER_DATABASE_URL}`);
  }
  if (!process.env.PROVIDER_API_KEY) {
    process.env.PROVIDER_API_KEY = randomBytes(32).toString("base64url");
    additions.push(`PROVIDER_API_KEY=${process.env.PROVIDER_API_KEY}`);
  }
  if (!process.env.SESSION_SECRET) {
    process.env.SESSION_SECRET = randomBytes(32).toString("base64url");
    additions.push(`SESSION_SECRET=${process.env.SESSION_SECRET}`);
  }
  if (additions.length > 0) {
    appendFileSync(envFile, `${additions.join("\n")}\n`, { mode: 0o600 });
    console.log(`Wrote ${additions.map((line) => line.split("=")[0]).join(" and ")} to ${envFile}`);
  }
}
