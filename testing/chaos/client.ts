/**
 * One virtual customer's HTTP client: plain tRPC over HTTP as testing/shop-client.ts sends it, plus what that
 * client cannot do: abort a request mid-flight, bound every request, pick a server per attempt, retry with the
 * same key, and record every attempt in the history.
 */
import {
  type Attempt,
  type AttemptMode,
  errorData,
  type History,
  isRetryable,
  type OperationKind,
  procedureOf,
  resultOf,
} from "./history";
import { type Random, sleep } from "./random";

/** How a client sends one idempotent operation. */
export interface SendPlan {
  style: "normal" | "duplicate" | "abandon";
  maxAttempts: number;
  /** For `abandon`: when the client aborts its only attempt and walks away from the key. */
  abortAfterMs: number;
}

function describeFailure(error: unknown): string {
  const cause = (error as { cause?: { code?: string; message?: string } }).cause;
  return cause?.code ?? cause?.message ?? (error instanceof Error ? error.message : String(error));
}

export class ChaosClient {
  cookie: string | undefined;
  customerId: string | null = null;

  constructor(
    private readonly history: History,
    private readonly servers: readonly string[],
    private readonly rng: Random,
    /** No answer within this is recorded as no answer (status 0), and retried like one. */
    private readonly timeoutMs: number,
    /** True once the run is over: no new attempt is started. */
    private readonly stopped: () => boolean,
    /** Sent with refunds, which only the merchant may make (on this customer's payments). */
    private readonly merchantCookie: string,
  ) {}

  private async send(
    kind: OperationKind,
    input: unknown,
    meta: { key: string | null; mode: AttemptMode; attempt: number; abortAfterMs?: number },
  ): Promise<Attempt> {
    const server = this.rng.pick(this.servers);
    const path = `${server}/api/trpc/${procedureOf[kind]}`;
    const controller = new AbortController();
    const limitMs = meta.abortAfterMs ?? this.timeoutMs;
    const timer = setTimeout(() => controller.abort(), limitMs);
    const start = this.history.now();
    const sentCookie = this.cookie;
    const label = `${kind} ${meta.key ?? ""} → ${server} since ${start} ms`;
    this.history.inFlight.add(label);
    let status = 0;
    // biome-ignore lint/suspicious/noExplicitAny: the wire's JSON
    let body: any;
    let error: string | undefined;
    const cookie = kind === "refund" ? this.merchantCookie : this.cookie;
    const exchange = async () => {
      const response =
        kind === "session"
          ? await fetch(path, { signal: controller.signal })
          : await fetch(path, {
              method: "POST",
              headers: { "content-type": "application/json", ...(cookie ? { cookie } : {}) },
              body: JSON.stringify(input),
              signal: controller.signal,
            });
      return { status: response.status, text: await response.text(), setCookie: response.headers.get("set-cookie") };
    };
    // The abort bounds the request; this bounds it even if an abort went unnoticed, so a customer never hangs.
    let giveUp: NodeJS.Timeout | undefined;
    const gaveUp = new Promise<never>((_, reject) => {
      giveUp = setTimeout(() => reject(new Error(`no answer ${limitMs + 1000} ms after sending`)), limitMs + 1000);
    });
    try {
      const answer = await Promise.race([exchange(), gaveUp]);
      status = answer.status;
      try {
        body = JSON.parse(answer.text);
      } catch {
        body = { raw: answer.text.slice(0, 500) };
      }
      if (kind === "session" && status === 200 && answer.setCookie) {
        this.cookie = answer.setCookie.split(";")[0];
        this.customerId = resultOf({ body } as Attempt)?.customerId ?? null;
      }
    } catch (failure) {
      status = 0;
      body = undefined;
      error = controller.signal.aborted
        ? meta.abortAfterMs !== undefined
          ? `aborted by the client after ${limitMs} ms`
          : `no answer within ${limitMs} ms`
        : describeFailure(failure);
    } finally {
      clearTimeout(timer);
      clearTimeout(giveUp);
      this.history.inFlight.delete(label);
    }
    return this.history.record({
      kind,
      customerId: this.customerId,
      cookie: sentCookie,
      key: meta.key,
      input,
      server,
      mode: meta.mode,
      attempt: meta.attempt,
      start,
      end: this.history.now(),
      status,
      body,
      error,
    });
  }

  /** Starts a new guest session; false when no server gave one in a few tries. */
  async signIn(): Promise<boolean> {
    this.cookie = undefined;
    this.customerId = null;
    for (let attempt = 1; attempt <= 6 && !this.stopped(); attempt++) {
      const result = await this.send("session", undefined, { key: null, mode: "normal", attempt });
      if (this.customerId) return true;
      await sleep(this.backoff(result, attempt));
    }
    return false;
  }

  private backoff(last: Attempt, attempt: number): number {
    const retryAfterMs = errorData(last)?.retryAfterMs;
    const base = typeof retryAfterMs === "number" ? Math.min(retryAfterMs, 2000) : Math.min(100 * 2 ** attempt, 1500);
    return base + this.rng.int(0, 100);
  }

  /**
   * Sends an idempotent operation as the plan says and retries it with the same key while the answer says to.
   * Returns the final answer (a success, a final error, or the last retryable answer when the client gave up),
   * or undefined for an abandoned operation (the client never comes back for it).
   */
  async perform(
    kind: Exclude<OperationKind, "session">,
    input: { idempotencyKey: string } & Record<string, unknown>,
    plan: SendPlan,
  ) {
    const key = input.idempotencyKey;
    if (plan.style === "abandon") {
      await this.send(kind, input, { key, mode: "abandoned", attempt: 1, abortAfterMs: plan.abortAfterMs });
      return undefined;
    }
    let last: Attempt | undefined;
    for (let attempt = 1; attempt <= plan.maxAttempts; attempt++) {
      if (attempt > 1 && this.stopped()) break;
      const answers =
        plan.style === "duplicate" && attempt === 1
          ? await Promise.all([0, 1].map(() => this.send(kind, input, { key, mode: "duplicate", attempt })))
          : [await this.send(kind, input, { key, mode: "normal", attempt })];
      const final = answers.find((answer) => answer.status === 200) ?? answers.find((answer) => !isRetryable(answer));
      if (final) return final;
      last = answers[0] as Attempt;
      await sleep(this.backoff(last, attempt));
    }
    return last;
  }
}
