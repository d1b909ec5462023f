/** Starts the simulated payment provider as its own process, as `npm run provider` does. */
import type { ProviderFaults } from "@/provider/server";
import { testProviderApiKey } from "./app-server";
import { type ChildService, startChildService } from "./child-service";

/** What a test sends to reach the provider directly, as the shop does. */
export const providerAuth = { authorization: `Bearer ${testProviderApiKey}` };

export interface ProviderServer extends ChildService {
  /** Every charge the provider made for an order, straight from the provider. */
  chargesFor(orderId: number): Promise<{ id: string; status: string; amountCents: number }[]>;
  /** Changes the injected faults while running (needs `faultControl`). */
  setFaults(faults: ProviderFaults): Promise<void>;
}

export async function startProviderServer(options: {
  port: number;
  databaseUrl: string;
  latencyMs?: number;
  /** Lets the test change faults at run time through `POST /test/faults`. */
  faultControl?: boolean;
}): Promise<ProviderServer> {
  const url = `http://127.0.0.1:${options.port}`;
  const service = await startChildService({
    name: `payment provider on port ${options.port}`,
    // Node itself with tsx's loader, not the tsx wrapper: a wrapper killed with SIGKILL (the soak's crash) would
    // leave its own node child running, a provider nobody stops.
    command: process.execPath,
    args: ["--import", "tsx", "provider/main.ts"],
    env: {
      ...process.env,
      PROVIDER_DATABASE_URL: options.databaseUrl,
      PROVIDER_PORT: String(options.port),
      PROVIDER_LATENCY_MS: String(options.latencyMs ?? 0),
      PROVIDER_ENABLE_FAULTS: options.faultControl ? "true" : "false",
      PROVIDER_API_KEY: testProviderApiKey,
    },
    url,
    healthPath: "/health",
    timeoutMs: 20_000,
  });
  return Object.assign(service, {
    async chargesFor(orderId: number) {
      const response = await fetch(`${url}/v1/charges?reference=order-${orderId}`, { headers: providerAuth });
      return (await response.json()).data;
    },
    async setFaults(faults: ProviderFaults) {
      const response = await fetch(`${url}/test/faults`, {
        method: "POST",
        headers: { "content-type": "application/json", ...providerAuth },
        body: JSON.stringify(faults),
      });
      if (!response.ok) throw new Error(`setting provider faults failed: HTTP ${response.status}`);
    },
  });
}
