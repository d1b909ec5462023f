/**
 * Guest sessions: the cookie carries the customer id and an HMAC of it. Without the secret nobody can mint or
 * alter one, so idempotency records keyed by customer id cannot be read or blocked by another customer.
 */
import { createHmac, timingSafeEqual } from "node:crypto";

export const sessionCookieName = "eoc_session";
const oneYearSeconds = 365 * 24 * 60 * 60;
const customerIdPattern = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

function signature(customerId: string, secret: string): string {
  return createHmac("sha256", secret).update(customerId).digest("base64url");
}

export function signSession(customerId: string, secret: string): string {
  return `${customerId}.${signature(customerId, secret)}`;
}

/** The customer id of a genuine cookie value, or null for anything forged, altered or malformed. */
export function verifySession(value: string, secret: string): string | null {
  const separator = value.lastIndexOf(".");
  if (separator < 0) return null;
  const customerId = value.slice(0, separator);
  if (!customerIdPattern.test(customerId)) return null;
  const given = Buffer.from(value.slice(separator + 1));
  const expected = Buffer.from(signature(customerId, secret));
  return given.length === expected.length && timingSafeEqual(given, expected) ? customerId : null;
}

export function readCookie(cookieHeader: string | null, name: string): string | undefined {
  for (const part of cookieHeader?.split(";") ?? []) {
    const [key, ...rest] = part.trim().split("=");
    if (key !== name) continue;
    const raw = rest.join("=");
    try {
      return decodeURIComponent(raw);
    } catch {
      // Malformed percent-encoding: returned as is, it fails verification and is refused like any forged cookie.
      return raw;
    }
  }
  return undefined;
}

export function sessionCookie(value: string, secure: boolean): string {
  return [
    `${sessionCookieName}=${encodeURIComponent(value)}`,
    "Path=/",
    "HttpOnly",
    "SameSite=Lax",
    `Max-Age=${oneYearSeconds}`,
    ...(secure ? ["Secure"] : []),
  ].join("; ");
}

export function expiredSessionCookie(): string {
  return `${sessionCookieName}=; Path=/; HttpOnly; SameSite=Lax; Max-Age=0`;
}
