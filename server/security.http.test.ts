/**
 * The attacker's probes of the security review, each against a production server through HTTP: what answered
 * 200 or 500, froze a server or grew a table now answers a clear 4xx and leaves nothing behind. (Merchant-only
 * actions, provider credentials and rate limits have their own suites: catalog.http.test.ts, the payment
 * conformance suite and rate-limits.http.test.ts.)
 */
import { randomUUID } from "node:crypto";
import { count } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { openDatabase } from "@/db/client";
import { customers, idempotencyKeys } from "@/db/schema";
import { type AppServer, startAppServer } from "@/testing/app-server";
import { testMerchant } from "@/testing/merchant";
import { ShopClient } from "@/testing/shop-client";
import { maxBatchSize, maxBodyBytes } from "./request-guards";

const databaseUrl = inject("databaseUrl");
const database = openDatabase(databaseUrl, { poolSize: 2 });
let server: AppServer;

beforeAll(async () => {
  server = await startAppServer({ port: 3272, env: { DATABASE_URL: databaseUrl } });
}, 60_000);

afterAll(async () => {
  await server?.stop();
  await database.close();
});

const rowsOf = async (table: typeof customers | typeof idempotencyKeys) =>
  (await database.db.select({ n: count() }).from(table))[0]?.n ?? 0;

function post(path: string, body: string, headers: Record<string, string> = {}) {
  return fetch(`${server.url}/api/trpc/${path}`, {
    method: "POST",
    headers: { "content-type": "application/json", ...headers },
    body,
  });
}

describe("security review findings, through HTTP", () => {
  it("a batch of cookie-less session calls creates no customers, and an oversized batch is a 400", async () => {
    const before = await rowsOf(customers);
    const batch = (size: number) => Array.from({ length: size }, () => "session.me").join(",");
    const allowed = await fetch(`${server.url}/api/trpc/${batch(maxBatchSize)}?batch=1`);
    expect(allowed.status).toBe(200);
    expect(await rowsOf(customers)).toBe(before);
    const tooMany = await fetch(`${server.url}/api/trpc/${batch(maxBatchSize + 1)}?batch=1`);
    expect(tooMany.status).toBe(400);
  });

  it("a body over the cap is a 413 and deeply nested JSON a 400, with the server answering at once", async () => {
    const shopper = new ShopClient(server.url);
    await shopper.signIn();
    const cookie = { cookie: shopper.cookie as string };
    const huge = JSON.stringify({ idempotencyKey: randomUUID(), padding: "x".repeat(maxBodyBytes) });
    expect((await post("orders.place", huge, cookie)).status).toBe(413);
    // 60 KB, under the body cap: the nesting check is what answers.
    const started = Date.now();
    const nested = await post("orders.place", `${"[".repeat(30_000)}${"]".repeat(30_000)}`, cookie);
    expect(nested.status).toBe(400);
    expect(Date.now() - started).toBeLessThan(2000);
  });

  it("a write from another site's page is a 403, and nothing is stored", async () => {
    const shopper = new ShopClient(server.url);
    await shopper.signIn();
    const keys = await rowsOf(idempotencyKeys);
    const input = JSON.stringify({ idempotencyKey: randomUUID(), items: [{ productId: 1, quantity: 1 }] });
    const forged = await post("orders.place", input, {
      cookie: shopper.cookie as string,
      origin: "https://evil.example",
    });
    expect(forged.status).toBe(403);
    expect(await rowsOf(idempotencyKeys)).toBe(keys);
  });

  it("a cookie with broken percent-encoding is a 401 that clears it, never a 500", async () => {
    const response = await fetch(`${server.url}/api/trpc/session.me`, { headers: { cookie: "eoc_session=%E0%A4%A" } });
    expect(response.status).toBe(401);
    expect(response.headers.get("set-cookie")).toMatch(/^eoc_session=; .*Max-Age=0/);
  });

  it("ids beyond their column and names with hidden characters are 400s, never a 500 or a stored name", async () => {
    const merchant = new ShopClient(server.url);
    await merchant.signInAsMerchant(testMerchant);
    const link = await merchant.mutation("catalog.link", { productId: 2_147_483_648, categoryId: 1 });
    expect(link.status).toBe(400);
    for (const name of ["Tea\u0000", "Tea\u202Eevil", "\u200B\u200B", "Tea\uD800"]) {
      const rename = await merchant.mutation("catalog.rename", { productId: 1, name, expectedVersion: 1 });
      expect(rename.status, JSON.stringify(name)).toBe(400);
    }
  });

  it("pages carry the security headers and a nonce-based policy; the API is not framable either", async () => {
    const page = await fetch(`${server.url}/`);
    expect(page.headers.get("x-content-type-options")).toBe("nosniff");
    expect(page.headers.get("x-frame-options")).toBe("DENY");
    expect(page.headers.get("referrer-policy")).toBe("strict-origin-when-cross-origin");
    const policies = page.headers.get("content-security-policy") ?? "";
    expect(policies).toMatch(/script-src 'self' 'nonce-[^']+' 'strict-dynamic'/);
    expect(policies).toContain("frame-ancestors 'none'");
    const api = await fetch(`${server.url}/api/trpc/catalog.categories`);
    expect(api.headers.get("content-security-policy")).toContain("frame-ancestors 'none'");
  });
});
