/**
 * Merchant accounts: created by set-up, signed in with a password. Passwords are hashed with node:crypto's scrypt
 * (memory-hard; N=2^15, r=8, p=1 is OWASP's baseline) and stored self-describing, so the cost can be raised later
 * without breaking existing hashes.
 */
import { randomBytes, type ScryptOptions, scrypt, timingSafeEqual } from "node:crypto";
import { eq, sql } from "drizzle-orm";
import { z } from "zod";
import type { Executor } from "@/db/client";
import { merchants } from "@/db/schema";

const cost = { N: 2 ** 15, r: 8, p: 1 };
const keyLength = 32;

function derive(password: string, salt: Buffer, options: ScryptOptions): Promise<Buffer> {
  // scrypt needs 128·N·r bytes; Node's default cap (32 MiB) is exactly that, so leave room.
  const maxmem = 256 * (options.N ?? cost.N) * (options.r ?? cost.r);
  return new Promise((resolve, reject) =>
    scrypt(password.normalize("NFKC"), salt, keyLength, { ...options, maxmem }, (error, key) =>
      error ? reject(error) : resolve(key),
    ),
  );
}

export async function hashPassword(password: string): Promise<string> {
  const salt = randomBytes(16);
  const key = await derive(password, salt, cost);
  return ["scrypt", cost.N, cost.r, cost.p, salt.toString("base64url"), key.toString("base64url")].join("$");
}

export async function verifyPassword(password: string, stored: string): Promise<boolean> {
  const [scheme, n, r, p, salt, key] = stored.split("$");
  if (scheme !== "scrypt" || !salt || !key) return false;
  const expected = Buffer.from(key, "base64url");
  const actual = await derive(password, Buffer.from(salt, "base64url"), { N: Number(n), r: Number(r), p: Number(p) });
  return actual.length === expected.length && timingSafeEqual(actual, expected);
}

export const merchantEmail = z
  .string()
  .trim()
  .max(254)
  .pipe(z.email({ error: "must be an email address" }))
  .transform((email) => email.toLowerCase());

/** Bounded above so a huge "password" cannot make the server hash megabytes. */
export const merchantPassword = z.string().min(12, "must be at least 12 characters").max(256);

export interface Merchant {
  id: number;
  email: string;
  signedOutAt: number;
}

/** A hash nobody's password matches, checked when the email is unknown so both cases take the same time. */
let decoyHash: Promise<string> | undefined;

/** The merchant whose email and password these are, or null (unknown email or wrong password alike). */
export async function authenticateMerchant(db: Executor, email: string, password: string): Promise<Merchant | null> {
  const [row] = await db.select().from(merchants).where(eq(merchants.email, email));
  if (!row) {
    decoyHash ??= hashPassword(randomBytes(16).toString("base64url"));
    await verifyPassword(password, await decoyHash);
    return null;
  }
  if (!(await verifyPassword(password, row.passwordHash))) return null;
  return { id: row.id, email: row.email, signedOutAt: row.signedOutAt };
}

export async function findMerchant(db: Executor, id: number): Promise<Merchant | null> {
  const [row] = await db
    .select({ id: merchants.id, email: merchants.email, signedOutAt: merchants.signedOutAt })
    .from(merchants)
    .where(eq(merchants.id, id));
  return row ?? null;
}

/** Ends every session of the account signed until now. */
export async function signOutEverywhere(db: Executor, id: number, nowSeconds: number): Promise<void> {
  await db.update(merchants).set({ signedOutAt: nowSeconds }).where(eq(merchants.id, id));
}

/**
 * Creates the merchant account, or sets its password when one is given. Returns the password when it was
 * generated here, so set-up can show it once; it is stored nowhere but as its hash.
 */
export async function ensureMerchant(
  db: Executor,
  account: { email: string; password?: string },
): Promise<{ email: string; generatedPassword?: string; created: boolean }> {
  const email = merchantEmail.parse(account.email);
  const [existing] = await db.select({ id: merchants.id }).from(merchants).where(eq(merchants.email, email));
  if (existing && account.password === undefined) return { email, created: false };
  const generatedPassword = account.password === undefined ? randomBytes(15).toString("base64url") : undefined;
  const password = merchantPassword.parse(account.password ?? generatedPassword);
  const passwordHash = await hashPassword(password);
  await db
    .insert(merchants)
    .values({ email, passwordHash })
    .onDuplicateKeyUpdate({ set: { passwordHash, signedOutAt: sql`unix_timestamp()` } });
  return { email, generatedPassword, created: !existing };
}
