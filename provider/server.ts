/**
 * A simulated payment provider, run as its own HTTP service with its own database, behaving like the best public
 * payment APIs: every charge and refund is deduplicated by the Idempotency-Key header it receives, can be looked
 * up by that key, and a key can be cancelled (voided) before it was used, after which no request with it can
 * succeed: the merchant's fence before it records "not charged" (as a cancelled payment intent is elsewhere).
 * The test cards of cards.ts decide each charge's fate.
 */
import { createHash, randomBytes, timingSafeEqual } from "node:crypto";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import { asc, eq, gt, sql } from "drizzle-orm";
import type { MySql2Database } from "drizzle-orm/mysql2";
import { z } from "zod";
import { testCardNumbers, testCards } from "./cards";
import type * as schema from "./schema";
import { charges, refunds } from "./schema";

export type ProviderDatabase = MySql2Database<typeof schema>;

/** Tests only: what can go wrong on purpose. */
export interface ProviderFaults {
  /** Delay before a charge, refund or cancellation is processed at all: a request that arrives late. */
  latencyMs: number;
  /** The share of charge, refund and cancellation requests answered 503 before anything is done. */
  failureRate: number;
}

export interface ProviderOptions {
  /** Every request but the health check must carry it as `Authorization: Bearer <key>`. */
  apiKey: string;
  faults?: Partial<ProviderFaults>;
  /** Tests only: `POST /test/faults` changes the faults while running (the chaos soak). */
  faultControl?: boolean;
}

const faultsInput = z.object({
  latencyMs: z.number().int().min(0).max(120_000),
  failureRate: z.number().min(0).max(1),
});

const pageInput = z.object({
  after: z.string().max(32).default(""),
  limit: z.coerce.number().int().min(1).max(1000).default(500),
});

const chargeRequest = z.object({
  amountCents: z.number().int().positive(),
  currency: z.string().length(3),
  cardNumber: z.enum(testCardNumbers),
  reference: z.string().min(1).max(128),
});

const refundRequest = z.object({
  chargeId: z.string().min(1).max(32),
  amountCents: z.number().int().positive(),
});

type Charge = typeof charges.$inferSelect;
type Refund = typeof refunds.$inferSelect;

function publicCharge(charge: Charge) {
  const { requestHash: _, ...rest } = charge;
  return { ...rest, createdAt: charge.createdAt.toISOString() };
}

function publicRefund(refund: Refund) {
  return { ...refund, createdAt: refund.createdAt.toISOString() };
}

const keyCanceled = (object: "charge" | "refund") => ({
  type: "idempotency_key_canceled",
  message: `This Idempotency-Key was cancelled before any ${object} was made with it; nothing was done.`,
});

function send(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}) {
  res.writeHead(status, { "content-type": "application/json", ...headers });
  res.end(JSON.stringify(body));
}

async function readJson(req: IncomingMessage): Promise<unknown> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return JSON.parse(Buffer.concat(chunks).toString("utf8") || "null");
}

const hashOf = (value: unknown) => createHash("sha256").update(JSON.stringify(value)).digest("hex");
const newId = (prefix: string) => `${prefix}_${randomBytes(12).toString("hex")}`;
const isDuplicate = (error: unknown) =>
  (error as { cause?: { code?: string } })?.cause?.code === "ER_DUP_ENTRY" ||
  (error as { code?: string })?.code === "ER_DUP_ENTRY";

/** Compares in constant time, so the key cannot be guessed a character at a time. */
function authorized(req: IncomingMessage, apiKey: string): boolean {
  const given = Buffer.from(req.headers.authorization ?? "");
  const expected = Buffer.from(`Bearer ${apiKey}`);
  return given.length === expected.length && timingSafeEqual(given, expected);
}

export function createProviderServer(db: ProviderDatabase, options: ProviderOptions): Server {
  const faults: ProviderFaults = { latencyMs: 0, failureRate: 0, ...options.faults };
  const chargeByKey = async (key: string) =>
    (await db.select().from(charges).where(eq(charges.idempotencyKey, key)).limit(1))[0];
  const refundByKey = async (key: string) =>
    (await db.select().from(refunds).where(eq(refunds.idempotencyKey, key)).limit(1))[0];

  /** Applies the injected faults before a charge, refund or cancellation: true when it answered 503 instead. */
  async function injectedFailure(res: ServerResponse): Promise<boolean> {
    if (faults.latencyMs > 0) await new Promise((resolve) => setTimeout(resolve, faults.latencyMs));
    if (faults.failureRate > 0 && Math.random() < faults.failureRate) {
      send(res, 503, { error: { type: "api_error", message: "Injected failure; nothing was done" } });
      return true;
    }
    return false;
  }

  /** A stored charge answers the same way every time: 201 for a success, 402 for a decline. */
  function answerCharge(res: ServerResponse, charge: Charge, replayed: boolean) {
    const headers: Record<string, string> = replayed ? { "idempotent-replayed": "true" } : {};
    if (charge.status === "canceled") return send(res, 409, { error: keyCanceled("charge") });
    if (charge.status === "declined") {
      send(
        res,
        402,
        { error: { type: "card_declined", declineCode: charge.declineCode, charge: publicCharge(charge) } },
        headers,
      );
    } else {
      send(res, replayed ? 200 : 201, publicCharge(charge), headers);
    }
  }

  async function createCharge(req: IncomingMessage, res: ServerResponse) {
    const key = req.headers["idempotency-key"];
    if (typeof key !== "string" || key.length === 0 || key.length > 255) {
      return send(res, 400, { error: { type: "invalid_request", message: "Idempotency-Key header is required" } });
    }
    const parsed = chargeRequest.safeParse(await readJson(req));
    if (!parsed.success) return send(res, 400, { error: { type: "invalid_request", message: parsed.error.message } });
    const { cardNumber, ...charge } = parsed.data;
    const requestHash = hashOf({ ...charge, cardLast4: cardNumber.slice(-4) });
    if (await injectedFailure(res)) return;

    const existing = await chargeByKey(key);
    if (existing) {
      if (existing.status === "canceled") return answerCharge(res, existing, true);
      if (existing.requestHash !== requestHash) {
        return send(res, 422, { error: { type: "idempotency_error", message: "Key reused with other parameters" } });
      }
      return answerCharge(res, existing, true);
    }

    const { behaviour } = testCards[cardNumber];
    if (behaviour === "fails-before-charging") {
      return send(res, 500, {
        error: { type: "api_error", message: "Temporary processing failure; nothing was charged" },
      });
    }
    const row = {
      id: newId("ch"),
      idempotencyKey: key,
      requestHash,
      ...charge,
      cardLast4: cardNumber.slice(-4),
      status: behaviour === "declined" ? ("declined" as const) : ("succeeded" as const),
      declineCode: behaviour === "declined" ? "generic_decline" : null,
    };
    try {
      await db.insert(charges).values(row);
    } catch (error) {
      if (!isDuplicate(error)) throw error;
      // A concurrent request with the same key won the race: answer with its charge.
      const winner = await chargeByKey(key);
      if (winner) return answerCharge(res, winner, true);
      throw error;
    }
    const stored = await chargeByKey(key);
    if (!stored) throw new Error("charge vanished after insert");
    if (behaviour === "charges-then-loses-response") {
      // The charge is made and recorded; the merchant never hears back.
      res.socket?.destroy();
      return;
    }
    answerCharge(res, stored, false);
  }

  function answerRefund(res: ServerResponse, refund: Refund, replayed: boolean) {
    if (refund.status === "canceled") return send(res, 409, { error: keyCanceled("refund") });
    send(res, replayed ? 200 : 201, publicRefund(refund), replayed ? { "idempotent-replayed": "true" } : {});
  }

  async function createRefund(req: IncomingMessage, res: ServerResponse) {
    const key = req.headers["idempotency-key"];
    if (typeof key !== "string" || key.length === 0 || key.length > 255) {
      return send(res, 400, { error: { type: "invalid_request", message: "Idempotency-Key header is required" } });
    }
    const parsed = refundRequest.safeParse(await readJson(req));
    if (!parsed.success) return send(res, 400, { error: { type: "invalid_request", message: parsed.error.message } });
    if (await injectedFailure(res)) return;
    const existing = await refundByKey(key);
    if (existing) return answerRefund(res, existing, true);

    const refund = { id: newId("re"), idempotencyKey: key, status: "succeeded" as const, ...parsed.data };
    let outcome: "no_charge" | "exceeds" | "refunded";
    try {
      outcome = await db.transaction(async (tx) => {
        const [charge] = await tx.select().from(charges).where(eq(charges.id, refund.chargeId)).for("update");
        if (charge?.status !== "succeeded" || charge.amountCents === null) return "no_charge" as const;
        if (charge.refundedCents + refund.amountCents > charge.amountCents) return "exceeds" as const;
        await tx
          .update(charges)
          .set({ refundedCents: sql`${charges.refundedCents} + ${refund.amountCents}` })
          .where(eq(charges.id, charge.id));
        await tx.insert(refunds).values(refund);
        return "refunded" as const;
      });
    } catch (error) {
      if (!isDuplicate(error)) throw error;
      // A concurrent request or a cancellation with the same key won the race: answer with what it left.
      const winner = await refundByKey(key);
      if (winner) return answerRefund(res, winner, true);
      throw error;
    }
    if (outcome === "no_charge")
      return send(res, 404, { error: { type: "invalid_request", message: "No such charge" } });
    if (outcome === "exceeds") {
      return send(res, 422, { error: { type: "invalid_request", message: "Refund exceeds the charge" } });
    }
    const stored = await refundByKey(key);
    if (!stored) throw new Error("refund vanished after insert");
    answerRefund(res, stored, false);
  }

  /**
   * Voids a key: the charge (or refund) made with it if there is one, otherwise a tombstone that wins the key's
   * unique index, so a request with this key still on its way can never succeed. Safe to repeat.
   */
  async function cancelKey(kind: "charge" | "refund", key: string, res: ServerResponse) {
    if (await injectedFailure(res)) return;
    const table = kind === "charge" ? charges : refunds;
    const tombstone = { id: newId(kind === "charge" ? "ch" : "re"), idempotencyKey: key, status: "canceled" as const };
    try {
      await db.insert(table).values(tombstone);
    } catch (error) {
      if (!isDuplicate(error)) throw error;
    }
    if (kind === "charge") {
      const charge = await chargeByKey(key);
      return charge ? send(res, 200, publicCharge(charge)) : send(res, 404, { error: { type: "not_found" } });
    }
    const refund = await refundByKey(key);
    return refund ? send(res, 200, publicRefund(refund)) : send(res, 404, { error: { type: "not_found" } });
  }

  /** One page of a ledger in id order, for reconciliation: `?after=<last id>&limit=`. */
  async function listPage(table: typeof charges | typeof refunds, url: URL) {
    const page = pageInput.parse(Object.fromEntries(url.searchParams));
    const rows = await db
      .select()
      .from(table)
      .where(gt(table.id, page.after))
      .orderBy(asc(table.id))
      .limit(page.limit + 1);
    return { rows: rows.slice(0, page.limit), hasMore: rows.length > page.limit };
  }

  return createServer(async (req, res) => {
    try {
      const url = new URL(req.url ?? "/", "http://provider.local");
      if (req.method === "GET" && url.pathname === "/health") return send(res, 200, { ok: true });
      if (!authorized(req, options.apiKey)) {
        return send(res, 401, {
          error: { type: "authentication_error", message: "Send your API key as a Bearer token." },
        });
      }
      if (req.method === "POST" && url.pathname === "/v1/charges") return await createCharge(req, res);
      if (req.method === "POST" && url.pathname === "/v1/refunds") return await createRefund(req, res);
      const byKey = url.pathname.match(/^\/v1\/(charges|refunds)\/by-key\/([^/]+)(\/cancel)?$/);
      if (byKey?.[1] && byKey[2]) {
        const kind = byKey[1] === "charges" ? "charge" : "refund";
        const key = decodeURIComponent(byKey[2]);
        if (req.method === "POST" && byKey[3]) return await cancelKey(kind, key, res);
        if (req.method === "GET" && !byKey[3]) {
          const found = kind === "charge" ? await chargeByKey(key) : await refundByKey(key);
          if (!found) return send(res, 404, { error: { type: "not_found" } });
          return send(res, 200, "requestHash" in found ? publicCharge(found) : publicRefund(found));
        }
      }
      if (req.method === "GET" && url.pathname === "/v1/charges") {
        const reference = url.searchParams.get("reference");
        if (reference) {
          const rows = await db.select().from(charges).where(eq(charges.reference, reference));
          return send(res, 200, { data: rows.map(publicCharge), hasMore: false });
        }
        const page = await listPage(charges, url);
        return send(res, 200, { data: (page.rows as Charge[]).map(publicCharge), hasMore: page.hasMore });
      }
      if (req.method === "GET" && url.pathname === "/v1/refunds") {
        const page = await listPage(refunds, url);
        return send(res, 200, { data: (page.rows as Refund[]).map(publicRefund), hasMore: page.hasMore });
      }
      if (options.faultControl && req.method === "POST" && url.pathname === "/test/faults") {
        const parsed = faultsInput.safeParse(await readJson(req));
        if (!parsed.success)
          return send(res, 400, { error: { type: "invalid_request", message: parsed.error.message } });
        Object.assign(faults, parsed.data);
        return send(res, 200, faults);
      }
      send(res, 404, { error: { type: "not_found" } });
    } catch (error) {
      console.error("provider error:", error);
      if (!res.headersSent) send(res, 500, { error: { type: "api_error", message: "Internal provider error" } });
    }
  });
}
