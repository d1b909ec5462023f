/**
 * Several server processes on one port, as `npm start` runs them: connections are shared among them, every answer
 * names the process that served it, and a process that dies is replaced while the others keep answering.
 */
import { randomUUID } from "node:crypto";
import { request } from "node:http";
import { afterAll, beforeAll, expect, inject, it } from "vitest";
import { type AppServer, startAppServer } from "@/testing/app-server";
import { ShopClient } from "@/testing/shop-client";

const port = 3280;
let server: AppServer;

beforeAll(async () => {
  server = await startAppServer({
    port,
    processes: 2,
    env: { DATABASE_URL: inject("databaseUrl"), ENABLE_FAULT_INJECTION: "true" },
  });
}, 60_000);
afterAll(() => server?.stop());

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

it("replaces a process that dies, while the other keeps answering", async () => {
  const before = await processesAnswering(20);
  const shopper = new ShopClient(server.url);
  await shopper.signIn();
  const crashed = shopper.mutation(
    "orders.place",
    { idempotencyKey: randomUUID(), items: [{ productId: 1, quantity: 1 }] },
    { "x-fault-crash-at": "orders.place:claimed" },
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
