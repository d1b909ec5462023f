/**
 * `npm run bench:store`: the idempotent wrapper around one cheap async function, timed in one process against one
 * Redis (REDIS_URL, default the local one):
 *
 * - ours: the Redis store through the real protocol (execute.ts `withLease`, fingerprinting included);
 * - peer: Powertools' `makeIdempotent` with its `CachePersistenceLayer` on `@redis/client`;
 * - floor: the bare round trips an idempotent call cannot avoid, two for a first execution (take the key, store
 *   the result) and one for a replay (fetch the result), on each of the two clients.
 *
 * Each phase runs BENCH_OPERATIONS calls (default 20000) from 16 concurrent callers, after a warm-up round; the
 * figures are medians of BENCH_ROUNDS rounds (default 7), the contenders taking turns within each. First
 * executions use fresh keys; replays repeat the same keys. Every round builds its contenders afresh and each
 * phase starts after a full garbage collection (the script runs with --expose-gc), so no contender pays for what
 * another left in the heap (the in-process caches hold tens of thousands of records).
 */
import { randomUUID } from "node:crypto";
import { once } from "node:events";
import { IdempotencyConfig, makeIdempotent } from "@aws-lambda-powertools/idempotency";
import { CachePersistenceLayer } from "@aws-lambda-powertools/idempotency/cache";
import { createClient } from "@redis/client";
import type { Redis } from "ioredis";
import { appErrorPolicy } from "@/server/errors";
import {
  CompletedRecordCache,
  type IdempotencySettings,
  IdempotentExecution,
  RedisIdempotencyStore,
  redisKey,
  requestFingerprint,
} from "@/server/idempotency";
import { openRedis } from "@/server/redis";

const redisUrl = process.env.REDIS_URL ?? "redis://127.0.0.1:6379";
const operations = Number(process.env.BENCH_OPERATIONS ?? 20_000);
const concurrency = 16;
const rounds = Number(process.env.BENCH_ROUNDS ?? 7);
const warmUpOperations = 2000;
const leaseMs = 30_000;
const retentionMs = 600_000;
const run = randomUUID();

interface Input {
  orderId: number;
}

let workCalls = 0;
/** The function made idempotent: cheap, so the figures measure the wrapper. */
async function work(input: Input) {
  workCalls += 1;
  return { order: { id: input.orderId, status: "awaiting_payment", totalCents: 1999, currency: "EUR" } };
}

type Operation = (index: number, round: string) => Promise<unknown>;
type Phase = "first" | "replay";
interface Contender {
  name: string;
  first: Operation;
  replay: Operation;
  /** Wrappers are checked to run the function once per key; floors run no function. */
  wraps: boolean;
}

const noBusinessTransaction = <R>(): Promise<R> =>
  Promise.reject(new Error("bench:store opens no business transaction"));

function oursOn(redis: Redis, withLocalCache = false): Contender {
  const settings: IdempotencySettings = {
    // The contenders run leased work only; nothing here opens a business transaction.
    store: new RedisIdempotencyStore(redis, noBusinessTransaction),
    ...(withLocalCache ? { completed: new CompletedRecordCache(operations) } : {}),
    waitMs: 2000,
    leaseMs,
    retentionMs,
    errors: appErrorPolicy,
  };
  const call = (index: number, round: string) => {
    const input = { orderId: index };
    const procedurePath = "bench.work";
    const execution = new IdempotentExecution(
      {
        scope: run,
        key: `${withLocalCache ? "cached-" : ""}${round}-${index}`,
        procedurePath,
        fingerprint: requestFingerprint(procedurePath, input),
      },
      settings,
    );
    return execution.withLease(() => work(input));
  };
  const name = withLocalCache
    ? "ours + in-process replay cache (as the app runs)"
    : "ours: RedisIdempotencyStore via execute.ts";
  return { name, first: call, replay: call, wraps: true };
}

const createRedisClient = () => createClient({ url: redisUrl });
type RedisClient = ReturnType<typeof createRedisClient>;

function peerOn(client: RedisClient, withLocalCache = false): Contender {
  const idempotent = makeIdempotent(async (payload: Input & { key: string }) => work(payload), {
    persistenceStore: new CachePersistenceLayer({ client }),
    config: new IdempotencyConfig({
      expiresAfterSeconds: retentionMs / 1000,
      // The caller's key, as ours takes it. (Its payload validation is left off: the cache layer drops the
      // payload hash when it stores the result, so every replay would fail validation.)
      eventKeyJmesPath: "key",
      // Outside Lambda the remaining time comes from here (else it logs a warning on every call); it bounds an
      // in-progress record, as our lease does.
      lambdaContext: { getRemainingTimeInMillis: () => leaseMs },
      ...(withLocalCache ? { useLocalCache: true, maxLocalCacheSize: operations } : {}),
    }),
    keyPrefix: `bench-peer-${run}${withLocalCache ? "-cached" : ""}`,
  });
  const call = (index: number, round: string) => idempotent({ key: `${round}-${index}`, orderId: index });
  const name = withLocalCache
    ? "peer + its local cache (useLocalCache)"
    : "peer: Powertools makeIdempotent + CachePersistenceLayer";
  return { name, first: call, replay: call, wraps: true };
}

const result = JSON.stringify({ kind: "success", body: '{"order":{"id":1,"totalCents":1999,"currency":"EUR"}}' });

function floorOnIoredis(redis: Redis): Contender {
  const key = (index: number, round: string) => `bench-floor-${run}:io:${round}-${index}`;
  return {
    name: "floor: ioredis as ours uses it, SET NX PX + SET | GET",
    first: async (index, round) => {
      await redis.set(key(index, round), "in_progress", "PX", leaseMs, "NX");
      await redis.set(key(index, round), result, "PX", retentionMs);
    },
    replay: (index, round) => redis.get(key(index, round)),
    wraps: false,
  };
}

function floorOnRedisClient(client: RedisClient): Contender {
  const key = (index: number, round: string) => `bench-floor-${run}:rc:${round}-${index}`;
  return {
    name: "floor: @redis/client as the peer uses it, same",
    first: async (index, round) => {
      await client.set(key(index, round), "in_progress", { PX: leaseMs, NX: true });
      await client.set(key(index, round), result, { PX: retentionMs });
    },
    replay: (index, round) => client.get(key(index, round)),
    wraps: false,
  };
}

const collectGarbage: () => void =
  (globalThis as { gc?: () => void }).gc ??
  (() => {
    throw new Error("Run with --expose-gc (npm run bench:store does)");
  });

/** Calls per second for `count` calls from `concurrency` callers. */
async function measure(count: number, operation: (index: number) => Promise<unknown>): Promise<number> {
  collectGarbage();
  let next = 0;
  const started = performance.now();
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      for (let index = next++; index < count; index = next++) await operation(index);
    }),
  );
  return count / ((performance.now() - started) / 1000);
}

/** Runs both phases of a contender and checks the wrapper ran the function exactly once per key. */
async function phases(contender: Contender, count: number, round: string) {
  const callsBefore = workCalls;
  const first = await measure(count, (index) => contender.first(index, round));
  const firstCalls = workCalls - callsBefore;
  const replay = await measure(count, (index) => contender.replay(index, round));
  const replayCalls = workCalls - callsBefore - firstCalls;
  if (contender.wraps && (firstCalls !== count || replayCalls !== 0)) {
    throw new Error(`${contender.name}: ${firstCalls} calls for ${count} first executions, ${replayCalls} on replay`);
  }
  return { first, replay };
}

const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)] as number;

async function deleteKeys(redis: Redis, pattern: string) {
  let cursor = "0";
  do {
    const [next, keys] = await redis.scan(cursor, "MATCH", pattern, "COUNT", 1000);
    if (keys.length > 0) await redis.unlink(...keys);
    cursor = next;
  } while (cursor !== "0");
}

async function main() {
  const ioredis = openRedis(redisUrl);
  const redisClient = createRedisClient();
  redisClient.on("error", (error: Error) => console.error(`@redis/client: ${error.message}`));
  await Promise.all([redisClient.connect(), once(ioredis, "ready")]);
  const buildContenders = (): [Contender, Contender, Contender, Contender, Contender, Contender] => [
    floorOnIoredis(ioredis),
    floorOnRedisClient(redisClient),
    oursOn(ioredis),
    peerOn(redisClient),
    oursOn(ioredis, true),
    peerOn(redisClient, true),
  ];
  const contenders = buildContenders();
  const [floor, , ours, peer, oursCached, peerCached] = contenders;

  try {
    for (const contender of contenders) await phases(contender, warmUpOperations, "warm-up");
    const figures = new Map(
      contenders.map((contender) => [contender.name, { first: [] as number[], replay: [] as number[] }]),
    );
    for (let round = 0; round < rounds; round += 1) {
      // Each round starts with another contender, so none always runs right after the same neighbour.
      const fresh = buildContenders();
      const order = [...fresh.slice(round % fresh.length), ...fresh.slice(0, round % fresh.length)];
      for (const contender of order) {
        const { first, replay } = await phases(contender, operations, `round-${round}`);
        figures.get(contender.name)?.first.push(first);
        figures.get(contender.name)?.replay.push(replay);
      }
    }
    const samples = (contender: Contender, phase: Phase) => figures.get(contender.name)?.[phase] ?? [];
    const rate = (contender: Contender, phase: Phase) => median(samples(contender, phase));
    const roundRatios = (a: Contender, b: Contender, phase: Phase) =>
      samples(a, phase).map((value, round) => value / (samples(b, phase)[round] as number));
    /** The median of the rounds' own ratios: both sides of each ratio ran seconds apart, in the same spell. */
    const ratio = (a: Contender, b: Contender, phase: Phase) => median(roundRatios(a, b, phase));
    const verdict = (value: number, goal: number) =>
      `${value.toFixed(2)}× (goal ≥ ${goal}×: ${value >= goal ? "met" : "MISSED"})`;

    console.log(
      `bench:store: Redis at ${new URL(redisUrl).host}, ${concurrency} concurrent callers, ${operations} calls per ` +
        `phase, median of ${rounds} rounds after a warm-up (ratios: median of each round's ratio)`,
    );
    console.log(`${"".padEnd(56)}${"first executions/s".padStart(20)}${"replays/s".padStart(12)}`);
    for (const contender of contenders) {
      const first = Math.round(rate(contender, "first")).toLocaleString("en-US");
      const replay = Math.round(rate(contender, "replay")).toLocaleString("en-US");
      console.log(`${contender.name.padEnd(56)}${first.padStart(20)}${replay.padStart(12)}`);
    }
    console.log(
      `ours / peer:  first ${verdict(ratio(ours, peer, "first"), 1.4)}, replay ${verdict(ratio(ours, peer, "replay"), 3)}`,
    );
    console.log(
      `with both in-process caches, ours / peer: first ${ratio(oursCached, peerCached, "first").toFixed(2)}×, ` +
        `replay ${ratio(oursCached, peerCached, "replay").toFixed(2)}×`,
    );
    console.log(
      `ours / floor: first ${ratio(ours, floor, "first").toFixed(2)}×, replay ${ratio(ours, floor, "replay").toFixed(2)}×` +
        " (round trips per call, first | replay: ours 2 | 1, floor 2 | 1, peer 2 | 2)",
    );
    console.log(
      `peer / floor: first ${ratio(peer, floor, "first").toFixed(2)}×, replay ${ratio(peer, floor, "replay").toFixed(2)}×`,
    );
    const perRound = (phase: Phase) =>
      roundRatios(ours, peer, phase)
        .map((value) => value.toFixed(2))
        .join(" ");
    console.log(`ours / peer in each round: first ${perRound("first")}; replay ${perRound("replay")}`);
    console.log("checked: ours and peer ran the function once per key on first executions and never on replays");
  } finally {
    await Promise.all([
      deleteKeys(ioredis, redisKey({ scope: run, key: "*" })),
      deleteKeys(ioredis, `bench-peer-${run}*`),
      deleteKeys(ioredis, `bench-floor-${run}:*`),
    ]);
    ioredis.disconnect();
    await redisClient.quit();
  }
}

await main();
