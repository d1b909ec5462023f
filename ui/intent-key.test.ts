import { describe, expect, it } from "vitest";
import { clearIntent, keyForIntent, newIdempotencyKey, payIntent, readIntent, settleIntent } from "./intent-key";

function memoryStore() {
  const values = new Map<string, string>();
  return {
    values,
    getItem: (name: string) => values.get(name) ?? null,
    setItem: (name: string, value: string) => void values.set(name, value),
    removeItem: (name: string) => void values.delete(name),
  };
}

const uuidV4 = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

describe("newIdempotencyKey", () => {
  it("uses randomUUID where the context offers it", () => {
    expect(
      newIdempotencyKey({ randomUUID: () => "1-2-3-4-5", getRandomValues: crypto.getRandomValues.bind(crypto) }),
    ).toBe("1-2-3-4-5");
  });

  it("falls back to getRandomValues outside secure contexts, still a v4 UUID", () => {
    const keys = Array.from({ length: 50 }, () =>
      newIdempotencyKey({ getRandomValues: crypto.getRandomValues.bind(crypto) }),
    );
    for (const key of keys) expect(key).toMatch(uuidV4);
    expect(new Set(keys).size).toBe(keys.length);
  });
});

describe("keyForIntent", () => {
  it("keeps one key while the content is unchanged and makes a new one when it changes", () => {
    const store = memoryStore();
    const first = keyForIntent("place-order", '[{"productId":1,"quantity":2}]', store);
    expect(keyForIntent("place-order", '[{"productId":1,"quantity":2}]', store)).toBe(first);
    const changed = keyForIntent("place-order", '[{"productId":1,"quantity":3}]', store);
    expect(changed).not.toBe(first);
    expect(readIntent("place-order", store)).toEqual({
      key: changed,
      content: '[{"productId":1,"quantity":3}]',
      settled: false,
    });
  });

  it("stores only what it is given: a pay intent holds the last four digits, never a card number", () => {
    const store = memoryStore();
    keyForIntent(payIntent(7), "4242", store);
    expect([...store.values.keys()]).toEqual(["eoc:intent:pay:7"]);
    expect(JSON.parse(store.values.get("eoc:intent:pay:7") ?? "")).toEqual({
      key: expect.stringMatching(uuidV4),
      content: "4242",
      settled: false,
    });
  });

  it("a settled intent keeps its key for the same content", () => {
    const store = memoryStore();
    const key = keyForIntent(payIntent(7), "0002", store);
    settleIntent(payIntent(7), key, store);
    expect(readIntent(payIntent(7), store)?.settled).toBe(true);
    expect(keyForIntent(payIntent(7), "0002", store)).toBe(key);
  });

  it("clearing with a key leaves a newer intent alone", () => {
    const store = memoryStore();
    const old = keyForIntent(payIntent(7), "0002", store);
    const newer = keyForIntent(payIntent(7), "4242", store);
    clearIntent(payIntent(7), old, store);
    expect(readIntent(payIntent(7), store)?.key).toBe(newer);
    clearIntent(payIntent(7), newer, store);
    expect(readIntent(payIntent(7), store)).toBeNull();
  });

  it("treats unreadable stored text as no intent", () => {
    const store = memoryStore();
    store.setItem("eoc:intent:place-order", "{not json");
    expect(readIntent("place-order", store)).toBeNull();
    expect(keyForIntent("place-order", "[]", store)).toMatch(uuidV4);
  });
});
