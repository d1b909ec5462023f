/**
 * The app's client for the payment provider. Every call that moves money carries an Idempotency-Key derived
 * from our own records, so asking twice never charges twice. Failures are split into what is final (a decline)
 * and what is not (5xx, no answer), because only the latter may be retried.
 */
import { z } from "zod";

const charge = z.object({
  id: z.string(),
  status: z.enum(["succeeded", "declined"]),
  amountCents: z.number(),
  currency: z.string(),
  declineCode: z.string().nullable(),
});
export type ProviderCharge = z.infer<typeof charge>;

const refund = z.object({ id: z.string(), amountCents: z.number() });

/** The provider failed before deciding (5xx): nothing was charged, a retry is safe. */
export class ProviderUnavailableError extends Error {
  override name = "ProviderUnavailableError";
}

/** No answer arrived (timeout, connection lost): the charge may or may not exist; look it up by key. */
export class ProviderNoAnswerError extends Error {
  override name = "ProviderNoAnswerError";
}

export class PaymentProvider {
  constructor(
    private readonly baseUrl: string,
    private readonly timeoutMs: number,
  ) {}

  private async request(path: string, init: RequestInit = {}): Promise<Response> {
    try {
      return await fetch(new URL(path, this.baseUrl), { ...init, signal: AbortSignal.timeout(this.timeoutMs) });
    } catch (error) {
      if (error instanceof Error && error.name === "TimeoutError")
        throw new ProviderNoAnswerError("provider timed out");
      // Refused connections never reached the provider; anything else may have been processed.
      const code = (error as { cause?: { code?: string } }).cause?.code;
      if (code === "ECONNREFUSED") throw new ProviderUnavailableError("provider unreachable");
      throw new ProviderNoAnswerError(`provider connection failed: ${code ?? "unknown"}`);
    }
  }

  /** Charges the card once per key; a decline is an answer, not an error. */
  async charge(
    idempotencyKey: string,
    request: { amountCents: number; currency: string; cardNumber: string; reference: string },
  ): Promise<ProviderCharge> {
    const response = await this.request("/v1/charges", {
      method: "POST",
      headers: { "content-type": "application/json", "idempotency-key": idempotencyKey },
      body: JSON.stringify(request),
    });
    if (response.status >= 500) throw new ProviderUnavailableError(`provider answered ${response.status}`);
    const body = await response.json();
    if (response.status === 402) return charge.parse(body.error.charge);
    if (!response.ok) throw new Error(`provider refused the charge: HTTP ${response.status} ${JSON.stringify(body)}`);
    return charge.parse(body);
  }

  /** The charge made under this key, or null if the provider never made one. */
  async findCharge(idempotencyKey: string): Promise<ProviderCharge | null> {
    const response = await this.request(`/v1/charges/by-key/${encodeURIComponent(idempotencyKey)}`);
    if (response.status === 404) return null;
    if (!response.ok) throw new ProviderUnavailableError(`provider answered ${response.status}`);
    return charge.parse(await response.json());
  }

  async refund(idempotencyKey: string, request: { chargeId: string; amountCents: number }) {
    const response = await this.request("/v1/refunds", {
      method: "POST",
      headers: { "content-type": "application/json", "idempotency-key": idempotencyKey },
      body: JSON.stringify(request),
    });
    if (response.status >= 500) throw new ProviderUnavailableError(`provider answered ${response.status}`);
    const body = await response.json();
    if (!response.ok) throw new Error(`provider refused the refund: HTTP ${response.status} ${JSON.stringify(body)}`);
    return refund.parse(body);
  }
}
