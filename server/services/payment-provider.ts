/**
 * The app's client for the payment provider. Every call that moves money carries an Idempotency-Key derived
 * from our own records, so asking twice never charges twice. Failures are split into what is final (a decline,
 * a refusal) and what is not (5xx, no answer), because only the latter may be retried; and a key can be
 * cancelled, which is the only way to learn for certain that nothing was, or ever will be, done with it.
 */
import { z } from "zod";
import type { Env } from "../env";

const charge = z.object({
  id: z.string(),
  idempotencyKey: z.string(),
  /** canceled: the key was voided before any charge was made with it; none ever will be. */
  status: z.enum(["succeeded", "declined", "canceled"]),
  amountCents: z.number().nullable(),
  currency: z.string().nullable(),
  declineCode: z.string().nullable(),
  refundedCents: z.number(),
  createdAt: z.string(),
});
export type ProviderCharge = z.infer<typeof charge>;

const refund = z.object({
  id: z.string(),
  idempotencyKey: z.string(),
  chargeId: z.string().nullable(),
  amountCents: z.number().nullable(),
  /** canceled: the key was voided before any refund was made with it; none ever will be. */
  status: z.enum(["succeeded", "canceled"]),
  createdAt: z.string(),
});
export type ProviderRefund = z.infer<typeof refund>;

const page = <T extends z.ZodType>(item: T) => z.object({ data: z.array(item), hasMore: z.boolean() });

/** The provider failed before deciding (5xx, refused connection): nothing was done, a retry is safe. */
export class ProviderUnavailableError extends Error {
  override name = "ProviderUnavailableError";
}

/** No answer arrived (timeout, connection lost): it may or may not have been done; ask again by key. */
export class ProviderNoAnswerError extends Error {
  override name = "ProviderNoAnswerError";
}

/** The provider refused the request as such (4xx): asking again the same way gets the same answer. */
export class ProviderRejectedError extends Error {
  override name = "ProviderRejectedError";
  constructor(
    readonly status: number,
    readonly type: string,
  ) {
    super(`provider refused the request: HTTP ${status} ${type}`);
  }
}

const canceledKey = "idempotency_key_canceled";

/** The provider this app is configured for (PAYMENT_PROVIDER_URL, PROVIDER_API_KEY, PAYMENT_PROVIDER_TIMEOUT_MS). */
export function configuredProvider(
  env: Pick<Env, "PAYMENT_PROVIDER_URL" | "PROVIDER_API_KEY" | "PAYMENT_PROVIDER_TIMEOUT_MS">,
): PaymentProvider {
  return new PaymentProvider(env.PAYMENT_PROVIDER_URL, env.PROVIDER_API_KEY, env.PAYMENT_PROVIDER_TIMEOUT_MS);
}

export class PaymentProvider {
  constructor(
    private readonly baseUrl: string,
    private readonly apiKey: string,
    private readonly timeoutMs: number,
  ) {}

  private async request(path: string, init: RequestInit = {}): Promise<Response> {
    try {
      const headers = { ...(init.headers as Record<string, string>), authorization: `Bearer ${this.apiKey}` };
      return await fetch(new URL(path, this.baseUrl), {
        ...init,
        headers,
        signal: AbortSignal.timeout(this.timeoutMs),
      });
    } catch (error) {
      if (error instanceof Error && error.name === "TimeoutError")
        throw new ProviderNoAnswerError("provider timed out");
      // Refused connections never reached the provider; anything else may have been processed.
      const code = (error as { cause?: { code?: string } }).cause?.code;
      if (code === "ECONNREFUSED") throw new ProviderUnavailableError("provider unreachable");
      throw new ProviderNoAnswerError(`provider connection failed: ${code ?? "unknown"}`);
    }
  }

  /** The body of an answer, or the typed failure: 5xx → unavailable, a body cut off → no answer. */
  private async answer(response: Response): Promise<{ status: number; body: unknown }> {
    if (response.status >= 500) throw new ProviderUnavailableError(`provider answered ${response.status}`);
    // A wrong or missing API key is our configuration, not the request: never a final answer for a payment.
    if (response.status === 401) throw new ProviderUnavailableError("provider refused our API key (PROVIDER_API_KEY)");
    try {
      return { status: response.status, body: await response.json() };
    } catch {
      throw new ProviderNoAnswerError("provider answer was cut off");
    }
  }

  private async post(path: string, idempotencyKey: string | null, body?: unknown) {
    const headers: Record<string, string> = { "content-type": "application/json" };
    if (idempotencyKey !== null) headers["idempotency-key"] = idempotencyKey;
    return this.answer(
      await this.request(path, {
        method: "POST",
        headers,
        body: body === undefined ? undefined : JSON.stringify(body),
      }),
    );
  }

  private static rejected(status: number, body: unknown): ProviderRejectedError {
    const type = (body as { error?: { type?: string } })?.error?.type ?? "unknown";
    return new ProviderRejectedError(status, type);
  }

  private static isCanceled(body: unknown): boolean {
    return (body as { error?: { type?: string } })?.error?.type === canceledKey;
  }

  /**
   * Charges the card once per key. A decline is an answer, not an error; so is a key cancelled earlier, which
   * comes back as a charge with status `canceled`.
   */
  async charge(
    idempotencyKey: string,
    request: { amountCents: number; currency: string; cardNumber: string; reference: string },
  ): Promise<ProviderCharge> {
    const { status, body } = await this.post("/v1/charges", idempotencyKey, request);
    if (status === 402) return charge.parse((body as { error: { charge: unknown } }).error.charge);
    if (status === 409 && PaymentProvider.isCanceled(body)) return this.cancelCharge(idempotencyKey);
    if (status >= 400) throw PaymentProvider.rejected(status, body);
    return charge.parse(body);
  }

  /**
   * The fence: the charge made under this key if there is one, otherwise the key is voided at the provider and
   * comes back `canceled`, after which no request with it, however late, can charge.
   */
  async cancelCharge(idempotencyKey: string): Promise<ProviderCharge> {
    const { status, body } = await this.post(`/v1/charges/by-key/${encodeURIComponent(idempotencyKey)}/cancel`, null);
    if (status >= 400) throw PaymentProvider.rejected(status, body);
    return charge.parse(body);
  }

  /** Refunds once per key; a key cancelled earlier comes back as a refund with status `canceled`. */
  async refund(idempotencyKey: string, request: { chargeId: string; amountCents: number }): Promise<ProviderRefund> {
    const { status, body } = await this.post("/v1/refunds", idempotencyKey, request);
    if (status === 409 && PaymentProvider.isCanceled(body)) return this.cancelRefund(idempotencyKey);
    if (status >= 400) throw PaymentProvider.rejected(status, body);
    return refund.parse(body);
  }

  /** The fence for refunds, as `cancelCharge`. */
  async cancelRefund(idempotencyKey: string): Promise<ProviderRefund> {
    const { status, body } = await this.post(`/v1/refunds/by-key/${encodeURIComponent(idempotencyKey)}/cancel`, null);
    if (status >= 400) throw PaymentProvider.rejected(status, body);
    return refund.parse(body);
  }

  /** The charges made for one reference (the shop's `order-<id>`), whatever key they were asked with. */
  async chargesFor(reference: string): Promise<ProviderCharge[]> {
    const response = await this.request(`/v1/charges?reference=${encodeURIComponent(reference)}`);
    const { status, body } = await this.answer(response);
    if (status >= 400) throw PaymentProvider.rejected(status, body);
    return page(charge).parse(body).data;
  }

  /** Every charge the provider holds, page by page (for reconciliation). */
  allCharges(): AsyncGenerator<ProviderCharge> {
    return this.pages("charges", page(charge));
  }

  /** Every refund the provider holds, page by page. */
  allRefunds(): AsyncGenerator<ProviderRefund> {
    return this.pages("refunds", page(refund));
  }

  private async *pages<T extends { id: string }>(
    kind: "charges" | "refunds",
    schema: z.ZodType<{ data: T[]; hasMore: boolean }>,
  ): AsyncGenerator<T> {
    let after = "";
    for (;;) {
      const response = await this.request(`/v1/${kind}?after=${encodeURIComponent(after)}&limit=500`);
      const { status, body } = await this.answer(response);
      if (status >= 400) throw PaymentProvider.rejected(status, body);
      const parsed = schema.parse(body);
      yield* parsed.data;
      const last = parsed.data.at(-1);
      if (!parsed.hasMore || !last) return;
      after = last.id;
    }
  }
}
