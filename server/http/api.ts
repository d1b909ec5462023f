/**
 * The API at /api/trpc, served by tRPC beside Next rather than through it (docs/serving.md). A call's bounds are
 * checked first (request-guards.ts), then tRPC's fetch handler answers it: one path, whether the call arrives at
 * Node's HTTP server (`serveApi`) or as a fetch `Request` (`handleApiRequest`, for tests in process).
 */
import type { IncomingMessage, ServerResponse } from "node:http";
import { Readable } from "node:stream";
import type { ReadableStream as WebReadableStream } from "node:stream/web";
import type { AnyTRPCRouter } from "@trpc/server";
import { fetchRequestHandler } from "@trpc/server/adapters/fetch";
import { env } from "../env";
import { instruments } from "../instruments";
import { type ApiCall, boundedBody, declaredTooLong, maxBatchSize, maxBodyBytes, refusalOf } from "../request-guards";
import { appRouter } from "../root";
import { createContext } from "../trpc";
import { securityHeaders } from "./security-headers";

export const apiPath = "/api/trpc";

async function readBody(headers: Headers, chunks: AsyncIterable<Uint8Array> | null): Promise<Uint8Array | null> {
  if (declaredTooLong(headers)) return null;
  return chunks ? boundedBody(chunks, maxBodyBytes) : new Uint8Array();
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

/** The procedure a single call names in its path (`/api/trpc/orders.place?…`), or null. */
function procedurePathOf(url: string | undefined): string | null {
  return /^\/api\/trpc\/([\w.]+)(?:\?|$)/.exec(url ?? "")?.[1] ?? null;
}

async function send(res: ServerResponse, response: Response): Promise<void> {
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

/** The API of one router: the shop's (server/root.ts), or the lab server's, which adds the lab's procedures. */
export function apiOf(router: AnyTRPCRouter) {
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
      router,
      createContext,
      maxBatchSize,
      onError({ error, path }) {
        // The client gets a typed, sanitised error; the full story stays in the server log.
        if (error.code === "INTERNAL_SERVER_ERROR") console.error(`tRPC ${path ?? "?"} failed:`, error.cause ?? error);
      },
    });
  }

  return {
    /** Answers one API call given as a fetch `Request` (tests in process). */
    async handleApiRequest(req: Request): Promise<Response> {
      const host = req.headers.get("host") ?? new URL(req.url).host;
      const body = await readBody(req.headers, req.body as AsyncIterable<Uint8Array> | null);
      return answer(req.url, { method: req.method, headers: req.headers, host, body }, req.signal);
    },

    /**
     * Serves an API call arriving at Node's HTTP server. The body is read straight from the socket and handed to
     * one `Request`; the answer is written in one piece, or streamed when it comes in parts (subscriptions).
     */
    async serveApi(req: IncomingMessage, res: ServerResponse): Promise<void> {
      const method = req.method ?? "GET";
      const headers = headersOf(req);
      // Who a client without a session is (rate limits): its address, from the socket unless a proxy in front said.
      if (!headers.has("x-forwarded-for") && req.socket.remoteAddress) {
        headers.set("x-forwarded-for", req.socket.remoteAddress);
      }
      const host = headers.get("host") ?? "";
      const readAndAnswer = async () => {
        const hasBody = method !== "GET" && method !== "HEAD";
        const body = await readBody(headers, hasBody ? req : null);
        const signal = wantsEvents(headers) ? abortedWhenGone(res) : undefined;
        return answer(`http://${host || "localhost"}${req.url}`, { method, headers, host, body }, signal);
      };
      const { aroundApiCall } = instruments();
      const response = aroundApiCall
        ? await aroundApiCall({ req, res, headers, procedurePath: procedurePathOf(req.url) }, readAndAnswer)
        : await readAndAnswer();
      if (response) await send(res, response);
    },
  };
}

/** The shop's API, answering fetch `Request`s in process (for tests). */
export const { handleApiRequest } = apiOf(appRouter);
