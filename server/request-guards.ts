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

/** Reads at most `limit` bytes of the body; null when it is longer. */
async function boundedBody(req: Request, limit: number): Promise<Uint8Array | null> {
  if (!req.body) return new Uint8Array();
  const chunks: Uint8Array[] = [];
  let size = 0;
  for await (const chunk of req.body as unknown as AsyncIterable<Uint8Array>) {
    size += chunk.byteLength;
    if (size > limit) return null;
    chunks.push(chunk);
  }
  return Buffer.concat(chunks);
}

function isOwnOrigin(origin: string, req: Request): boolean {
  const host = req.headers.get("host") ?? new URL(req.url).host;
  try {
    return new URL(origin).host === host;
  } catch {
    return false;
  }
}

/** The request to hand to tRPC (its body read and checked), or the refusal to answer with. */
export async function guardApiRequest(req: Request, shopOrigins: readonly string[]): Promise<Request | Response> {
  if (req.method !== "POST") return req;
  // Browsers send Origin on every POST: one from another site is a cross-site write (CSRF). Clients that are not
  // browsers (curl, servers) send none and are not at risk. The page's own origin is the host the browser asked
  // for (its Host header, which no page can set); behind a proxy that rewrites Host, the shop's public origins
  // come from APP_ORIGINS.
  const origin = req.headers.get("origin");
  if (origin !== null && !isOwnOrigin(origin, req) && !shopOrigins.includes(origin)) {
    return refusal(403, "FORBIDDEN", "Requests that change something must come from this shop's own pages.");
  }
  const declared = Number(req.headers.get("content-length") ?? 0);
  const body = declared > maxBodyBytes ? null : await boundedBody(req, maxBodyBytes);
  if (body === null) {
    return refusal(413, "PAYLOAD_TOO_LARGE", `The request body is larger than ${maxBodyBytes / 1024} KiB.`);
  }
  const text = new TextDecoder().decode(body);
  if (jsonDepth(text) > maxJsonDepth) {
    return refusal(400, "BAD_REQUEST", `The request body nests deeper than ${maxJsonDepth} levels.`);
  }
  return new Request(req.url, { method: req.method, headers: req.headers, body: text });
}
