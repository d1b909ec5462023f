/**
 * A simulated payment provider, run as its own HTTP service with its own database, behaving like the best public
 * payment APIs: every charge and refund is deduplicated by the Idempotency-Key header it receives, and a charge
 * can be looked up by that key. The test cards of cards.ts decide each charge's fate.
 */
import { createHash, randomBytes } from "node:crypto";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import { eq, sql } from "drizzle-orm";
import type { MySql2Database } from "drizzle-orm/mysql2";
import { z } from "zod";
import { testCardNumbers, testCards } from "./cards";
import type * as schema from "./schema";
import { charges, refunds } from "./schema";

export type ProviderDatabase = MySql2Database<typeof schema>;

export interface ProviderOptions {
  /** Tests only: delay before answering a charge, to widen race windows. */
  latencyMs?: number;
}

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

function publicCharge(charge: Charge) {
  const { requestHash: _, idempotencyKey, ...rest } = charge;
  return { ...rest, idempotencyKey, createdAt: charge.createdAt.toISOString() };
}

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

export function createProviderServer(db: ProviderDatabase, options: ProviderOptions = {}): Server {
  const chargeByKey = async (key: string) =>
    (await db.select().from(charges).where(eq(charges.idempotencyKey, key)).limit(1))[0];

  /** A stored charge answers the same way every time: 201 for a success, 402 for a decline. */
  function answerCharge(res: ServerResponse, charge: Charge, replayed: boolean) {
    const headers: Record<string, string> = replayed ? { "idempotent-replayed": "true" } : {};
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
    if (options.latencyMs) await new Promise((resolve) => setTimeout(resolve, options.latencyMs));

    const existing = await chargeByKey(key);
    if (existing) {
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

  async function createRefund(req: IncomingMessage, res: ServerResponse) {
    const key = req.headers["idempotency-key"];
    if (typeof key !== "string" || key.length === 0 || key.length > 255) {
      return send(res, 400, { error: { type: "invalid_request", message: "Idempotency-Key header is required" } });
    }
    const parsed = refundRequest.safeParse(await readJson(req));
    if (!parsed.success) return send(res, 400, { error: { type: "invalid_request", message: parsed.error.message } });
    const [existing] = await db.select().from(refunds).where(eq(refunds.idempotencyKey, key));
    if (existing) return send(res, 200, existing, { "idempotent-replayed": "true" });

    const refund = { id: newId("re"), idempotencyKey: key, ...parsed.data };
    const outcome = await db.transaction(async (tx) => {
      const [charge] = await tx.select().from(charges).where(eq(charges.id, refund.chargeId)).for("update");
      if (charge?.status !== "succeeded") return "no_charge" as const;
      if (charge.refundedCents + refund.amountCents > charge.amountCents) return "exceeds" as const;
      await tx
        .update(charges)
        .set({ refundedCents: sql`${charges.refundedCents} + ${refund.amountCents}` })
        .where(eq(charges.id, charge.id));
      await tx.insert(refunds).values(refund);
      return "refunded" as const;
    });
    if (outcome === "no_charge")
      return send(res, 404, { error: { type: "invalid_request", message: "No such charge" } });
    if (outcome === "exceeds") {
      return send(res, 422, { error: { type: "invalid_request", message: "Refund exceeds the charge" } });
    }
    send(res, 201, refund);
  }

  return createServer(async (req, res) => {
    try {
      const url = new URL(req.url ?? "/", "http://provider.local");
      if (req.method === "GET" && url.pathname === "/health") return send(res, 200, { ok: true });
      if (req.method === "POST" && url.pathname === "/v1/charges") return await createCharge(req, res);
      if (req.method === "POST" && url.pathname === "/v1/refunds") return await createRefund(req, res);
      const byKey = url.pathname.match(/^\/v1\/charges\/by-key\/(.+)$/);
      if (req.method === "GET" && byKey?.[1]) {
        const charge = await chargeByKey(decodeURIComponent(byKey[1]));
        return charge ? send(res, 200, publicCharge(charge)) : send(res, 404, { error: { type: "not_found" } });
      }
      if (req.method === "GET" && url.pathname === "/v1/charges") {
        const reference = url.searchParams.get("reference");
        const rows = reference
          ? await db.select().from(charges).where(eq(charges.reference, reference))
          : await db.select().from(charges);
        return send(res, 200, { data: rows.map(publicCharge) });
      }
      send(res, 404, { error: { type: "not_found" } });
    } catch (error) {
      console.error("provider error:", error);
      if (!res.headersSent) send(res, 500, { error: { type: "api_error", message: "Internal provider error" } });
    }
  });
}
