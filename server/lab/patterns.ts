/**
 * Scenario 9's patterns side by side, each run once by an unprotected twin and once by the shop's own code:
 * - a versioned update against a blind one (the lost update);
 * - INSERT … ON DUPLICATE KEY UPDATE for a link against a plain insert;
 * - the Redis store's claim, whose lease runs out when its holder dies, against a claim without one;
 * - the Redis store when Redis is down (fail closed) against no store at all.
 * The twins write the lab's tables. The catalog is the merchant's, so the shop's catalog code runs on the real
 * tables inside a transaction that is always rolled back: a trainee sees its constraints hold and changes nothing.
 */
import { randomUUID } from "node:crypto";
import { TRPCError } from "@trpc/server";
import { and, count, eq } from "drizzle-orm";
import type { Database, Executor } from "@/db/client";
import { labLinks, labProducts, productCategories } from "@/db/schema";
import { type RedisConnection, RedisIdempotencyStore } from "../idempotency/redis-store";
import { type IdempotencyStore, StoreUnavailableError } from "../idempotency/store";
import { confirmingReplicasOf, openRedis } from "../redis";
import { linkCategory, listCategories, listProducts, renameProduct, unlinkCategory } from "../services/catalog";
import { countLabOrders, placeOrderUnprotected } from "./twin";

export interface PatternSide {
  /** The figure a trainee checks. */
  figure: string;
  /** What happened, in a sentence. */
  story: string;
}

export interface PatternComparison {
  pattern: "versioned-update" | "upsert-link" | "redis-lease" | "redis-down";
  title: string;
  /** What the figure counts. */
  measure: string;
  unprotected: PatternSide;
  protected: PatternSide;
}

/** The product the catalog patterns edit (the seed's first). */
const productId = 1;
/** How long the lease pattern's claim lasts: short, so its takeover shows within a click. */
export const labLeaseMs = 1000;

class Rehearsal extends Error {}

/** Runs the shop's code on the real tables, keeps what it saw, and rolls every write back. */
async function rehearse<T>(db: Database, work: (tx: Executor) => Promise<T>) {
  let seen: T | undefined;
  await db
    .transaction(async (tx) => {
      seen = await work(tx);
      throw new Rehearsal();
    })
    .catch((error: unknown) => {
      if (!(error instanceof Rehearsal)) throw error;
    });
  return seen as T;
}

const edits = (name: string) => ({ first: `${name} (first editor)`, second: `${name} (second editor)` });

/** Two editors open the product at the same version; each saves a new name, the first one first. */
async function versionedUpdate(db: Database, labSession: string, run: string): Promise<PatternComparison> {
  const [product] = await listProducts(db, [productId]);
  if (!product) throw new Error(`The lab needs product ${productId}; run npm run db:setup.`);
  const names = edits(product.name);

  // The twin: UPDATE … SET name = ? with no version; both editors are told it saved.
  const [created] = await db.insert(labProducts).values({ labSession, run, name: product.name }).$returningId();
  const twinRow = eq(labProducts.id, (created as { id: number }).id);
  await db.update(labProducts).set({ name: names.first }).where(twinRow);
  await db.update(labProducts).set({ name: names.second }).where(twinRow);
  const [twin] = await db.select({ name: labProducts.name }).from(labProducts).where(twinRow);

  const shop = await rehearse(db, async (tx) => {
    const rename = (name: string) => renameProduct(tx, { productId, name, expectedVersion: product.version });
    await rename(names.first);
    const second = await rename(names.second).catch((error: unknown) => error);
    const [after] = await listProducts(tx, [productId]);
    return { secondRefused: second instanceof TRPCError && second.code === "CONFLICT", finalName: after?.name };
  });
  return {
    pattern: "versioned-update",
    title: "A versioned update against a blind update",
    measure: "the product's final name",
    unprotected: {
      figure: twin?.name ?? "",
      story: "Both editors were told it saved; the first editor's name is gone and nobody knows (a lost update).",
    },
    protected: {
      figure: shop.finalName ?? "",
      story: shop.secondRefused
        ? "The second save matched no row at the version it read: 409, shown the first editor's name to keep or replace."
        : "The second save was not refused.",
    },
  };
}

/** A link is written, its answer lost, and written again by the retry. */
async function upsertLink(db: Database, labSession: string, run: string): Promise<PatternComparison> {
  const [category] = await listCategories(db);
  if (!category) throw new Error("The lab needs a category; run npm run db:setup.");
  const link = { productId, categoryId: category.id };

  for (let send = 0; send < 2; send += 1) await db.insert(labLinks).values({ labSession, run, ...link });
  const [twin] = await db
    .select({ rows: count() })
    .from(labLinks)
    .where(and(eq(labLinks.labSession, labSession), eq(labLinks.run, run)));

  const shopRows = await rehearse(db, async (tx) => {
    await unlinkCategory(tx, link);
    for (let send = 0; send < 2; send += 1) await linkCategory(tx, link);
    const [linked] = await tx
      .select({ rows: count() })
      .from(productCategories)
      .where(and(eq(productCategories.productId, link.productId), eq(productCategories.categoryId, link.categoryId)));
    return linked?.rows ?? 0;
  });
  return {
    pattern: "upsert-link",
    title: "INSERT … ON DUPLICATE KEY UPDATE for a link against a plain INSERT",
    measure: "link rows after a retry",
    unprotected: { figure: String(twin?.rows ?? 0), story: "The plain INSERT added the link again." },
    protected: {
      figure: String(shopRows),
      story: "The link's primary key is the pair; the retry's upsert only refreshed its update time.",
    },
  };
}

const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** A claim's holder dies (it never completes); its client retries at once and again after the lease. */
async function redisLease(store: IdempotencyStore<Executor>, redis: RedisConnection, labSession: string, run: string) {
  const ref = { scope: `lab-${labSession}`, key: run };
  const request = { ...ref, procedurePath: "lab.patterns", fingerprint: run, leaseMs: labLeaseMs, retentionMs: 60_000 };

  // The twin: SET NX with no expiry. Nothing ever frees a key whose holder died.
  const twinKey = `lab:no-lease:${labSession}:${run}`;
  const twinClaims = async () => (await redis.set(twinKey, "holder", "NX")) === "OK";
  const shopClaim = async () => (await store.claim(request)).outcome === "claimed";

  // The store's claim first: it waits for the connection, which a process using the MySQL store has not opened.
  const shopHolder = await shopClaim();
  const twinHolder = await twinClaims();
  const [twinAtOnce, shopAtOnce] = await Promise.all([twinClaims(), shopClaim()]);
  await pause(labLeaseMs + 200);
  const [twinLater, taken] = await Promise.all([twinClaims(), store.claim(request)]);
  if (taken.outcome === "claimed") await store.complete(taken.lease, { kind: "success", body: "{}" });
  await redis.del(twinKey);
  const completed = (done: boolean) => (done ? "1" : "0");
  return {
    pattern: "redis-lease" as const,
    title: "A Redis claim with a lease that expires, against one without",
    measure: "requests completed after the holder died",
    unprotected: {
      figure: completed(twinLater),
      story:
        twinHolder && !twinAtOnce && !twinLater
          ? `SET NX without PX: the dead holder keeps the key; the retry is refused at once and still ${labLeaseMs + 200} ms later, forever.`
          : "The claim without a lease behaved unexpectedly.",
    },
    protected: {
      figure: completed(taken.outcome === "claimed"),
      story:
        shopHolder && !shopAtOnce && taken.outcome === "claimed"
          ? `The claim carries a ${labLeaseMs} ms lease: the retry is told to wait while it runs, then takes the key over and resumes from its recovery point.`
          : "The claim with a lease behaved unexpectedly.",
    },
  };
}

/** Redis is down (nothing listens where this store looks) when a request and its retry arrive. */
async function redisDown(db: Database, labSession: string, runs: { twin: string; shop: string }) {
  const placeOne = (run: string) => placeOrderUnprotected(db, labSession, run, { items: [{ productId, quantity: 1 }] });
  // The twin needs no store, so nothing stops it: the request and its retry each place an order.
  for (let send = 0; send < 2; send += 1) await placeOne(runs.twin);

  const unreachable = openRedis("redis://127.0.0.1:1", { reportOutages: false });
  let refusals = 0;
  try {
    const store = new RedisIdempotencyStore<null>(unreachable, (work) => work(null));
    const request = {
      scope: `lab-${labSession}`,
      key: runs.shop,
      procedurePath: "lab.patterns",
      fingerprint: runs.shop,
      leaseMs: labLeaseMs,
      retentionMs: 60_000,
    };
    for (let send = 0; send < 2; send += 1) {
      await store
        .runClaimed(request, async () => JSON.stringify(await placeOne(runs.shop)))
        .catch((error: unknown) => {
          if (!(error instanceof StoreUnavailableError)) throw error;
          refusals += 1;
        });
    }
  } finally {
    unreachable.disconnect();
  }
  const placed = (run: string) => countLabOrders(db, labSession, run).then(String);
  return {
    pattern: "redis-down" as const,
    title: "Redis unavailable: the store fails closed, against no store at all",
    measure: "orders placed by a request and its retry",
    unprotected: {
      figure: await placed(runs.twin),
      story: "Without a claim nothing tells the retry from a new request.",
    },
    protected: {
      figure: await placed(runs.shop),
      story: `No claim, no work: ${refusals} answers of 503 "retry later"; the retry runs once Redis is back.`,
    },
  };
}

/** Every pattern, both ways. */
export async function comparePatterns(db: Database, redis: RedisConnection, labSession: string, run: string) {
  const transact = <R>(work: (business: Executor) => Promise<R>) => db.transaction((tx) => work(tx));
  const store = new RedisIdempotencyStore<Executor>(redis, transact, undefined, confirmingReplicasOf(redis));
  return Promise.all([
    versionedUpdate(db, labSession, run),
    upsertLink(db, labSession, run),
    redisLease(store, redis, labSession, randomUUID()),
    redisDown(db, labSession, { twin: run, shop: randomUUID() }),
  ]);
}
