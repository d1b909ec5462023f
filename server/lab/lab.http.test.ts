/**
 * The lab's boundaries: the lab is its own server (server/lab/main.ts), whose faults answer any of its guests; the
 * shop's server has no lab and honours no fault, whatever a lab session sends it; every lab resource a trainee can
 * hold is bounded with a clear 429; and the lab's code writes only its own tables.
 */
import { randomUUID } from "node:crypto";
import { once } from "node:events";
import { readdirSync, readFileSync } from "node:fs";
import { and, count, eq } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { openDatabase } from "@/db/client";
import * as schema from "@/db/schema";
import { labCharges, labEvents, labOrders, orders, productCategories, products } from "@/db/schema";
import { type AppServer, startAppServer, startLabServer } from "@/testing/app-server";
import { ShopClient } from "@/testing/shop-client";
import { labBounds } from "./bounds";
import type { PatternComparison } from "./patterns";
import { deleteLabRecords, labRetentionMs } from "./retention";

const databaseUrl = inject("databaseUrl");
const database = openDatabase(databaseUrl);
let lab: AppServer;
let shop: AppServer;

beforeAll(async () => {
  [lab, shop] = await Promise.all([
    startLabServer({ port: 3281, env: { DATABASE_URL: databaseUrl } }),
    startAppServer({ port: 3282, env: { DATABASE_URL: databaseUrl, LAB_URL: "http://127.0.0.1:3281" } }),
  ]);
}, 60_000);
afterAll(async () => {
  await Promise.all([lab?.stop(), shop?.stop()]);
  await database.close();
});

const cart = { items: [{ productId: 1, quantity: 1 }] };

/** A trainee: a guest of the lab server. */
async function trainee(server = lab): Promise<ShopClient> {
  const guest = new ShopClient(server.url);
  await guest.signIn();
  return guest;
}

const ordersWithKey = async (customerId: string, key: string) =>
  (
    await database.db
      .select({ n: count() })
      .from(orders)
      .where(and(eq(orders.customerId, customerId), eq(orders.placementKey, key)))
  )[0]?.n;

const stepsOf = async (customerId: string) =>
  (
    await database.db
      .select({ step: labEvents.step, outcome: labEvents.outcome, detail: labEvents.detail })
      .from(labEvents)
      .where(eq(labEvents.labSession, customerId))
      .orderBy(labEvents.id)
  ).map((event) => `${event.step}${event.detail ? `(${event.detail})` : ""}: ${event.outcome}`);

describe("lab faults", () => {
  it("are caused for a trainee of the lab server, and each step of the attempt is recorded", async () => {
    const guest = await trainee();
    const key = randomUUID();
    await expect(
      guest.mutation("orders.place", cart, {
        "idempotency-key": key,
        "x-fault": "lose-response",
        "x-lab-run": randomUUID(),
      }),
    ).rejects.toThrow();
    expect(await ordersWithKey(guest.customerId as string, key)).toBe(1);
    expect(await stepsOf(guest.customerId as string)).toEqual([
      "arrived(lose-response): arrived",
      "claimed: claimed",
      "before-commit: before-commit",
      "answered: executed, then the answer was lost",
    ]);
  });

  it("are never caused by the shop's server, whatever a trainee sends it: a crash, a hold or a lost answer", async () => {
    const guest = (await trainee()).on(shop.url);
    for (const fault of ["crash:claimed", "crash:payment_created", "hold:5000", "lose-response", "lose-request"]) {
      const started = Date.now();
      const placed = await guest.mutation("orders.place", cart, {
        "idempotency-key": randomUUID(),
        "x-fault": fault,
        "x-lab-run": randomUUID(),
      });
      expect(placed.status).toBe(200);
      expect(Date.now() - started).toBeLessThan(4000);
    }
    expect(shop.process.exitCode).toBeNull();
    expect(await stepsOf(guest.customerId as string)).toEqual([]);
  });

  it("a crash kills the lab's process at the named point, not the shop's", async () => {
    const crashing = await startLabServer({ port: 3283, env: { DATABASE_URL: databaseUrl } });
    const guest = await trainee(crashing);
    const exited = once(crashing.process, "exit");
    await expect(
      guest.mutation("orders.place", cart, { "idempotency-key": randomUUID(), "x-fault": "crash:claimed" }),
    ).rejects.toThrow();
    const [, signal] = await exited;
    expect(signal).toBe("SIGKILL");
    expect(await stepsOf(guest.customerId as string)).toContain("answered(claimed): process killed at claimed");
    expect((await guest.on(shop.url).mutation("orders.place", cart, { "idempotency-key": randomUUID() })).status).toBe(
      200,
    );
  });
});

/** The 429 of a lab bound: its status, its Retry-After, and a message naming the bound. */
function expectBound(answer: { status: number; headers: Headers; data: { message?: string } }, named: RegExp) {
  expect(answer.status).toBe(429);
  expect(Number(answer.headers.get("retry-after"))).toBeGreaterThan(0);
  expect(answer.data.message).toMatch(named);
}

describe("lab bounds, per trainee", () => {
  it("held claims: beyond the bound a 429, and the held ones still answer", async () => {
    const guest = await trainee();
    const hold = () =>
      guest.mutation("orders.place", cart, { "idempotency-key": randomUUID(), "x-fault": "hold:1500" });
    const held = Array.from({ length: labBounds.heldClaimsPerTrainee }, hold);
    await new Promise((resolve) => setTimeout(resolve, 300));
    expectBound(await hold(), /held claims/);
    for (const answer of await Promise.all(held)) expect(answer.status).toBe(200);
    expect((await hold()).status).toBe(200);
  });

  it("scenario runs going at once: a run whose attempts are in flight counts, a new one beyond the bound is a 429", async () => {
    const guest = await trainee();
    const attempt = (run: string, key: string, fault?: string) =>
      guest.mutation("orders.place", cart, {
        "idempotency-key": key,
        "x-lab-run": run,
        ...(fault ? { "x-fault": fault } : {}),
      });
    const [first, second] = [randomUUID(), randomUUID()];
    // Two runs held at their claim, and a third whose attempt waits for the first's key.
    const going = [attempt(randomUUID(), first, "hold:1500"), attempt(randomUUID(), second, "hold:1500")];
    await new Promise((resolve) => setTimeout(resolve, 200));
    going.push(attempt(randomUUID(), first));
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(labBounds.runsPerTrainee).toBe(3);
    expectBound(await attempt(randomUUID(), randomUUID()), /scenario runs going/);
    for (const answer of await Promise.all(going)) expect([200, 409]).toContain(answer.status);
    // Finished, they are no longer going: runs one after another are never refused.
    for (let index = 0; index < 5; index += 1) expect((await attempt(randomUUID(), randomUUID())).status).toBe(200);
  });

  it("crashing runs per minute: a run's two crashes count once; beyond the bound a 429, counted in the database", async () => {
    const guest = await trainee();
    // A point orders.place never reaches: the budget is spent, the process lives.
    const crash = (run: string) =>
      guest.mutation("orders.place", cart, {
        "idempotency-key": randomUUID(),
        "x-fault": "crash:payment_created",
        "x-lab-run": run,
      });
    for (let index = 1; index < labBounds.crashingRunsPerTraineePerMinute; index += 1) {
      expect((await crash(randomUUID())).status).toBe(200);
    }
    const lastRun = randomUUID();
    expect((await crash(lastRun)).status).toBe(200);
    expect((await crash(lastRun)).status).toBe(200);
    expectBound(await crash(lastRun), /This run has crashed the lab 2 times/);
    expectBound(await crash(randomUUID()), /crashing scenarios this minute/);
  });

  it("live timelines: beyond the bound a 429; the others go on streaming", async () => {
    const guest = await trainee();
    const open = () =>
      fetch(`${lab.url}/api/trpc/lab.timeline`, {
        headers: { cookie: guest.cookie as string, accept: "text/event-stream" },
      });
    const streams = await Promise.all(Array.from({ length: labBounds.timelinesPerTrainee }, open));
    for (const stream of streams) expect(stream.status).toBe(200);
    const refused = await open();
    expect(refused.status).toBe(429);
    expect(refused.headers.get("retry-after")).toBe("1");
    expect((await refused.json()).error.message).toMatch(/live timelines/);

    // Every open timeline gets the trainee's next attempt, from the process's one reader.
    await guest.mutation("orders.place", cart, { "idempotency-key": randomUUID(), "x-lab-run": randomUUID() });
    const decoder = new TextDecoder();
    for (const stream of streams) {
      const reader = (stream.body as ReadableStream<Uint8Array>).getReader();
      let seen = "";
      while (!seen.includes('"step":"answered"')) seen += decoder.decode((await reader.read()).value);
      await reader.cancel();
    }
    // Closed, they are given back.
    await new Promise((resolve) => setTimeout(resolve, 300));
    const again = await open();
    expect(again.status).toBe(200);
    await again.body?.cancel();
  });
});

describe("the shop's server", () => {
  it("has no lab: no lab procedures, and its /lab sends trainees to the lab server", async () => {
    const guest = await trainee(shop);
    expect((await guest.mutation("lab.start", {})).status).toBe(404);
    expect((await guest.mutation("lab.placeOrderUnprotected", { ...cart, run: randomUUID() })).status).toBe(404);
    const page = await fetch(`${shop.url}/lab`, { redirect: "manual" });
    expect(page.status).toBe(307);
    expect(page.headers.get("location")).toBe("http://127.0.0.1:3281/lab");
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
    const guest = await trainee();
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
    // Redis down is the pattern's point, not news for the log.
    expect(lab.output()).not.toContain("Unhandled error event");
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
    expect(await stepsOf(labSession)).toEqual([]);
  });
});

describe("lab code", () => {
  it("writes only the lab's own tables", () => {
    const files = readdirSync("server/lab")
      .filter((name) => name.endsWith(".ts") && !name.endsWith(".test.ts"))
      .map((name) => `server/lab/${name}`);
    const writes = files
      .flatMap((file) =>
        [...readFileSync(file, "utf8").matchAll(/\.(insert|update|delete)\((\w+)\)/g)].map((match) => match[2]),
      )
      .filter((name) => name !== undefined && name in schema);
    expect(writes.length).toBeGreaterThan(0);
    expect(new Set(writes)).toEqual(new Set(["labOrders", "labCharges", "labEvents", "labProducts", "labLinks"]));
  });
});
