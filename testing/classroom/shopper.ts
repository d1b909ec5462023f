/**
 * One simulated shopper of the classroom run, on the shop's own server: browses the catalog every 200 ms and buys
 * (places an order and pays it, one key per intent) every 2.5 s, within a guest's write budget. Every call is timed;
 * a call is answered when it gets a 2xx.
 */
import { randomUUID } from "node:crypto";
import { CookieJar } from "./cookie-jar";

export interface ShopperReport {
  calls: number;
  answered: number;
  /** What the calls that were not answered got instead (an HTTP status, or "no answer"). */
  failures: Record<string, number>;
  latenciesMs: number[];
}

const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const browseEveryMs = 200;
const buyEveryMs = 2500;

export async function runShopper(shopUrl: string, keepShopping: () => boolean, report: ShopperReport): Promise<void> {
  const jar = new CookieJar();
  const timed = async (path: string, init: RequestInit = {}) => {
    const started = performance.now();
    report.calls += 1;
    try {
      const response = await jar.fetch(`${shopUrl}/api/trpc/${path}`, init);
      const body = await response.json();
      report.latenciesMs.push(performance.now() - started);
      if (response.ok) report.answered += 1;
      else report.failures[String(response.status)] = (report.failures[String(response.status)] ?? 0) + 1;
      return response.ok ? body.result.data : null;
    } catch {
      report.failures["no answer"] = (report.failures["no answer"] ?? 0) + 1;
      return null;
    }
  };
  const write = (path: string, input: unknown) =>
    timed(path, {
      method: "POST",
      headers: { "content-type": "application/json", "idempotency-key": randomUUID() },
      body: JSON.stringify(input),
    });
  let lastBuy = 0;
  while (keepShopping()) {
    await timed("catalog.products");
    if (Date.now() - lastBuy >= buyEveryMs) {
      lastBuy = Date.now();
      const placed = await write("orders.place", { items: [{ productId: 1, quantity: 1 }] });
      if (placed) await write("payments.pay", { orderId: placed.order.id, card: "4242424242424242" });
    }
    await pause(browseEveryMs);
  }
}
