/**
 * The MySQL store on a three-node Galera cluster: its whole specification with the store on node 2, and racing
 * duplicates with a racer on every node. On Galera a loser on another node never waits for the winner's row lock:
 * its transaction fails certification (1213) and runs again (db/transactions.ts), then meets the winner's key.
 * Each trial checks that exactly one racer ran, that every other replayed the same answer, that exactly one
 * business row was committed (no duplicate), and that it is the one the winner reported (no false commit).
 */
import { randomUUID } from "node:crypto";
import { inArray } from "drizzle-orm";
import { afterAll, describe, expect, inject, it } from "vitest";
import { type Executor, openDatabase } from "@/db/client";
import { customers } from "@/db/schema";
import { MysqlIdempotencyStore } from "./mysql-store";
import type { IdempotencyStore } from "./store";
import { claimRequest, describeStoreConformance } from "./store-conformance";

const urls = inject("galeraUrls");
// As the app opens them (server/db.ts): a pool for statements, and one for the store's transactions.
const nodes = urls.map((url) => ({
  db: openDatabase(url, { poolSize: 8 }),
  transactions: openDatabase(url, { poolSize: 8, multipleStatements: true }),
}));
const stores = nodes.map((node) => new MysqlIdempotencyStore(node.db.db, undefined, node.transactions.db));
afterAll(() => Promise.all(nodes.flatMap((node) => [node.db.close(), node.transactions.close()])));

describeStoreConformance("MySQL on Galera (node 2)", async (clock) => {
  const node = nodes[1] as (typeof nodes)[number];
  return new MysqlIdempotencyStore(node.db.db, clock.now, node.transactions.db);
});

/** Hundreds here; `GALERA_RACE_TRIALS=5000` for a longer run (docs/scale-out.md). */
const trials = Number(process.env.GALERA_RACE_TRIALS ?? 300);
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

interface Answer {
  ran: boolean;
  body: string;
}

/**
 * One racer, as the layer would drive it: run under the key, or take the stored answer; a key still being written
 * elsewhere (busy, or in progress) is asked again shortly. Every business row it tries to write is noted, so the
 * test can count what was committed whatever the racer was told.
 */
async function racer(store: IdempotencyStore<Executor>, request: ReturnType<typeof claimRequest>, tried: string[]) {
  for (let ask = 0; ask < 200; ask += 1) {
    const result = await store.runClaimed(request, async (business) => {
      const id = randomUUID();
      tried.push(id);
      await business.insert(customers).values({ id });
      return JSON.stringify({ id });
    });
    if (result.outcome === "ran") return { ran: true, body: result.body } satisfies Answer;
    const outcome = result.outcome === "existing" ? result.record.outcome : null;
    if (outcome?.kind === "success") return { ran: false, body: outcome.body } satisfies Answer;
    await sleep(10);
  }
  throw new Error("A racer never got an answer");
}

describe("racing duplicates with a racer on every Galera node", () => {
  it(`run once and replay everywhere: ${trials} trials, no duplicate, no false commit`, async () => {
    const tally = { duplicates: 0, lost: 0, falseCommits: 0, notOneRun: 0, differentReplays: 0 };
    for (let trial = 0; trial < trials; trial += 1) {
      const request = claimRequest();
      const tried: string[] = [];
      const answers = await Promise.all(stores.map((store) => racer(store, request, tried)));
      const winners = answers.filter((answer) => answer.ran);
      const committed = await (nodes[0] as (typeof nodes)[number]).db.db
        .select({ id: customers.id })
        .from(customers)
        .where(inArray(customers.id, tried));
      if (winners.length !== 1) tally.notOneRun += 1;
      if (committed.length > 1) tally.duplicates += 1;
      if (committed.length === 0) tally.lost += 1;
      const reported = (JSON.parse(winners[0]?.body ?? "{}") as { id?: string }).id;
      if (committed.length === 1 && committed[0]?.id !== reported) tally.falseCommits += 1;
      if (new Set(answers.map((answer) => answer.body)).size !== 1) tally.differentReplays += 1;
    }
    console.log(`Galera races: ${trials} trials × ${stores.length} nodes:`, tally);
    expect(tally).toEqual({ duplicates: 0, lost: 0, falseCommits: 0, notOneRun: 0, differentReplays: 0 });
  });
});
