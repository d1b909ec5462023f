import { randomUUID } from "node:crypto";
import { describe, expect, it } from "vitest";
import { handleApiRequest } from "@/server/http/api";
import { maxBatchSize, maxBodyBytes } from "./request-guards";

const shop = "http://shop.test";

async function guestCookie(): Promise<string> {
  const response = await handleApiRequest(new Request(`${shop}/api/trpc/session.me`));
  return (response.headers.get("set-cookie") ?? "").split(";")[0] as string;
}

function place(body: BodyInit, headers: Record<string, string> = {}) {
  return handleApiRequest(
    new Request(`${shop}/api/trpc/orders.place`, {
      method: "POST",
      headers: { "content-type": "application/json", ...headers },
      body,
      // A stream body needs it (fetch's rule).
      ...(body instanceof ReadableStream ? { duplex: "half" } : {}),
    } as RequestInit),
  );
}

const cart = (key = randomUUID()) => JSON.stringify({ idempotencyKey: key, items: [{ productId: 1, quantity: 1 }] });

describe("API request bounds", () => {
  it("accepts a write from the shop's own pages", async () => {
    const response = await place(cart(), { cookie: await guestCookie(), origin: shop });
    expect(response.status).toBe(200);
  });

  it("accepts a write from the host the browser asked for, whatever URL the server sees itself at", async () => {
    // A server may see itself at another host name (localhost) than the one the browser used (127.0.0.1).
    const headers = { cookie: await guestCookie(), host: "127.0.0.1:3000", origin: "http://127.0.0.1:3000" };
    expect((await place(cart(), headers)).status).toBe(200);
    const foreign = { ...headers, origin: "http://127.0.0.1:4000" };
    expect((await place(cart(), foreign)).status).toBe(403);
  });

  it("refuses a write sent from another site's page with 403 (CSRF)", async () => {
    const response = await place(cart(), { cookie: await guestCookie(), origin: "https://evil.example" });
    expect(response.status).toBe(403);
    expect((await response.json()).error.data.code).toBe("FORBIDDEN");
  });

  it("refuses a body over the cap with 413, declared or streamed without a length", async () => {
    const huge = JSON.stringify({ idempotencyKey: randomUUID(), padding: "x".repeat(maxBodyBytes) });
    const declared = await place(huge, { "content-length": String(huge.length) });
    expect(declared.status).toBe(413);
    const streamed = await place(
      new ReadableStream({
        start(controller) {
          for (let i = 0; i < 100; i++) controller.enqueue(new TextEncoder().encode("x".repeat(10_000)));
          controller.close();
        },
      }),
    );
    expect(streamed.status).toBe(413);
    expect((await streamed.json()).error.data.code).toBe("PAYLOAD_TOO_LARGE");
  });

  it("refuses JSON nested far deeper than any input with 400, without parsing it", async () => {
    const response = await place(`${"[".repeat(5000)}${"]".repeat(5000)}`);
    expect(response.status).toBe(400);
  });

  it("refuses a batch larger than the cap with 400", async () => {
    const paths = Array.from({ length: maxBatchSize + 1 }, () => "session.me").join(",");
    const response = await handleApiRequest(new Request(`${shop}/api/trpc/${paths}?batch=1`));
    expect(response.status).toBe(400);
  });
});

describe("the benchmark's baselines and the lab's procedures", () => {
  it("are not the shop's: an unguarded write is a 404", async () => {
    const response = await handleApiRequest(
      new Request(`${shop}/api/trpc/bench.placeOrderUnguarded`, {
        method: "POST",
        headers: { "content-type": "application/json", cookie: await guestCookie() },
        body: JSON.stringify({ items: [{ productId: 1, quantity: 1 }] }),
      }),
    );
    expect(response.status).toBe(404);
  });

  it("are not the shop's: a lab procedure is a 404", async () => {
    const response = await handleApiRequest(
      new Request(`${shop}/api/trpc/lab.start`, {
        method: "POST",
        headers: { "content-type": "application/json", cookie: await guestCookie() },
        body: "{}",
      }),
    );
    expect(response.status).toBe(404);
  });
});
