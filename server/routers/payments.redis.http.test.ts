/** The payment scenarios that need no browser, with IDEMPOTENCY_STORE=redis on a private redis-server. */
import { Redis } from "ioredis";
import { afterAll, beforeAll } from "vitest";
import { describePayments } from "@/testing/conformance/payments";
import { type RedisServer, startRedisServer } from "@/testing/redis-server";
import { redisKey } from "../idempotency";

let redisServer: RedisServer;
let redis: Redis;
beforeAll(async () => {
  redisServer = await startRedisServer(6393);
  redis = new Redis(redisServer.url);
});
afterAll(async () => {
  redis?.disconnect();
  await redisServer?.stop();
});

describePayments("Redis", {
  storeEnv: () => ({ IDEMPOTENCY_STORE: "redis", REDIS_URL: redisServer.url }),
  ports: [3410, 3411, 3412, 3413],
  storedRecord: (scope, key) => redis.get(redisKey({ scope, key })),
});
