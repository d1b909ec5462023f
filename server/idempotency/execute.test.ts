/**
 * The protocol of contract §2, in process, against the real MySQL store: what a caller sees for each situation.
 */
import { randomUUID } from "node:crypto";
import { TRPCError } from "@trpc/server";
import { afterAll, describe, expect, inject, it, vi } from "vitest";
import { openDatabase, type Transaction } from "@/db/client";
import { deferred } from "@/testing/deferred";
import { appError, appErrorPolicy, asAppError } from "../errors";
import { type IdempotencySettings, IdempotentExecution, type Transact } from "./execute";
import { MysqlIdempotencyStore } from "./mysql-store";

const database = openDatabase(inject("databaseUrl"));
const unreachable = openDatabase("mysql://nobody:nothing@127.0.0.1:1/nowhere");
afterAll(() => Promise.all([database.close(), unreachable.close()]));

const store = new MysqlIdempotencyStore(database.db);
const settings: IdempotencySettings = {
  store,
  waitMs: 300,
  leaseMs: 30_000,
  retentionMs: 3600_000,
  errors: appErrorPolicy,
};
const transact: Transact = (fn) => database.db.transaction((tx: Transaction) => fn(tx));

const newCall = () => ({
  scope: randomUUID(),
  key: randomUUID(),
  procedurePath: "test.work",
  fingerprint: "e".repeat(64),
});

/** The error a call ends with, as the client gets it (the layer's own answers mapped to tRPC codes). */
async function codeOf(promise: Promise<unknown>) {
  const error = asAppError(
    await promise.then(
      () => null,
      (caught: unknown) => caught,
    ),
  );
  expect(error).toBeInstanceOf(TRPCError);
  return error as TRPCError;
}

describe("an idempotent execution", () => {
  it("runs the work once and replays its payload with replayed = true", async () => {
    const call = newCall();
    const work = vi.fn(async () => ({ total: 42, at: new Date(0) }));
    const first = await new IdempotentExecution(call, settings).withLease(work);
    const replay = await new IdempotentExecution(call, settings).withLease(work);
    expect(work).toHaveBeenCalledTimes(1);
    expect(first).toMatchObject({ total: 42, at: "1970-01-01T00:00:00.000Z", idempotency: { replayed: false } });
    expect(replay).toEqual({ ...first, idempotency: { ...first.idempotency, replayed: true } });
  });

  it("makes a duplicate wait for the in-flight original and then replays it", async () => {
    const call = newCall();
    const gate = deferred();
    const work = vi.fn(async () => {
      await gate.promise;
      return { ok: true };
    });
    const original = new IdempotentExecution(call, { ...settings, waitMs: 2000 }).withLease(work);
    await new Promise((resolve) => setTimeout(resolve, 50));
    const duplicate = new IdempotentExecution(call, { ...settings, waitMs: 2000 }).withLease(work);
    setTimeout(gate.resolve, 100);
    const [first, second] = await Promise.all([original, duplicate]);
    expect(work).toHaveBeenCalledTimes(1);
    expect(second).toMatchObject({
      ok: true,
      idempotency: { replayed: true, firstSeenAt: first.idempotency.firstSeenAt },
    });
  });

  it("answers CONFLICT with retryAfterMs when the original outlasts the wait", async () => {
    const call = newCall();
    const gate = deferred();
    const original = new IdempotentExecution(call, settings).withLease(async () => {
      await gate.promise;
      return { ok: true };
    });
    await new Promise((resolve) => setTimeout(resolve, 50));
    const started = Date.now();
    const error = await codeOf(new IdempotentExecution(call, settings).withLease(async () => ({ ok: false })));
    expect(Date.now() - started).toBeGreaterThanOrEqual(250);
    expect(error.code).toBe("CONFLICT");
    expect(error.cause).toMatchObject({ details: { retryAfterMs: expect.any(Number) } });
    gate.resolve();
    await original;
  });

  it("stores a deterministic business error and replays it without running the work again", async () => {
    const call = newCall();
    const work = vi.fn(async () => {
      throw appError("NOT_FOUND", "Order 9 does not exist.");
    });
    const first = await codeOf(new IdempotentExecution(call, settings).withLease(work));
    const replay = await codeOf(new IdempotentExecution(call, settings).withLease(work));
    expect(work).toHaveBeenCalledTimes(1);
    expect([first.code, replay.code]).toEqual(["NOT_FOUND", "NOT_FOUND"]);
    expect(replay.message).toBe(first.message);
    expect(replay.cause).toMatchObject({ details: { idempotency: { replayed: true } } });
  });

  it("keeps a transient failure resumable: the retry runs again from the last recorded point", async () => {
    const call = newCall();
    const seen: string[] = [];
    const failing = new IdempotentExecution(call, settings).withLease(async (step) => {
      seen.push(step.recoveryPoint);
      await step.advance("payment_created");
      throw appError("SERVICE_UNAVAILABLE", "The provider is down.");
    });
    expect((await codeOf(failing)).code).toBe("SERVICE_UNAVAILABLE");
    const retried = await new IdempotentExecution(call, settings).withLease(async (step) => {
      seen.push(step.recoveryPoint);
      return { paid: true };
    });
    expect(seen).toEqual(["started", "payment_created"]);
    expect(retried.idempotency.replayed).toBe(false);
  });

  it("forgets a key whose work failed transiently before recording any step: a corrected retry may reuse it", async () => {
    const call = newCall();
    const failing = new IdempotentExecution(call, settings).withLease(async () => {
      throw appError("SERVICE_UNAVAILABLE", "The database blinked.");
    });
    expect((await codeOf(failing)).code).toBe("SERVICE_UNAVAILABLE");
    expect(await store.read(call)).toBeNull();
    const corrected = { ...call, fingerprint: "f".repeat(64) };
    const retried = await new IdempotentExecution(corrected, settings).withLease(async () => ({ ok: true }));
    expect(retried).toMatchObject({ ok: true, idempotency: { replayed: false } });
  });

  it("rolls back the claim with the business write when in-transaction work fails transiently", async () => {
    const call = newCall();
    const error = await codeOf(
      new IdempotentExecution(call, settings).inTransaction(transact, async () => {
        throw appError("SERVICE_UNAVAILABLE", "blip");
      }),
    );
    expect(error.code).toBe("SERVICE_UNAVAILABLE");
    expect(await store.read(call)).toBeNull();
  });

  it("fails closed with SERVICE_UNAVAILABLE when the store is unreachable, running nothing", async () => {
    const deadStore = new MysqlIdempotencyStore(unreachable.db);
    const work = vi.fn(async () => ({ ok: true }));
    const dead = { ...settings, store: deadStore };
    for (const attempt of [
      () => new IdempotentExecution(newCall(), dead).withLease(work),
      () =>
        new IdempotentExecution(newCall(), dead).inTransaction(
          (fn) => unreachable.db.transaction((tx: Transaction) => fn(tx)),
          work,
        ),
    ]) {
      const error = await codeOf(attempt());
      expect(error.code).toBe("SERVICE_UNAVAILABLE");
      expect(error.message).toMatch(/nothing was done/);
    }
    expect(work).not.toHaveBeenCalled();
  });
});
