/**
 * Guest sessions: the cookie carries the customer id, the time it was issued and an HMAC of both. Without the
 * secret nobody can mint, alter or extend one, so idempotency records keyed by customer id cannot be read or
 * blocked by another customer. A session lasts `sessionMaxAgeSeconds` from its last renewal; an active guest's
 * cookie is renewed (re-signed with a fresh issue time) at most once a day.
 */
import { createHmac, timingSafeEqual } from "node:crypto";

/** Served over https, the cookie takes the `__Host-` prefix: Secure, host-only, Path=/, as browsers enforce. */
export const sessionCookieName = (secure: boolean) => (secure ? "__Host-eoc_session" : "eoc_session");
export const sessionMaxAgeSeconds = 30 * 24 * 60 * 60;
const renewAfterSeconds = 24 * 60 * 60;
const customerIdPattern = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

const nowSeconds = () => Math.floor(Date.now() / 1000);

function signature(payload: string, secret: string): string {
  return createHmac("sha256", secret).update(payload).digest("base64url");
}

export function signSession(customerId: string, secret: string, issuedAt = nowSeconds()): string {
  const payload = `${customerId}.${issuedAt}`;
  return `${payload}.${signature(payload, secret)}`;
}

export interface VerifiedSession {
  customerId: string;
  /** True when the cookie should be re-issued (it is more than a day old). */
  renew: boolean;
}

/** The session of a genuine, unexpired cookie value, or null for anything forged, altered, malformed or expired. */
export function verifySession(value: string, secret: string, now = nowSeconds()): VerifiedSession | null {
  const separator = value.lastIndexOf(".");
  if (separator < 0) return null;
  const payload = value.slice(0, separator);
  const [customerId, issued, ...rest] = payload.split(".");
  if (rest.length > 0 || !customerId || !customerIdPattern.test(customerId) || !/^\d{1,12}$/.test(issued ?? "")) {
    return null;
  }
  const given = Buffer.from(value.slice(separator + 1));
  const expected = Buffer.from(signature(payload, secret));
  if (given.length !== expected.length || !timingSafeEqual(given, expected)) return null;
  const age = now - Number(issued);
  if (age > sessionMaxAgeSeconds || age < -300) return null;
  return { customerId, renew: age > renewAfterSeconds };
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
    `${sessionCookieName(secure)}=${encodeURIComponent(value)}`,
    "Path=/",
    "HttpOnly",
    "SameSite=Lax",
    `Max-Age=${sessionMaxAgeSeconds}`,
    ...(secure ? ["Secure"] : []),
  ].join("; ");
}

export function expiredSessionCookie(secure: boolean): string {
  return `${sessionCookieName(secure)}=; Path=/; HttpOnly; SameSite=Lax; Max-Age=0${secure ? "; Secure" : ""}`;
}
