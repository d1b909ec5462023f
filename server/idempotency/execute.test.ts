/**
 * The protocol of contract §2 (`../shared/IDEMPOTENCY.md`), row by row, in process, against each real store:
 * what a caller sees in each situation. Leases expire by moving the stores' clock, not by waiting.
 */
import { randomUUID } from "node:crypto";
import { eq } from "drizzle-orm";
import type { Redis } from "ioredis";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { type Executor, openDatabase } from "@/db/client";
import { customers } from "@/db/schema";
import { deferred } from "@/testing/deferred";
import { type RedisServer, startRedisServer } from "@/testing/redis-server";
import { appError, appErrorPolicy, asAppError } from "../errors";
import { openRedis } from "../redis";
import { type IdempotencySettings, IdempotentExecution } from "./execute";
import { MysqlIdempotencyStore } from "./mysql-store";
import { RedisIdempotencyStore } from "./redis-store";
import type { IdempotencyStore } from "./store";
import { businessDatabase, TestClock, transactOnBusinessDatabase } from "./store-conformance";

let redisServer: RedisServer;
let redis: Redis;
let deadRedis: Redis;
beforeAll(async () => {
  redisServer = await startRedisServer(6395);
  redis = openRedis(redisServer.url);
  // Nothing listens there: every command fails at once, as with Redis down.
  deadRedis = openRedis("redis://127.0.0.1:1");
});
afterAll(async () => {
  redis?.disconnect();
  deadRedis?.disconnect();
  await redisServer?.stop();
  await businessDatabase.close();
});

interface StoreUnderTest {
  name: string;
  open(clock: TestClock): IdempotencyStore<Executor>;
  /** A store whose backend cannot be reached, and how to close it. */
  openDead(): Promise<{ store: IdempotencyStore<Executor>; close(): Promise<void> }>;
}

const stores: StoreUnderTest[] = [
  {
    name: "MySQL",
    open: (clock) => new MysqlIdempotencyStore(businessDatabase.db, clock.now),
    openDead: async () => {
      const dead = openDatabase("mysql://nobody:nothing@127.0.0.1:1/nowhere");
      return { store: new MysqlIdempotencyStore(dead.db), close: () => dead.close() };
    },
  },
  {
    name: "Redis",
    open: (clock) => new RedisIdempotencyStore(redis, transactOnBusinessDatabase, () => clock.now().getTime()),
    openDead: async () => ({
      store: new RedisIdempotencyStore(deadRedis, transactOnBusinessDatabase),
      close: async () => undefined,
    }),
  },
];

/** The error a call ends with, as the client gets it (the layer's own answers mapped to tRPC codes). */
async function clientErrorOf(promise: Promise<unknown>) {
  const caught = await promise.then(
    () => {
      throw new Error("expected the call to fail");
    },
    (error: unknown) => error,
  );
  return asAppError(caught) as { code: string; message: string; cause?: unknown };
}

/** Runs work that touches nothing either way: as leased work, or inside a business transaction. */
function runAs(
  how: "withLease" | "inTransaction",
  execution: IdempotentExecution<Executor>,
  work: () => Promise<unknown>,
) {
  return how === "withLease" ? execution.withLease(work) : execution.inTransaction(work);
}

const customerRows = (id: string) => businessDatabase.db.select().from(customers).where(eq(customers.id, id));

describe.each(stores)("an idempotent execution on the $name store", ({ open, openDead }) => {
  const clock = new TestClock();
  let store: IdempotencyStore<Executor>;
  let settings: IdempotencySettings<Executor>;
  beforeAll(() => {
    store = open(clock);
    settings = { store, waitMs: 300, leaseMs: 30_000, retentionMs: 3600_000, errors: appErrorPolicy };
  });
  const newCall = () => ({
    scope: randomUUID(),
    key: randomUUID(),
    procedurePath: "test.work",
    fingerprint: "e".repeat(64),
  });
  const execution = (call: ReturnType<typeof newCall>, overrides: Partial<IdempotencySettings<Executor>> = {}) =>
    new IdempotentExecution(call, { ...settings, ...overrides });

  describe("first request with a key", () => {
    it("executes once; the same key and input then replay the payload byte for byte with replayed = true", async () => {
      const call = newCall();
      const work = vi.fn(async () => ({ total: 42, at: new Date(0), note: "ünïcode ✓" }));
      const first = await execution(call).withLease(work);
      const replay = await execution(call).withLease(work);
      expect(work).toHaveBeenCalledTimes(1);
      expect(first).toMatchObject({ total: 42, at: "1970-01-01T00:00:00.000Z", idempotency: { replayed: false } });
      expect(replay).toEqual({ ...first, idempotency: { ...first.idempotency, replayed: true } });
    });

    it("in a business transaction: commits the write once and replays it", async () => {
      const call = newCall();
      const work = vi.fn(async (business: Executor) => {
        await business.insert(customers).values({ id: call.scope });
        return { customer: call.scope };
      });
      const first = await execution(call).inTransaction(work);
      const replay = await execution(call).inTransaction(work);
      expect(work).toHaveBeenCalledTimes(1);
      expect(await customerRows(call.scope)).toHaveLength(1);
      expect(replay).toEqual({ ...first, idempotency: { ...first.idempotency, replayed: true } });
    });
  });

  describe("same key, different input or different procedure", () => {
    it("answers UNPROCESSABLE_CONTENT (422) and executes nothing", async () => {
      const call = newCall();
      await execution(call).withLease(async () => ({ ok: true }));
      const work = vi.fn(async () => ({ ok: false }));
      const otherInput = await clientErrorOf(execution({ ...call, fingerprint: "f".repeat(64) }).withLease(work));
      const otherProcedure = await clientErrorOf(
        execution({ ...call, procedurePath: "test.other" }).inTransaction(work),
      );
      expect([otherInput.code, otherProcedure.code]).toEqual(["UNPROCESSABLE_CONTENT", "UNPROCESSABLE_CONTENT"]);
      expect(work).not.toHaveBeenCalled();
    });
  });

  describe("same key while the first is still in flight", () => {
    it("waits for the original and replays it", async () => {
      const call = newCall();
      const gate = deferred();
      const work = vi.fn(async () => {
        await gate.promise;
        return { ok: true };
      });
      const original = execution(call, { waitMs: 2000 }).withLease(work);
      await vi.waitUntil(() => work.mock.calls.length === 1);
      const duplicate = execution(call, { waitMs: 2000 }).withLease(work);
      setTimeout(gate.resolve, 100);
      const [first, second] = await Promise.all([original, duplicate]);
      expect(work).toHaveBeenCalledTimes(1);
      expect(second).toMatchObject({
        ok: true,
        idempotency: { replayed: true, firstSeenAt: first.idempotency.firstSeenAt },
      });
    });

    it("answers CONFLICT (409) with retryAfterMs once the original outlasts the wait", async () => {
      const call = newCall();
      const gate = deferred();
      const running = deferred();
      const original = execution(call).withLease(async () => {
        running.resolve();
        await gate.promise;
        return { ok: true };
      });
      await running.promise;
      const work = vi.fn(async () => ({ ok: false }));
      const error = await clientErrorOf(execution(call).withLease(work));
      expect(error.code).toBe("CONFLICT");
      expect(error.cause).toMatchObject({ details: { retryAfterMs: expect.any(Number) } });
      expect(work).not.toHaveBeenCalled();
      gate.resolve();
      await original;
    });

    it("in a business transaction: racing duplicates write once and all answer with the same payload", async () => {
      const call = newCall();
      const work = vi.fn(async (business: Executor) => {
        await business.insert(customers).values({ id: call.scope });
        await new Promise((resolve) => setTimeout(resolve, 50));
        return { customer: call.scope, token: randomUUID() };
      });
      const answers = await Promise.all(
        Array.from({ length: 8 }, () => execution(call, { waitMs: 3000 }).inTransaction(work)),
      );
      expect(work).toHaveBeenCalledTimes(1);
      expect(await customerRows(call.scope)).toHaveLength(1);
      expect(new Set(answers.map((answer) => answer.token)).size).toBe(1);
      expect(answers.filter((answer) => !answer.idempotency.replayed)).toHaveLength(1);
    });
  });

  describe("a deterministic business outcome", () => {
    it("is stored and replayed as the same error without running the work again", async () => {
      for (const run of ["withLease", "inTransaction"] as const) {
        const call = newCall();
        const work = vi.fn(async () => {
          throw appError("NOT_FOUND", "Order 9 does not exist.");
        });
        const first = await clientErrorOf(runAs(run, execution(call), work));
        const replay = await clientErrorOf(runAs(run, execution(call), work));
        expect(work).toHaveBeenCalledTimes(1);
        expect([first.code, replay.code]).toEqual(["NOT_FOUND", "NOT_FOUND"]);
        expect(replay.message).toBe(first.message);
        expect(replay.cause).toMatchObject({ details: { idempotency: { replayed: true } } });
      }
    });
  });

  describe("a transient failure", () => {
    it("stores no outcome: the key keeps its recovery point and a retry resumes from it", async () => {
      const call = newCall();
      const seen: string[] = [];
      const failing = execution(call).withLease(async (step) => {
        seen.push(step.recoveryPoint);
        await step.advance("payment_created");
        throw appError("SERVICE_UNAVAILABLE", "The provider is down.");
      });
      expect((await clientErrorOf(failing)).code).toBe("SERVICE_UNAVAILABLE");
      expect(await store.read(call)).toMatchObject({ status: "in_progress", recoveryPoint: "payment_created" });
      const retried = await execution(call).withLease(async (step) => {
        seen.push(step.recoveryPoint);
        return { paid: true };
      });
      expect(seen).toEqual(["started", "payment_created"]);
      expect(retried.idempotency.replayed).toBe(false);
    });

    it("before any step was recorded, forgets the key: a corrected retry may reuse it", async () => {
      const call = newCall();
      const failing = execution(call).withLease(async () => {
        throw appError("SERVICE_UNAVAILABLE", "The database blinked.");
      });
      expect((await clientErrorOf(failing)).code).toBe("SERVICE_UNAVAILABLE");
      expect(await store.read(call)).toBeNull();
      const retried = await execution({ ...call, fingerprint: "f".repeat(64) }).withLease(async () => ({ ok: true }));
      expect(retried).toMatchObject({ ok: true, idempotency: { replayed: false } });
    });

    it("in a business transaction, rolls the write back with the claim", async () => {
      const call = newCall();
      const error = await clientErrorOf(
        execution(call).inTransaction(async (business) => {
          await business.insert(customers).values({ id: call.scope });
          throw appError("SERVICE_UNAVAILABLE", "blip");
        }),
      );
      expect(error.code).toBe("SERVICE_UNAVAILABLE");
      expect(await store.read(call)).toBeNull();
      expect(await customerRows(call.scope)).toEqual([]);
    });
  });

  describe("a lost lease", () => {
    it("lets a retry take over once the lease ends; the stalled holder's answer is refused, the new one's stored", async () => {
      const call = newCall();
      const stalled = deferred();
      const running = deferred();
      const first = execution(call, { leaseMs: 1000 }).withLease(async () => {
        running.resolve();
        await stalled.promise;
        return { by: "first" };
      });
      await running.promise;
      clock.advance(1500);
      const second = await execution(call, { leaseMs: 1000 }).withLease(async () => ({ by: "second" }));
      expect(second).toMatchObject({ by: "second", idempotency: { replayed: false } });
      stalled.resolve();
      expect((await clientErrorOf(first)).code).toBe("CONFLICT");
      expect(await execution(call).withLease(async () => ({ by: "third" }))).toMatchObject({
        by: "second",
        idempotency: { replayed: true },
      });
    });
  });

  describe("the idempotency store unreachable", () => {
    it("fails closed with SERVICE_UNAVAILABLE (503), running nothing", async () => {
      const dead = await openDead();
      try {
        const work = vi.fn(async () => ({ ok: true }));
        const deadSettings = { store: dead.store };
        for (const run of ["withLease", "inTransaction"] as const) {
          const error = await clientErrorOf(runAs(run, execution(newCall(), deadSettings), work));
          expect(error.code).toBe("SERVICE_UNAVAILABLE");
          expect(error.message).toMatch(/nothing was done/);
        }
        expect(work).not.toHaveBeenCalled();
      } finally {
        await dead.close();
      }
    });
  });
});
