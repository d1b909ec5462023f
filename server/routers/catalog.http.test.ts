/**
 * The catalog's write patterns of contract §5 through HTTP against two production servers sharing one database:
 * links are upserts, unlinks deletes that tolerate a missing link, renames versioned updates.
 * Every test works on products and categories of its own, so the seeded catalog stays as other suites expect it.
 */
import { randomUUID } from "node:crypto";
import { and, eq } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { openDatabase } from "@/db/client";
import { categories, productCategories, products } from "@/db/schema";
import { productNameMaxLength } from "@/shop/limits";
import { type AppServer, startAppServer } from "@/testing/app-server";
import { type CallResult, ShopClient } from "@/testing/shop-client";

const databaseUrl = inject("databaseUrl");
const database = openDatabase(databaseUrl);
let serverA: AppServer;
let serverB: AppServer;
/** Alternates between the two servers, so concurrent calls race across processes and pools. */
let clients: [ShopClient, ShopClient];

beforeAll(async () => {
  [serverA, serverB] = await Promise.all([
    startAppServer({ port: 3301, env: { DATABASE_URL: databaseUrl } }),
    startAppServer({ port: 3302, env: { DATABASE_URL: databaseUrl } }),
  ]);
  clients = [new ShopClient(serverA.url), new ShopClient(serverB.url)];
  // Catalog edits are the merchant's: both clients carry the merchant's session.
  await Promise.all(clients.map((merchant) => merchant.signInAsMerchant()));
}, 60_000);

afterAll(async () => {
  await Promise.all([serverA?.stop(), serverB?.stop()]);
  await database.close();
});

function client(index = 0): ShopClient {
  return clients[index % 2] as ShopClient;
}

async function createProduct(name = "Test blend"): Promise<number> {
  const sku = `TEST-${randomUUID()}`;
  await database.db.insert(products).values({ sku, name, priceCents: 700, currency: "USD" });
  const [row] = await database.db.select({ id: products.id }).from(products).where(eq(products.sku, sku));
  return (row as { id: number }).id;
}

async function createCategory(): Promise<number> {
  const slug = `test-${randomUUID()}`;
  await database.db.insert(categories).values({ slug, name: "Test shelf" });
  const [row] = await database.db.select({ id: categories.id }).from(categories).where(eq(categories.slug, slug));
  return (row as { id: number }).id;
}

async function linkRows(productId: number, categoryId: number) {
  return database.db
    .select()
    .from(productCategories)
    .where(and(eq(productCategories.productId, productId), eq(productCategories.categoryId, categoryId)));
}

async function productRow(productId: number) {
  const [row] = await database.db
    .select({ name: products.name, version: products.version })
    .from(products)
    .where(eq(products.id, productId));
  return row;
}

const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

function expectCode(result: CallResult, status: number, code: string) {
  expect({ status: result.status, code: result.data?.data?.code }).toEqual({ status, code });
}

describe("catalog.link and catalog.unlink", () => {
  it("leaves exactly one row for 20 concurrent links, keeping create_time and refreshing update_time", async () => {
    const link = { productId: await createProduct(), categoryId: await createCategory() };

    const firstStorm = await Promise.all(
      Array.from({ length: 20 }, (_, index) => client(index).mutation("catalog.link", link)),
    );
    expect(firstStorm.map((result) => result.status)).toEqual(firstStorm.map(() => 200));
    expect(firstStorm.map((result) => result.data)).toEqual(firstStorm.map(() => ({ ...link, linked: true })));
    const [created, ...extra] = await linkRows(link.productId, link.categoryId);
    expect(extra).toHaveLength(0);
    if (!created) throw new Error("the link was not created");

    await pause(20);
    const secondStorm = await Promise.all(
      Array.from({ length: 20 }, (_, index) => client(index).mutation("catalog.link", link)),
    );
    expect(secondStorm.map((result) => result.status)).toEqual(secondStorm.map(() => 200));
    const rows = await linkRows(link.productId, link.categoryId);
    expect(rows).toHaveLength(1);
    expect(rows[0]?.createTime).toEqual(created.createTime);
    expect(rows[0]?.updateTime.getTime()).toBeGreaterThan(created.updateTime.getTime());
  });

  it("ends linked after link, unlink, unlink, link; each answer states the link as it now is", async () => {
    const link = { productId: await createProduct(), categoryId: await createCategory() };
    const steps = ["catalog.link", "catalog.unlink", "catalog.unlink", "catalog.link"];
    const answers: unknown[] = [];
    for (const [index, path] of steps.entries()) {
      const result = await client(index).mutation(path, link);
      expect(result.status).toBe(200);
      answers.push(result.data);
      expect(await linkRows(link.productId, link.categoryId)).toHaveLength(path === "catalog.link" ? 1 : 0);
    }
    expect(answers).toEqual([true, false, false, true].map((linked) => ({ ...link, linked })));

    const catalog = await client().query("catalog.products");
    const listed = catalog.data.find((product: { id: number }) => product.id === link.productId);
    expect(listed.categoryIds).toEqual([link.categoryId]);
  });

  it("answers NOT_FOUND for an unknown product or category, without foreign-key text, and writes nothing", async () => {
    const productId = await createProduct();
    const categoryId = await createCategory();
    const unknown = 2_000_000_000;
    for (const path of ["catalog.link", "catalog.unlink"]) {
      for (const input of [
        { productId: unknown, categoryId },
        { productId, categoryId: unknown },
      ]) {
        const result = await client().mutation(path, input);
        expectCode(result, 404, "NOT_FOUND");
        expect(result.data.message).toContain(String(unknown));
        expect(result.data.message).not.toMatch(/foreign|constraint|references|sql|ER_/i);
      }
    }
    expect(await linkRows(productId, unknown)).toHaveLength(0);
    expect(await linkRows(unknown, categoryId)).toHaveLength(0);
  });

  it("refuses ids that are not positive integers", async () => {
    for (const input of [{ productId: 1 }, { productId: 0, categoryId: 1 }, { productId: 1.5, categoryId: 1 }]) {
      expectCode(await client().mutation("catalog.link", input), 400, "BAD_REQUEST");
    }
  });

  it("refuses ids beyond the column's range with 400, not a driver error", async () => {
    expectCode(await client().mutation("catalog.link", { productId: 2147483648, categoryId: 1 }), 400, "BAD_REQUEST");
  });
});

describe("catalog.rename", () => {
  it("lets exactly one of 20 concurrent renames of one version win; the rest get CONFLICT with its value", async () => {
    const productId = await createProduct("Race blend");
    const names = Array.from({ length: 20 }, (_, index) => `Race blend no. ${index + 1}`);
    const results = await Promise.all(
      names.map((name, index) => client(index).mutation("catalog.rename", { productId, name, expectedVersion: 1 })),
    );

    const winners = results.filter((result) => result.status === 200);
    expect(winners).toHaveLength(1);
    const winner = winners[0]?.data.product;
    expect(names).toContain(winner.name);
    expect(winner).toMatchObject({ id: productId, version: 2, priceCents: 700, currency: "USD", categoryIds: [] });
    expect(await productRow(productId)).toEqual({ name: winner.name, version: 2 });

    const losers = results.filter((result) => result.status !== 200);
    expect(losers).toHaveLength(19);
    for (const loser of losers) {
      expectCode(loser, 409, "CONFLICT");
      expect(loser.data.data.current).toEqual({ name: winner.name, version: 2 });
      expect(loser.data.message).toContain(winner.name);
    }
  });

  it("succeeds when the writer's own already-applied rename is replayed, without bumping the version again", async () => {
    const productId = await createProduct("Replay blend");
    const rename = { productId, name: "Replay blend, washed", expectedVersion: 1 };
    const first = await client(0).mutation("catalog.rename", rename);
    const replay = await client(1).mutation("catalog.rename", rename);
    expect(first.status).toBe(200);
    expect(replay.status).toBe(200);
    expect(replay.data).toEqual(first.data);
    expect(first.data.product).toMatchObject({ name: "Replay blend, washed", version: 2 });
    expect(await productRow(productId)).toEqual({ name: "Replay blend, washed", version: 2 });
  });

  it("reports a conflict for a replay once another writer has renamed the product since", async () => {
    const productId = await createProduct("Overtaken blend");
    const mine = { productId, name: "Overtaken blend, mine", expectedVersion: 1 };
    expect((await client().mutation("catalog.rename", mine)).status).toBe(200);
    const theirs = await client(1).mutation("catalog.rename", {
      productId,
      name: "Overtaken blend, theirs",
      expectedVersion: 2,
    });
    expect(theirs.status).toBe(200);

    const replay = await client().mutation("catalog.rename", mine);
    expectCode(replay, 409, "CONFLICT");
    expect(replay.data.data.current).toEqual({ name: "Overtaken blend, theirs", version: 3 });
    expect(await productRow(productId)).toEqual({ name: "Overtaken blend, theirs", version: 3 });

    const keepMine = await client().mutation("catalog.rename", { ...mine, expectedVersion: 3 });
    expect(keepMine.status).toBe(200);
    expect(await productRow(productId)).toEqual({ name: "Overtaken blend, mine", version: 4 });
  });

  it("trims names and accepts the longest name in characters (120), not UTF-16 units", async () => {
    const productId = await createProduct();
    const trimmed = await client().mutation("catalog.rename", {
      productId,
      name: "  Spaced blend \n",
      expectedVersion: 1,
    });
    expect(trimmed.status).toBe(200);
    expect(await productRow(productId)).toEqual({ name: "Spaced blend", version: 2 });

    const teapots = "🫖".repeat(productNameMaxLength);
    const long = await client().mutation("catalog.rename", { productId, name: teapots, expectedVersion: 2 });
    expect(long.status).toBe(200);
    expect(await productRow(productId)).toEqual({ name: teapots, version: 3 });
  });

  it("stores a name in Unicode's composed form (NFC), so equal-looking names are equal", async () => {
    const productId = await createProduct();
    const decomposed = "Cafe\u0301 blend";
    const result = await client().mutation("catalog.rename", { productId, name: decomposed, expectedVersion: 1 });
    expect(result.status).toBe(200);
    expect(await productRow(productId)).toEqual({ name: "Caf\u00e9 blend", version: 2 });
  });

  it.each([
    ["empty", ""],
    ["only spaces", "   "],
    ["121 characters", "a".repeat(121)],
    ["not a string", 42],
    ["holding a NUL", "Tea\u0000blend"],
    ["holding a terminal escape", "\u001b[31mRed blend"],
    ["holding a right-to-left override", "Blend \u202Egpj.exe"],
    ["zero-width characters only", "\u200B\u200D\uFEFF"],
    ["holding an unpaired surrogate", "Broken \uD800 blend"],
  ])("answers BAD_REQUEST for a name that is %s, and changes nothing", async (_label, name) => {
    const productId = await createProduct("Unchanged blend");
    const result = await client().mutation("catalog.rename", { productId, name, expectedVersion: 1 });
    expectCode(result, 400, "BAD_REQUEST");
    expect(result.data.message).toMatch(/^Invalid input: name /);
    expect(await productRow(productId)).toEqual({ name: "Unchanged blend", version: 1 });
  });

  it("answers NOT_FOUND for an unknown product", async () => {
    const result = await client().mutation("catalog.rename", {
      productId: 2_000_000_000,
      name: "Ghost blend",
      expectedVersion: 1,
    });
    expectCode(result, 404, "NOT_FOUND");
  });
});

describe("who may edit the catalog", () => {
  it("answers 401 to a request with no session, to a guest and to a forged merchant cookie, and changes nothing", async () => {
    const productId = await createProduct("Untouched");
    const rename = { productId, name: "Taken over", expectedVersion: 1 };
    const guest = new ShopClient(serverA.url);
    await guest.signIn();
    const forged = new ShopClient(serverA.url, "eoc_merchant=1.1900000000.bm90LWEtc2lnbmF0dXJl");
    for (const caller of [new ShopClient(serverA.url), guest, forged]) {
      const refused = await caller.mutation("catalog.rename", rename);
      expect(refused.status).toBe(401);
      expect(refused.data.data.code).toBe("UNAUTHORIZED");
      expect((await caller.mutation("catalog.link", { productId, categoryId: 1 })).status).toBe(401);
      expect((await caller.mutation("catalog.unlink", { productId, categoryId: 1 })).status).toBe(401);
    }
    expect(await productRow(productId)).toMatchObject({ name: "Untouched", version: 1 });
    expect(await linkRows(productId, 1)).toHaveLength(0);
  });

  it("ends every session of the merchant on sign-out, on every server", async () => {
    const merchant = new ShopClient(serverA.url);
    await merchant.signInAsMerchant();
    const productId = await createProduct("Before");
    const rename = { productId, name: "After", expectedVersion: 1 };
    expect((await merchant.query("merchant.me")).data.merchant).toEqual({ email: "merchant@shop.test" });
    // A session issued in an earlier second than the sign-out is ended by it.
    await new Promise((resolve) => setTimeout(resolve, 1100));
    expect((await merchant.mutation("merchant.logout", {})).status).toBe(200);
    expect((await merchant.on(serverB.url).mutation("catalog.rename", rename)).status).toBe(401);
    expect((await merchant.query("merchant.me")).data.merchant).toBeNull();
    await merchant.signInAsMerchant();
    expect((await merchant.mutation("catalog.rename", rename)).status).toBe(200);
  });

  it("refuses a wrong password or an unknown email alike, with 401", async () => {
    const client = new ShopClient(serverA.url);
    const wrong = await client.mutation("merchant.login", { email: "merchant@shop.test", password: "not the one" });
    const unknown = await client.mutation("merchant.login", { email: "someone@shop.test", password: "whatever" });
    for (const refused of [wrong, unknown]) {
      expect(refused.status).toBe(401);
      expect(refused.data.message).toBe("That email and password do not match a merchant account.");
      expect(refused.headers.get("set-cookie")).toBeNull();
    }
  });
});
