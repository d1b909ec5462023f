/**
 * The Redis store on a six-node Redis Cluster: its whole specification, and a primary's failover during claims.
 * Redis answers a write before its replica has it, so a replica that takes over can lack a claim its client was
 * told it holds, and a duplicate claim then succeeds. With the store confirming every write by a replica (WAIT),
 * no acknowledged claim is lost; the store without it, in the same failover, is the control that loses some.
 */
import { randomUUID } from "node:crypto";
import { Redis } from "ioredis";
import { afterAll, describe, expect, inject, it } from "vitest";
import { openRedisCluster } from "@/server/redis";
import {
  nodeTimeoutMs,
  signalRedisNode,
  startRedisCluster,
  startRedisNode,
  testRedisCluster,
} from "@/testing/redis-cluster";
import { RedisIdempotencyStore } from "./redis-store";
import { StoreUnavailableError } from "./store";
import { claimRequest, describeStoreConformance, transactOnBusinessDatabase } from "./store-conformance";

const nodes = inject("redisClusterNodes");
const cluster = openRedisCluster(nodes);
afterAll(() => cluster.quit());

describeStoreConformance(
  "Redis Cluster",
  async (clock) => new RedisIdempotencyStore(cluster, transactOnBusinessDatabase, () => clock.now().getTime(), 1),
);

const harness = testRedisCluster;

async function ask(port: number, ...command: [string, ...string[]]): Promise<unknown> {
  const redis = new Redis({ port, host: "127.0.0.1", maxRetriesPerRequest: 0 });
  try {
    return await redis.call(...command);
  } finally {
    redis.disconnect();
  }
}

/** The primary and the replica serving a slot, by port. */
async function shardOf(slot: number): Promise<{ primary: number; replica: number }> {
  const slots = (await ask(harness.firstPort, "CLUSTER", "SLOTS")) as [number, number, ...[string, number][]][];
  const shard = slots.find(([first, last]) => first <= slot && slot <= last);
  const [, , primary, replica] = shard ?? [];
  if (!primary || !replica) throw new Error(`No primary with a replica serves slot ${slot}`);
  return { primary: primary[1], replica: replica[1] };
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** One here; `REDIS_FAILOVER_ROUNDS=5` for more (each fails a primary over and brings it back). */
const failoverRounds = Number(process.env.REDIS_FAILOVER_ROUNDS ?? 1);

describe("a primary's failover during claims", () => {
  it("loses no claim the store acknowledged; without replica confirmation, acknowledged claims vanish", async () => {
    for (let round = 1; round <= failoverRounds; round += 1) {
      await failOverDuringClaims(round);
      // The killed primary is back as a replica before the next round.
      await startRedisCluster(harness);
    }
  });
});

async function failOverDuringClaims(round: number) {
  // Every key of this test in one slot (the hash tag in the scope), so one primary and one replica hold them.
  const scope = `{failover-${randomUUID().slice(0, 8)}}`;
  const slot = Number(await ask(harness.firstPort, "CLUSTER", "KEYSLOT", scope));
  const { primary, replica } = await shardOf(slot);
  const confirmed = new RedisIdempotencyStore(cluster, transactOnBusinessDatabase, Date.now, 1);
  // Its own connection: a WAIT holds up the commands behind it on its connection until it returns.
  const unconfirmedConnection = openRedisCluster(nodes);
  const unconfirmed = new RedisIdempotencyStore(unconfirmedConnection, transactOnBusinessDatabase, Date.now, 0);

  const claimAll = async (store: RedisIdempotencyStore<unknown>, count: number) => {
    const acknowledged: ReturnType<typeof claimRequest>[] = [];
    let refused = 0;
    await Promise.all(
      Array.from({ length: count }, async () => {
        const request = claimRequest({ scope });
        try {
          if ((await store.claim(request)).outcome === "claimed") acknowledged.push(request);
        } catch (error) {
          if (!(error instanceof StoreUnavailableError)) throw error;
          refused += 1;
        }
      }),
    );
    return { acknowledged, refused };
  };

  // Before the replica stalls, confirmed claims are acknowledged as usual.
  const before = await claimAll(confirmed, 10);
  expect(before.acknowledged).toHaveLength(10);

  // The replica's link drops and the replica stalls before it can connect again; then the primary dies and the
  // replica takes over. (A stall alone would not do: what the primary sent waits in the replica's socket.)
  signalRedisNode(harness, replica, "SIGSTOP");
  await ask(primary, "CLIENT", "KILL", "TYPE", "replica");
  const stalledConfirmed = await claimAll(confirmed, 10);
  const stalledUnconfirmed = await claimAll(unconfirmed, 10);
  signalRedisNode(harness, primary, "SIGKILL");
  signalRedisNode(harness, replica, "SIGCONT");
  const deadline = Date.now() + 30_000;
  while (Date.now() < deadline) {
    const role = (await ask(replica, "ROLE").catch(() => [])) as string[];
    const info = String(await ask(replica, "CLUSTER", "INFO").catch(() => ""));
    if (role[0] === "master" && info.includes("cluster_state:ok")) break;
    await sleep(200);
  }
  await sleep(nodeTimeoutMs);

  const after = openRedisCluster(nodes);
  try {
    const check = new RedisIdempotencyStore(after, transactOnBusinessDatabase, Date.now, 1);
    const lost = async (requests: ReturnType<typeof claimRequest>[]) =>
      (await Promise.all(requests.map((request) => check.read(request)))).filter((record) => record === null).length;
    expect(stalledConfirmed.refused, "confirmed claims refused while no replica could confirm them").toBe(10);
    expect(stalledUnconfirmed.acknowledged, "unconfirmed claims acknowledged by the stalled primary").toHaveLength(10);
    expect(await lost(before.acknowledged), "confirmed claims lost in the failover").toBe(0);
    expect(await lost(stalledConfirmed.acknowledged)).toBe(0);
    const lostUnconfirmed = await lost(stalledUnconfirmed.acknowledged);
    console.log(
      `Redis Cluster failover ${round}: 0 of ${before.acknowledged.length} confirmed claims lost, ` +
        `${stalledConfirmed.refused} refused while unconfirmable; ${lostUnconfirmed} of ` +
        `${stalledUnconfirmed.acknowledged.length} unconfirmed (acknowledged) claims lost`,
    );
    expect(lostUnconfirmed, "the control: claims acknowledged without a replica are lost").toBe(10);
    // A duplicate of a confirmed claim is still refused on the new primary.
    const duplicate = await check.claim(before.acknowledged[0] as ReturnType<typeof claimRequest>);
    expect(duplicate.outcome).toBe("existing");
  } finally {
    after.disconnect();
    unconfirmedConnection.disconnect();
    await startRedisNode(harness, primary);
  }
}
