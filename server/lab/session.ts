/**
 * Who may use the training lab's faults: a request of a guest who opened the lab (its `eoc_lab` cookie names the
 * same guest as its session cookie), while the lab is enabled. A shop request, whatever headers it sends, is never
 * one: a lab fault needs both cookies, signed by this server for the same guest.
 */
import type { Env } from "../env";
import { guestSession, labSession, readCookie, signSessionOf, verifySessionOf } from "../session";

export function labGuestOf(headers: Headers, env: Env): string | null {
  if (env.ENABLE_LAB !== "true") return null;
  const secure = env.SESSION_COOKIE_SECURE === "true";
  const cookies = headers.get("cookie");
  const guestCookie = readCookie(cookies, guestSession.cookieName(secure));
  const labCookie = readCookie(cookies, labSession.cookieName(secure));
  if (guestCookie === undefined || labCookie === undefined) return null;
  const guest = verifySessionOf(guestSession, guestCookie, env.SESSION_SECRET);
  const lab = verifySessionOf(labSession, labCookie, env.SESSION_SECRET);
  return guest && lab && guest.subject === lab.subject ? guest.subject : null;
}

export function labCookieValue(customerId: string, env: Env): string {
  return signSessionOf(labSession, customerId, env.SESSION_SECRET);
}
