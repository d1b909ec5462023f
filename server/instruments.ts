/**
 * The one door through which test and training instruments reach the shop's request path. The shop's own entry
 * (`npm start`, server/main.ts) installs nothing, so every hook below is absent and costs one property read. A
 * server started for the training lab or for tests (server/lab/main.ts) installs its instruments before it serves
 * a request; nothing in the shop imports them.
 */
import type { IncomingMessage, ServerResponse } from "node:http";

/**
 * Named points of a request's work: the idempotency layer's (`claimed`, `before-commit`) and a payment's recovery
 * points (`payment_created`, `charge_attempted`). `detail` is what the point knows of itself: for `claimed`, the
 * recovery point the claim found (`started` for a new key).
 */
export type InstrumentedPoint = "claimed" | "before-commit" | "payment_created" | "charge_attempted";

/** One API call as it arrives at Node's HTTP server. */
export interface ApiExchange {
  req: IncomingMessage;
  res: ServerResponse;
  headers: Headers;
  /** The procedure path of a single call, or null for a batch or a malformed path. */
  procedurePath: string | null;
}

export interface Instruments {
  /**
   * Around each API call: `answer` reads the call and answers it. Returns the answer for the server to send, or
   * null when the instruments have dealt with the connection themselves (cut it, say).
   */
  aroundApiCall?(exchange: ApiExchange, answer: () => Promise<Response>): Promise<Response | null>;
  /** At each named point of a call's work; may delay it, or never return (a crash). */
  reached?(point: InstrumentedPoint | (string & {}), detail?: string): void | Promise<void>;
}

let installed: Instruments = {};

/** Installs a server's instruments, once, before it serves anything. */
export function installInstruments(instruments: Instruments): void {
  installed = instruments;
}

/** The instruments of this process: none in the shop. */
export function instruments(): Instruments {
  return installed;
}
