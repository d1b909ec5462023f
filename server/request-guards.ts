/**
 * Bounds on what one HTTP request to the API may ask, checked before tRPC reads it, each answered with a clear
 * 4xx in tRPC's error shape: a foreign Origin on a write (403), a body over the cap (413), JSON nested deeper than
 * any input of ours (400). The batch cap is tRPC's own `maxBatchSize` (400).
 */

/** Far above any input of ours (a 50-line cart is about 2 KiB). */
export const maxBodyBytes = 64 * 1024;
/** The UI batches a handful of queries at most. */
export const maxBatchSize = 10;
/** Our deepest input (a cart: object → array → object) is 3 levels. */
const maxJsonDepth = 16;

function refusal(status: number, code: string, message: string): Response {
  return Response.json({ error: { message, code: -32600, data: { code, httpStatus: status } } }, { status });
}

/** How deeply a JSON text nests, counting brackets outside strings. */
function jsonDepth(text: string): number {
  let depth = 0;
  let deepest = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const char = text[i];
    if (inString) {
      if (char === "\\") i++;
      else if (char === '"') inString = false;
    } else if (char === '"') inString = true;
    else if (char === "{" || char === "[") deepest = Math.max(deepest, ++depth);
    else if (char === "}" || char === "]") depth--;
  }
  return deepest;
}

/** Reads at most `limit` bytes of a body; null when it is longer. */
export async function boundedBody(chunks: AsyncIterable<Uint8Array>, limit: number): Promise<Uint8Array | null> {
  const read: Uint8Array[] = [];
  let size = 0;
  for await (const chunk of chunks) {
    size += chunk.byteLength;
    if (size > limit) return null;
    read.push(chunk);
  }
  return Buffer.concat(read);
}

function isOwnOrigin(origin: string, host: string): boolean {
  try {
    return new URL(origin).host === host;
  } catch {
    return false;
  }
}

/**
 * What the guards look at: the method, the headers, the host the client asked for, and the body as read within
 * its bound (null: too long).
 */
export interface ApiCall {
  method: string;
  headers: Headers;
  host: string;
  body: Uint8Array | null;
}

/** The refusal to answer a call with, or null when it is within every bound. */
export function refusalOf(call: ApiCall, shopOrigins: readonly string[]): Response | null {
  if (call.method !== "POST") return null;
  // Browsers send Origin on every POST: one from another site is a cross-site write (CSRF). Clients that are not
  // browsers (curl, servers) send none and are not at risk. The page's own origin is the host the browser asked
  // for (its Host header, which no page can set); behind a proxy that rewrites Host, the shop's public origins
  // come from APP_ORIGINS.
  const origin = call.headers.get("origin");
  if (origin !== null && !isOwnOrigin(origin, call.host) && !shopOrigins.includes(origin)) {
    return refusal(403, "FORBIDDEN", "Requests that change something must come from this shop's own pages.");
  }
  if (call.body === null) {
    return refusal(413, "PAYLOAD_TOO_LARGE", `The request body is larger than ${maxBodyBytes / 1024} KiB.`);
  }
  if (jsonDepth(new TextDecoder().decode(call.body)) > maxJsonDepth) {
    return refusal(400, "BAD_REQUEST", `The request body nests deeper than ${maxJsonDepth} levels.`);
  }
  return null;
}

/** A body declared longer than the bound is not read at all. */
export function declaredTooLong(headers: Headers): boolean {
  return Number(headers.get("content-length") ?? 0) > maxBodyBytes;
}
