import { randomUUID } from "node:crypto";
import { count, eq } from "drizzle-orm";
import { describe, expect, inject, it } from "vitest";
import { openDatabase } from "@/db/client";
import { customers } from "@/db/schema";
import { handleApiRequest } from "@/server/http/api";
import {
  readCookie,
  sessionCookie,
  sessionCookieName,
  sessionMaxAgeSeconds,
  signSession,
  verifySession,
} from "./session";

const secret = "s".repeat(40);
const customerId = randomUUID();

describe("signed guest session", () => {
  it("accepts the cookie it signed", () => {
    expect(verifySession(signSession(customerId, secret), secret)?.customerId).toBe(customerId);
  });

  it("expires a session 30 days after it was issued, and asks for renewal after a day", () => {
    const issuedAt = 1_800_000_000;
    const cookie = signSession(customerId, secret, issuedAt);
    expect(verifySession(cookie, secret, issuedAt + 3600)).toEqual({ customerId, renew: false });
    expect(verifySession(cookie, secret, issuedAt + 2 * 86400)).toEqual({ customerId, renew: true });
    expect(verifySession(cookie, secret, issuedAt + sessionMaxAgeSeconds + 1)).toBeNull();
  });

  it("behind https names the cookie __Host- and marks it Secure, host-only, for the whole site", () => {
    const cookie = sessionCookie(signSession(customerId, secret), true);
    expect(cookie).toMatch(/^__Host-eoc_session=/);
    expect(cookie).toMatch(/; Secure/);
    expect(cookie).toMatch(/; Path=\//);
    expect(cookie).not.toMatch(/Domain=/);
  });

  it("refuses a cookie whose issue time was moved, as an altered one", () => {
    const [id, issued, mac] = signSession(customerId, secret, 1_800_000_000).split(".");
    expect(verifySession(`${id}.${Number(issued) + 86400}.${mac}`, secret, 1_800_000_000)).toBeNull();
  });

  it("refuses a cookie whose customer id was changed", () => {
    const [, issued, signature] = signSession(customerId, secret).split(".");
    expect(verifySession(`${randomUUID()}.${issued}.${signature}`, secret)).toBeNull();
  });

  it("refuses a cookie whose signature was changed, or signed with another secret", () => {
    const genuine = signSession(customerId, secret);
    const flipped = genuine.slice(0, -1) + (genuine.endsWith("A") ? "B" : "A");
    expect(verifySession(flipped, secret)).toBeNull();
    expect(verifySession(signSession(customerId, "t".repeat(40)), secret)).toBeNull();
    expect(verifySession(customerId, secret)).toBeNull();
    expect(verifySession("", secret)).toBeNull();
  });
});

describe("session.me over the route handler", () => {
  const call = (cookie?: string) =>
    handleApiRequest(new Request("http://shop.test/api/trpc/session.me", { headers: cookie ? { cookie } : {} }));

  it("creates a customer and sets a signed, HttpOnly cookie on a first visit", async () => {
    const response = await call();
    expect(response.status).toBe(200);
    const setCookie = response.headers.get("set-cookie") ?? "";
    expect(setCookie).toMatch(/HttpOnly/);
    const value = readCookie(setCookie.split(";")[0] ?? "", sessionCookieName(false)) ?? "";
    const body = await response.json();
    expect(verifySession(value, process.env.SESSION_SECRET as string)?.customerId).toBe(body.result.data.customerId);

    const again = await call(`${sessionCookieName(false)}=${encodeURIComponent(value)}`);
    expect((await again.json()).result.data.customerId).toBe(body.result.data.customerId);
    expect(again.headers.get("set-cookie")).toBeNull();
  });

  it("refuses a tampered cookie with 401, clears it, and reveals nothing else", async () => {
    const forged = signSession(randomUUID(), "not-the-server-secret-not-the-server-secret");
    const response = await call(`${sessionCookieName(false)}=${encodeURIComponent(forged)}`);
    expect(response.status).toBe(401);
    expect(response.headers.get("set-cookie")).toMatch(/Max-Age=0/);
    const body = await response.json();
    expect(body.error.data.code).toBe("UNAUTHORIZED");
    expect(body.error.message).toMatch(/reload the page/);
    expect(JSON.stringify(body)).not.toMatch(/stack|at .*\.ts/);
  });

  it("refuses a cookie with broken percent-encoding with 401 and clears it, never a 500", async () => {
    const response = await call(`${sessionCookieName(false)}=%E0%A4%A`);
    expect(response.status).toBe(401);
    expect(response.headers.get("set-cookie")).toMatch(/Max-Age=0/);
    expect((await response.json()).error.data.code).toBe("UNAUTHORIZED");
  });

  it("writes no customer row for visits that write nothing; the first order does", async () => {
    const database = openDatabase(inject("databaseUrl"));
    const customerCount = async () => (await database.db.select({ n: count() }).from(customers))[0]?.n;
    try {
      const before = await customerCount();
      const paths = Array.from({ length: 5 }, () => "session.me").join(",");
      const visits = await handleApiRequest(new Request(`http://shop.test/api/trpc/${paths}?batch=1`));
      expect(visits.status).toBe(200);
      expect(await customerCount()).toBe(before);

      const first = await call();
      const cookie = (first.headers.get("set-cookie") ?? "").split(";")[0] as string;
      const { customerId } = (await first.json()).result.data;
      const placed = await handleApiRequest(
        new Request("http://shop.test/api/trpc/orders.place", {
          method: "POST",
          headers: { "content-type": "application/json", cookie },
          body: JSON.stringify({ idempotencyKey: randomUUID(), items: [{ productId: 1, quantity: 1 }] }),
        }),
      );
      expect(placed.status).toBe(200);
      const [row] = await database.db.select().from(customers).where(eq(customers.id, customerId));
      expect(row).toBeDefined();
    } finally {
      await database.close();
    }
  });
});
