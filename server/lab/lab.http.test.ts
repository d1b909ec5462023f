/**
 * The lab's boundaries: its faults answer only a lab session of the same guest while the lab is enabled, a shop
 * request can never trigger one, ENABLE_LAB=false removes the lab entirely, and the lab's code writes only its
 * own tables.
 */
import { randomUUID } from "node:crypto";
import { readdirSync, readFileSync } from "node:fs";
import { and, count, eq } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { openDatabase } from "@/db/client";
import { labCharges, labEvents, labOrders, orders, productCategories, products } from "@/db/schema";
import { type AppServer, startAppServer } from "@/testing/app-server";
import { ShopClient } from "@/testing/shop-client";
import type { PatternComparison } from "./patterns";
import { deleteLabRecords, labRetentionMs } from "./retention";

const databaseUrl = inject("databaseUrl");
const database = openDatabase(databaseUrl);
let enabled: AppServer;
let disabled: AppServer;

beforeAll(async () => {
  [enabled, disabled] = await Promise.all([
    startAppServer({ port: 3281, env: { DATABASE_URL: databaseUrl, ENABLE_LAB: "true" } }),
    // The lab left at its default: off, as a server started outside `npm run demo` has it.
    startAppServer({ port: 3282, env: { DATABASE_URL: databaseUrl } }),
  ]);
}, 60_000);
afterAll(async () => {
  await Promise.all([enabled?.stop(), disabled?.stop()]);
  await database.close();
});

const cart = { items: [{ productId: 1, quantity: 1 }] };

/** A guest who opened the lab: both its cookies. */
async function labGuest(server: AppServer): Promise<ShopClient> {
  const guest = new ShopClient(server.url);
  await guest.signIn();
  const started = await guest.mutation("lab.start", {});
  expect(started.status).toBe(200);
  const labCookie = (started.headers.get("set-cookie") ?? "").split(";")[0] as string;
  guest.cookie = `${guest.cookie}; ${labCookie}`;
  return guest;
}

const ordersWithKey = async (customerId: string, key: string) =>
  (
    await database.db
      .select({ n: count() })
      .from(orders)
      .where(and(eq(orders.customerId, customerId), eq(orders.placementKey, key)))
  )[0]?.n;

const labEventsOf = async (customerId: string) =>
  (await database.db.select({ n: count() }).from(labEvents).where(eq(labEvents.labSession, customerId)))[0]?.n;

describe("lab faults", () => {
  it("are caused for a lab session: the order is placed, then its answer is lost", async () => {
    const guest = await labGuest(enabled);
    const key = randomUUID();
    await expect(
      guest.mutation("orders.place", cart, { "idempotency-key": key, "x-lab-fault": "lose-response" }),
    ).rejects.toThrow();
    expect(await ordersWithKey(guest.customerId as string, key)).toBe(1);
    expect(await labEventsOf(guest.customerId as string)).toBe(1);
  });

  it("crash a payment at a recovery point; a server of one process abandons it there, its lease held for the retry", async () => {
    const guest = await labGuest(enabled);
    const placed = await guest.mutation("orders.place", cart, { "idempotency-key": randomUUID() });
    const pay = { orderId: (placed.data as { order: { id: number } }).order.id, card: "4242424242424242" };
    const key = randomUUID();
    await expect(
      guest.mutation("payments.pay", pay, { "idempotency-key": key, "x-lab-fault": "crash:payment_created" }),
    ).rejects.toThrow();
    const retry = await guest.mutation("payments.pay", pay, { "idempotency-key": key });
    expect(retry.status).toBe(409);
    const outcomes = await database.db
      .select({ outcome: labEvents.outcome })
      .from(labEvents)
      .where(eq(labEvents.labSession, guest.customerId as string));
    expect(outcomes.map((event) => event.outcome)).toContain("abandoned at payment_created, lease held");
    // The server itself goes on answering.
    expect((await guest.mutation("orders.place", cart, { "idempotency-key": randomUUID() })).status).toBe(200);
  });

  it("are never caused for a shop session, whatever it sends: it gets its answer and nothing is recorded", async () => {
    const shopper = new ShopClient(enabled.url);
    await shopper.signIn();
    for (const fault of ["lose-request", "lose-response", "hold:5000"]) {
      const started = Date.now();
      const placed = await shopper.mutation("orders.place", cart, {
        "idempotency-key": randomUUID(),
        "x-lab-fault": fault,
      });
      expect(placed.status).toBe(200);
      expect(Date.now() - started).toBeLessThan(4000);
    }
    expect(await labEventsOf(shopper.customerId as string)).toBe(0);
  });

  it("are never caused with another guest's lab cookie", async () => {
    const labUser = await labGuest(enabled);
    const other = new ShopClient(enabled.url);
    await other.signIn();
    const borrowed = (labUser.cookie ?? "").split("; ").find((cookie) => cookie.startsWith("eoc_lab="));
    other.cookie = `${other.cookie}; ${borrowed}`;
    const placed = await other.mutation("orders.place", cart, {
      "idempotency-key": randomUUID(),
      "x-lab-fault": "lose-response",
    });
    expect(placed.status).toBe(200);
    expect((await other.mutation("lab.placeOrderUnprotected", { ...cart, run: randomUUID() })).status).toBe(401);
  });

  it("do not exist with the lab off (the default): no lab procedures, no lab page, a lab cookie causes nothing", async () => {
    const guest = await labGuest(enabled);
    const onDisabled = guest.on(disabled.url);
    expect((await onDisabled.mutation("lab.start", {})).status).toBe(404);
    expect((await onDisabled.mutation("lab.placeOrderUnprotected", { ...cart, run: randomUUID() })).status).toBe(404);
    const placed = await onDisabled.mutation("orders.place", cart, {
      "idempotency-key": randomUUID(),
      "x-lab-fault": "lose-response",
    });
    expect(placed.status).toBe(200);
    expect((await fetch(`${disabled.url}/lab`)).status).toBe(404);
  });
});

/** Everything the catalog patterns touch, as it stands. */
const catalogAsItStands = async () => ({
  products: await database.db.select().from(products),
  links: await database.db.select().from(productCategories),
});

describe("lab patterns", () => {
  it("show each pattern both ways, and the shop's catalog code leaves the real catalog as it was", async () => {
    const before = await catalogAsItStands();
    const guest = await labGuest(enabled);
    const compared = await guest.mutation("lab.comparePatterns", { run: randomUUID() });
    expect(compared.status).toBe(200);
    const figures = Object.fromEntries(
      (compared.data as PatternComparison[]).map((pattern) => [
        pattern.pattern,
        [pattern.unprotected.figure, pattern.protected.figure],
      ]),
    );
    expect(figures["versioned-update"]?.[0]).toMatch(/\(second editor\)$/);
    expect(figures["versioned-update"]?.[1]).toMatch(/\(first editor\)$/);
    expect(figures["upsert-link"]).toEqual(["2", "1"]);
    expect(figures["redis-lease"]).toEqual(["0", "1"]);
    expect(figures["redis-down"]).toEqual(["2", "0"]);
    expect(await catalogAsItStands()).toEqual(before);
  });
});

describe("lab retention", () => {
  it("keeps a day of lab rows and deletes older ones, so an open lab never grows without bound", async () => {
    const labSession = randomUUID();
    const run = randomUUID();
    const twoDaysAgo = new Date(Date.now() - 2 * labRetentionMs);
    await database.db.insert(labOrders).values([
      { labSession, run, totalCents: 1, createdAt: twoDaysAgo },
      { labSession, run, totalCents: 2 },
    ]);
    await database.db.insert(labCharges).values({ labSession, run, amountCents: 1, createdAt: twoDaysAgo });
    await database.db.insert(labEvents).values({
      labSession,
      side: "unprotected",
      servedBy: "test",
      procedurePath: "lab.placeOrderUnprotected",
      httpStatus: 200,
      outcome: "executed",
      createdAt: twoDaysAgo,
    });
    await deleteLabRecords(database.db, new Date(Date.now() - labRetentionMs));
    const left = await database.db.select().from(labOrders).where(eq(labOrders.labSession, labSession));
    expect(left.map((order) => order.totalCents)).toEqual([2]);
    expect(await database.db.select().from(labCharges).where(eq(labCharges.labSession, labSession))).toEqual([]);
    expect(await labEventsOf(labSession)).toBe(0);
  });
});

describe("lab code", () => {
  it("writes only the lab's own tables", () => {
    const files = [
      ...readdirSync("server/lab")
        .filter((name) => name.endsWith(".ts") && !name.endsWith(".test.ts"))
        .map((name) => `server/lab/${name}`),
      "server/routers/lab.ts",
    ];
    const writes = files.flatMap((file) =>
      [...readFileSync(file, "utf8").matchAll(/\.(insert|update|delete)\((\w+)\)/g)].map((match) => match[2]),
    );
    expect(writes.length).toBeGreaterThan(0);
    expect(new Set(writes)).toEqual(new Set(["labOrders", "labCharges", "labEvents", "labProducts", "labLinks"]));
  });
});
