/**
 * One idempotency key per intent of the shopper ("place this cart", "pay this order with this card"), made in the
 * click handler and kept in sessionStorage, so a retry, a reload or a duplicated tab carries on with the same key
 * instead of starting a second intent. A key is bound to its intent's content: another cart or another card is a
 * new intent with a new key. Content must never hold a full card number (contract §8): only its last four digits.
 */

const prefix = "eoc:intent:";

export const placeOrderIntent = "place-order";

export function payIntent(orderId: number): string {
  return `pay:${orderId}`;
}

export interface StoredIntent {
  key: string;
  /** What the key was made for, as a canonical string (the cart's JSON, a card's last four digits). */
  content: string;
  /** A final answer came back (a decline): the same content replays it, but nothing resumes it on load. */
  settled: boolean;
}

type KeyValueStorage = Pick<Storage, "getItem" | "setItem" | "removeItem">;

const memory = new Map<string, string>();
const memoryStorage: KeyValueStorage = {
  getItem: (name) => memory.get(name) ?? null,
  setItem: (name, value) => void memory.set(name, value),
  removeItem: (name) => void memory.delete(name),
};

/** sessionStorage, or memory where the browser refuses it (some privacy modes throw on access). */
function storage(): KeyValueStorage {
  try {
    return window.sessionStorage;
  } catch {
    return memoryStorage;
  }
}

function hex(bytes: Uint8Array): string {
  return Array.from(bytes, (byte) => byte.toString(16).padStart(2, "0")).join("");
}

/** A random UUID v4; `randomUUID` exists only in secure contexts, `getRandomValues` everywhere. */
export function newIdempotencyKey(source: Pick<Crypto, "getRandomValues"> & Partial<Crypto> = crypto): string {
  if (typeof source.randomUUID === "function") return source.randomUUID();
  const bytes = source.getRandomValues(new Uint8Array(16));
  bytes[6] = ((bytes[6] ?? 0) & 0x0f) | 0x40;
  bytes[8] = ((bytes[8] ?? 0) & 0x3f) | 0x80;
  const digits = hex(bytes);
  return `${digits.slice(0, 8)}-${digits.slice(8, 12)}-${digits.slice(12, 16)}-${digits.slice(16, 20)}-${digits.slice(20)}`;
}

export function readIntent(name: string, store: KeyValueStorage = storage()): StoredIntent | null {
  try {
    const value = JSON.parse(store.getItem(prefix + name) ?? "null") as Partial<StoredIntent> | null;
    if (typeof value?.key !== "string" || typeof value.content !== "string") return null;
    return { key: value.key, content: value.content, settled: value.settled === true };
  } catch {
    return null;
  }
}

function writeIntent(name: string, intent: StoredIntent, store: KeyValueStorage): void {
  store.setItem(prefix + name, JSON.stringify(intent));
}

/** The key for this intent: the stored one while the content is unchanged, else a new one that replaces it. */
export function keyForIntent(name: string, content: string, store: KeyValueStorage = storage()): string {
  const stored = readIntent(name, store);
  if (stored?.content === content) return stored.key;
  const key = newIdempotencyKey();
  writeIntent(name, { key, content, settled: false }, store);
  return key;
}

export function settleIntent(name: string, key: string, store: KeyValueStorage = storage()): void {
  const stored = readIntent(name, store);
  if (stored?.key === key) writeIntent(name, { ...stored, settled: true }, store);
}

/** Forgets the intent once it succeeded; with `key`, only if no newer intent has replaced it meanwhile. */
export function clearIntent(name: string, key?: string, store: KeyValueStorage = storage()): void {
  if (key === undefined || readIntent(name, store)?.key === key) store.removeItem(prefix + name);
}
