/**
 * Several server processes on one port, as `npm start` runs them: connections are shared among them, every answer
 * names the process that served it, and a process that dies is replaced while the others keep answering.
 */
import { randomUUID } from "node:crypto";
import { request } from "node:http";
import { eq } from "drizzle-orm";
import { afterAll, beforeAll, expect, inject, it } from "vitest";
import { openDatabase } from "@/db/client";
import { idempotencyKeys } from "@/db/schema";
import { type AppServer, startLabServer } from "@/testing/app-server";
import { ShopClient } from "@/testing/shop-client";

const port = 3280;
let server: AppServer;
const database = openDatabase(inject("databaseUrl"));

beforeAll(async () => {
  // The lab server's entry: the shop's code on two processes, with the instruments that let a test kill one.
  server = await startLabServer({ port, processes: 2, env: { DATABASE_URL: inject("databaseUrl") } });
}, 60_000);
afterAll(async () => {
  await server?.stop();
  await database.close();
});

/** orders.place on a fresh connection: whether it was a replay, and which process answered. */
function replayOnFreshConnection(cookie: string, input: unknown): Promise<{ replayed: boolean; servedBy: string }> {
  return new Promise((resolve, reject) => {
    const body = JSON.stringify(input);
    const req = request(
      {
        host: "127.0.0.1",
        port,
        path: "/api/trpc/orders.place",
        method: "POST",
        agent: false,
        headers: { "content-type": "application/json", cookie, "content-length": Buffer.byteLength(body) },
      },
      (res) => {
        res.resume();
        res.on("end", () =>
          resolve({
            replayed: res.headers["idempotent-replayed"] === "true",
            servedBy: String(res.headers["x-served-by"]),
          }),
        );
      },
    );
    req.on("error", reject);
    req.end(body);
  });
}

/** One GET on a fresh connection (no keep-alive), so each may land on another process. */
function servedBy(path: string): Promise<{ status: number; servedBy: string }> {
  return new Promise((resolve, reject) => {
    const req = request({ host: "127.0.0.1", port, path, agent: false }, (res) => {
      res.resume();
      res.on("end", () => resolve({ status: res.statusCode ?? 0, servedBy: String(res.headers["x-served-by"]) }));
    });
    req.on("error", reject);
    req.end();
  });
}

async function processesAnswering(count: number) {
  const seen = new Set<string>();
  for (let index = 0; index < count; index += 1) {
    const answer = await servedBy(index % 2 ? "/api/trpc/session.me" : "/api/health");
    expect(answer.status).toBe(200);
    seen.add(answer.servedBy);
  }
  return seen;
}

it("shares one port among the processes, each answer naming the one that served it", async () => {
  const seen = await processesAnswering(20);
  expect(seen.size).toBe(2);
  for (const name of seen) expect(name).toMatch(/^.+\/\d+$/);
  const page = await servedBy("/");
  expect(seen).toContain(page.servedBy);
});

it("shares completed answers among the processes: a replay on the process that did not run it comes from memory", async () => {
  const shopper = new ShopClient(server.url);
  await shopper.signIn();
  const key = randomUUID();
  const input = { idempotencyKey: key, items: [{ productId: 1, quantity: 1 }] };
  const placed = await shopper.mutation("orders.place", input);
  expect(placed.status).toBe(200);
  // With the stored key gone, only a process's replay cache can still answer as a replay; without the sharing,
  // the process that did not run the order would run it again (and find the order, answering replayed = false).
  await database.db.delete(idempotencyKeys).where(eq(idempotencyKeys.idempotencyKey, key));
  // Passed on in batches within milliseconds; this leaves them ample time.
  await new Promise((resolve) => setTimeout(resolve, 300));
  const answers: { replayed: boolean; servedBy: string }[] = [];
  while (new Set(answers.map((answer) => answer.servedBy)).size < 2 && answers.length < 20) {
    answers.push(await replayOnFreshConnection(shopper.cookie as string, input));
  }
  expect(new Set(answers.map((answer) => answer.servedBy)).size).toBe(2);
  expect(answers.filter((answer) => !answer.replayed)).toEqual([]);
});

it("replaces a process that dies, while the other keeps answering", async () => {
  const before = await processesAnswering(20);
  const shopper = new ShopClient(server.url);
  await shopper.signIn();
  const crashed = shopper.mutation(
    "orders.place",
    { idempotencyKey: randomUUID(), items: [{ productId: 1, quantity: 1 }] },
    { "x-fault": "crash:claimed" },
  );
  await expect(crashed).rejects.toThrow();
  // The survivor answers at once; within seconds a new process joins it.
  await expect
    .poll(async () => [...(await processesAnswering(10))].some((name) => !before.has(name)), {
      timeout: 30_000,
      interval: 500,
    })
    .toBe(true);
  expect((await processesAnswering(20)).size).toBe(2);
}, 60_000);
