/**
 * The API at /api/trpc, served by tRPC beside Next rather than through it (docs/serving.md). A call's bounds are
 * checked first (request-guards.ts), then tRPC's fetch handler answers it: one path, whether the call arrives at
 * Node's HTTP server (`serveApi`) or as a fetch `Request` (`handleApiRequest`, for tests in process).
 */
import type { IncomingMessage, ServerResponse } from "node:http";
import { Readable } from "node:stream";
import type { ReadableStream as WebReadableStream } from "node:stream/web";
import { fetchRequestHandler } from "@trpc/server/adapters/fetch";
import { appDatabase } from "../db";
import { env } from "../env";
import { idempotencyKeyHeader, replayedHeader } from "../idempotency/key";
import { outcomeOfAnswer, recordLabEvent } from "../lab/events";
import { type LabAttempt, labAttempts, labFaultHeader, labFaultOf, labRunHeader, labTabHeader } from "../lab/faults";
import { labGuestOf } from "../lab/session";
import { type ApiCall, boundedBody, declaredTooLong, maxBatchSize, maxBodyBytes, refusalOf } from "../request-guards";
import { servedRouter } from "../root";
import { createContext } from "../trpc";
import { securityHeaders } from "./security-headers";
import { servedBy } from "./served-by";

export const apiPath = "/api/trpc";

/** Answers a call whose body has been read (within its bound). */
function answer(url: string, call: ApiCall, signal?: AbortSignal): Promise<Response> {
  const refusal = refusalOf(call, env().APP_ORIGINS);
  if (refusal) return Promise.resolve(refusal);
  const hasBody = call.method !== "GET" && call.method !== "HEAD";
  const req = new Request(url, {
    method: call.method,
    headers: call.headers,
    body: hasBody ? (call.body as Uint8Array<ArrayBuffer>) : undefined,
    signal,
  });
  return fetchRequestHandler({
    endpoint: apiPath,
    req,
    router: servedRouter(env()),
    createContext,
    maxBatchSize,
    onError({ error, path }) {
      // The client gets a typed, sanitised error; the full story stays in the server log.
      if (error.code === "INTERNAL_SERVER_ERROR") console.error(`tRPC ${path ?? "?"} failed:`, error.cause ?? error);
    },
  });
}

async function readBody(headers: Headers, chunks: AsyncIterable<Uint8Array> | null): Promise<Uint8Array | null> {
  if (declaredTooLong(headers)) return null;
  return chunks ? boundedBody(chunks, maxBodyBytes) : new Uint8Array();
}

/** Answers one API call given as a fetch `Request`. */
export async function handleApiRequest(req: Request): Promise<Response> {
  const host = req.headers.get("host") ?? new URL(req.url).host;
  const body = await readBody(req.headers, req.body as AsyncIterable<Uint8Array> | null);
  return answer(req.url, { method: req.method, headers: req.headers, host, body }, req.signal);
}

const apiHeaders = securityHeaders();

function headersOf(req: IncomingMessage): Headers {
  const headers = new Headers();
  for (const [name, value] of Object.entries(req.headers)) {
    if (Array.isArray(value)) for (const each of value) headers.append(name, each);
    else if (value !== undefined) headers.set(name, value);
  }
  return headers;
}

/** A subscription (server-sent events) runs until its client goes; any other call is answered at once. */
function wantsEvents(headers: Headers): boolean {
  return headers.get("accept")?.includes("text/event-stream") ?? false;
}

/**
 * Aborted when the client goes away before its answer is complete, which ends a subscription. Only subscriptions
 * get one: a signal costs each request about 3 % of its CPU (measured), and other calls finish at once anyway.
 */
function abortedWhenGone(res: ServerResponse): AbortSignal {
  const gone = new AbortController();
  res.once("close", () => {
    if (!res.writableFinished) gone.abort();
  });
  return gone.signal;
}

/** The lab's own procedures that stand for the unprotected side; every other lab procedure is the lab's machinery. */
const unprotectedTwins = new Set(["lab.placeOrderUnprotected", "lab.payUnprotected"]);

/**
 * An attempt of a lab scenario: a shop procedure (the protected side) or the unprotected twin, called by a lab
 * session. It goes on the lab's timeline, and it may ask for a fault (server/lab/faults.ts). Anything else is an
 * ordinary call: its fault header is ignored and nothing is recorded.
 */
function labAttemptOf(headers: Headers, req: IncomingMessage, res: ServerResponse): LabAttempt | null {
  // A lab attempt names its run; everything else (every shop call) is passed by at the cost of two lookups.
  if (!headers.has(labRunHeader) && !headers.has(labFaultHeader)) return null;
  const procedurePath = /^\/api\/trpc\/([\w.]+)(?:\?|$)/.exec(req.url ?? "")?.[1];
  if (!procedurePath || (procedurePath.startsWith("lab.") && !unprotectedTwins.has(procedurePath))) return null;
  const labGuest = labGuestOf(headers, env());
  if (labGuest === null) return null;
  // Each lab attempt gets a connection of its own, so that no fault falls on a connection the page reuses.
  res.setHeader("connection", "close");
  return {
    fault: labFaultOf(headers),
    record: (httpStatus, outcome) =>
      recordLabEvent(appDatabase().db, {
        labSession: labGuest,
        run: headers.get(labRunHeader)?.slice(0, 36) ?? null,
        side: unprotectedTwins.has(procedurePath) ? "unprotected" : "protected",
        tab: headers.get(labTabHeader)?.slice(0, 64) ?? null,
        servedBy,
        procedurePath,
        idempotencyKey: headers.get(idempotencyKeyHeader)?.slice(0, 255) ?? null,
        httpStatus,
        outcome: outcome.slice(0, 64),
      }).catch((error: unknown) => console.error("lab: an attempt could not be recorded:", error)),
    startAnswer: (status = 200) => {
      res.writeHead(status, { "content-type": "application/json", "content-length": "1024" });
      return new Promise((resolve) => res.write(" ", () => resolve()));
    },
    cut: () => req.socket.destroy(),
  };
}

/**
 * Serves an API call arriving at Node's HTTP server. The body is read straight from the socket and handed to one
 * `Request`; the answer is written in one piece, or streamed when it comes in parts (subscriptions).
 */
export async function serveApi(req: IncomingMessage, res: ServerResponse): Promise<void> {
  const method = req.method ?? "GET";
  const headers = headersOf(req);
  // Who a client without a session is (rate limits): its address, from the socket unless a proxy in front said.
  if (!headers.has("x-forwarded-for") && req.socket.remoteAddress) {
    headers.set("x-forwarded-for", req.socket.remoteAddress);
  }
  const host = headers.get("host") ?? "";
  const lab = labAttemptOf(headers, req, res);
  if (lab?.fault?.kind === "lose-request") {
    await lab.record(0, "request lost before the server: nothing ran");
    lab.cut();
    return;
  }
  const hasBody = method !== "GET" && method !== "HEAD";
  const body = await readBody(headers, hasBody ? req : null);
  const call = { method, headers, host, body };
  const url = `http://${host || "localhost"}${req.url}`;
  const signal = wantsEvents(headers) ? abortedWhenGone(res) : undefined;
  const response = lab ? await labAttempts.run(lab, () => answer(url, call, signal)) : await answer(url, call, signal);
  if (lab) {
    const outcome = outcomeOfAnswer(response.status, response.headers.get(replayedHeader) === "true");
    const lost = lab.fault?.kind === "lose-response";
    await lab.record(response.status, lost ? `${outcome}, then the answer was lost` : outcome);
    if (lost) {
      await lab.startAnswer(response.status);
      lab.cut();
      return;
    }
  }

  res.statusCode = response.status;
  for (const { key, value } of apiHeaders) res.setHeader(key, value);
  for (const [key, value] of response.headers) {
    if (key !== "set-cookie") res.setHeader(key, value);
  }
  const cookies = response.headers.getSetCookie();
  if (cookies.length > 0) res.setHeader("set-cookie", cookies);
  if (!response.body) {
    res.end();
  } else if (response.headers.get("content-type")?.startsWith("text/event-stream")) {
    Readable.fromWeb(response.body as WebReadableStream).pipe(res);
  } else {
    res.end(Buffer.from(await response.arrayBuffer()));
  }
}
