import { randomUUID } from "node:crypto";
import { once } from "node:events";
import { IdempotentExecution } from "@/server/idempotency/execute";
import { requestFingerprint } from "@/server/idempotency/fingerprint";
import { RedisIdempotencyStore } from "@/server/idempotency/redis-store";
import { openRedis } from "@/server/redis";
const redis = openRedis("redis://127.0.0.1:6379"); await once(redis, "ready");
const settings = { store: new RedisIdempotencyStore(redis), waitMs: 2000, leaseMs: 30000, retentionMs: 600000 };
const run = randomUUID();
async function work(input: { orderId: number }) { return { order: { id: input.orderId, status: "awaiting_payment", totalCents: 1999, currency: "EUR" } }; }
const call = (i: number, r: string) => { const input = { orderId: i }; return new IdempotentExecution({ scope: run, key: `${r}-${i}`, procedurePath: "bench.work", fingerprint: requestFingerprint("bench.work", input) }, settings).withLease(() => work(input)); };
async function measure(n: number, op: (i: number) => Promise<unknown>) { let next = 0; const t = performance.now(); await Promise.all(Array.from({ length: 16 }, async () => { for (let i = next++; i < n; i = next++) await op(i); })); return n / ((performance.now() - t) / 1000); }
for (const r of ["w", "a", "b", "c"]) { const f = await measure(20000, (i) => call(i, r)); const p = await measure(20000, (i) => call(i, r)); console.log(r, f.toFixed(0), p.toFixed(0)); }
redis.disconnect();
