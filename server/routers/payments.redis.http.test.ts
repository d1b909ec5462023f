/** The payment scenarios that need no browser, with IDEMPOTENCY_STORE=redis on a private redis-server. */
import { afterAll, beforeAll } from "vitest";
import { describePayments } from "@/testing/conformance/payments";
import { type RedisServer, startRedisServer } from "@/testing/redis-server";

let redisServer: RedisServer;
beforeAll(async () => {
  redisServer = await startRedisServer(6393);
});
afterAll(() => redisServer?.stop());

describePayments("Redis", {
  storeEnv: () => ({ IDEMPOTENCY_STORE: "redis", REDIS_URL: redisServer.url }),
  ports: [3410, 3411, 3412, 3413],
});
