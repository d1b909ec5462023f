/**
 * Signed sessions: the cookie carries its subject (a guest's customer id, a merchant's account id), the time it
 * was issued and an HMAC of both. Without the secret nobody can mint, alter or extend one, so idempotency records
 * keyed by customer id cannot be read or blocked by another customer. A session lasts its kind's maximum age from
 * its last renewal; a session in use is renewed (re-signed with a fresh issue time) now and then.
 */
import { createHmac, timingSafeEqual } from "node:crypto";

/**
 * A kind of signed session: guests (a customer id, 30 days, renewed daily) and merchants (an account id, 8 hours,
 * renewed every quarter hour while used). Each kind signs under its own purpose, so one kind's cookie never
 * verifies as the other's.
 */
export interface SessionKind {
  purpose: string;
  /** Served over https, the cookie takes the `__Host-` prefix: Secure, host-only, Path=/, as browsers enforce. */
  cookieName: (secure: boolean) => string;
  maxAgeSeconds: number;
  renewAfterSeconds: number;
  subjectPattern: RegExp;
  sameSite: "Lax" | "Strict";
}

export const guestSession: SessionKind = {
  purpose: "guest",
  cookieName: (secure) => (secure ? "__Host-eoc_session" : "eoc_session"),
  maxAgeSeconds: 30 * 24 * 60 * 60,
  renewAfterSeconds: 24 * 60 * 60,
  subjectPattern: /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/,
  sameSite: "Lax",
};

/** Strict: a merchant's cookie is never sent on a request another site started, not even a top-level link. */
export const merchantSession: SessionKind = {
  purpose: "merchant",
  cookieName: (secure) => (secure ? "__Host-eoc_merchant" : "eoc_merchant"),
  maxAgeSeconds: 8 * 60 * 60,
  renewAfterSeconds: 15 * 60,
  subjectPattern: /^[1-9]\d{0,9}$/,
  sameSite: "Strict",
};

export const sessionCookieName = guestSession.cookieName;
export const sessionMaxAgeSeconds = guestSession.maxAgeSeconds;

const nowSeconds = () => Math.floor(Date.now() / 1000);

function signature(kind: SessionKind, payload: string, secret: string): string {
  return createHmac("sha256", secret).update(`${kind.purpose}:${payload}`).digest("base64url");
}

export function signSessionOf(kind: SessionKind, subject: string, secret: string, issuedAt = nowSeconds()): string {
  const payload = `${subject}.${issuedAt}`;
  return `${payload}.${signature(kind, payload, secret)}`;
}

export interface VerifiedSessionOf {
  subject: string;
  issuedAt: number;
  /** True when the cookie should be re-issued with a fresh issue time. */
  renew: boolean;
}

/** The session of a genuine, unexpired cookie value, or null for anything forged, altered, malformed or expired. */
export function verifySessionOf(
  kind: SessionKind,
  value: string,
  secret: string,
  now = nowSeconds(),
): VerifiedSessionOf | null {
  const separator = value.lastIndexOf(".");
  if (separator < 0) return null;
  const payload = value.slice(0, separator);
  const [subject, issued, ...rest] = payload.split(".");
  if (rest.length > 0 || !subject || !kind.subjectPattern.test(subject) || !/^\d{1,12}$/.test(issued ?? "")) {
    return null;
  }
  const given = Buffer.from(value.slice(separator + 1));
  const expected = Buffer.from(signature(kind, payload, secret));
  if (given.length !== expected.length || !timingSafeEqual(given, expected)) return null;
  const issuedAt = Number(issued);
  const age = now - issuedAt;
  if (age > kind.maxAgeSeconds || age < -300) return null;
  return { subject, issuedAt, renew: age > kind.renewAfterSeconds };
}

export function signSession(customerId: string, secret: string, issuedAt = nowSeconds()): string {
  return signSessionOf(guestSession, customerId, secret, issuedAt);
}

export interface VerifiedSession {
  customerId: string;
  /** True when the cookie should be re-issued (it is more than a day old). */
  renew: boolean;
}

export function verifySession(value: string, secret: string, now = nowSeconds()): VerifiedSession | null {
  const verified = verifySessionOf(guestSession, value, secret, now);
  return verified && { customerId: verified.subject, renew: verified.renew };
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

export function sessionCookie(value: string, secure: boolean, kind: SessionKind = guestSession): string {
  return [
    `${kind.cookieName(secure)}=${encodeURIComponent(value)}`,
    "Path=/",
    "HttpOnly",
    `SameSite=${kind.sameSite}`,
    `Max-Age=${kind.maxAgeSeconds}`,
    ...(secure ? ["Secure"] : []),
  ].join("; ");
}

export function expiredSessionCookie(secure: boolean, kind: SessionKind = guestSession): string {
  return `${kind.cookieName(secure)}=; Path=/; HttpOnly; SameSite=${kind.sameSite}; Max-Age=0${secure ? "; Secure" : ""}`;
}
