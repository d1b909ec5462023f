/** A key is bound to one request: the fingerprint is what "the same request" means. */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { canonicalJson, requestFingerprint } from "./fingerprint";

/**
 * The definition canonical JSON must keep, for JSON values: JSON text whose object keys are in sorted order at
 * every depth. (Written out, as an object cannot hold integer-like keys in sorted order: "10" would precede "9".)
 */
function sortedJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(sortedJson).join(",")}]`;
  if (value === null || typeof value !== "object") return JSON.stringify(value);
  const keys = Object.keys(value).sort();
  return `{${keys.map((key) => `${JSON.stringify(key)}:${sortedJson((value as Record<string, unknown>)[key])}`).join(",")}}`;
}

/** The same object with its keys inserted in reverse, at every depth. */
function reversedKeys(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(reversedKeys);
  if (value === null || typeof value !== "object") return value;
  return Object.fromEntries(
    Object.entries(value)
      .reverse()
      .map(([key, item]) => [key, reversedKeys(item)]),
  );
}

describe("canonicalJson", () => {
  it("is the input's JSON with its keys sorted at every depth", () => {
    fc.assert(
      fc.property(fc.jsonValue(), (value) => {
        expect(canonicalJson(value)).toBe(sortedJson(value));
      }),
    );
  });

  it("writes dates and undefined properties as JSON.stringify does", () => {
    expect(canonicalJson({ b: undefined, a: new Date(Date.UTC(2026, 10, 29)) })).toBe(
      '{"a":"2026-11-29T00:00:00.000Z"}',
    );
  });

  it("refuses circular input rather than fingerprinting a placeholder", () => {
    const circular: Record<string, unknown> = {};
    circular.self = circular;
    expect(() => canonicalJson(circular)).toThrow();
  });
});

describe("requestFingerprint", () => {
  it("is the same whatever the order of the input's keys", () => {
    fc.assert(
      fc.property(fc.jsonValue(), (input) => {
        expect(requestFingerprint("orders.place", reversedKeys(input))).toBe(requestFingerprint("orders.place", input));
      }),
    );
  });

  it("differs for another input or another procedure", () => {
    const input = { items: [{ productId: 1, quantity: 2 }] };
    const fingerprint = requestFingerprint("orders.place", input);
    expect(fingerprint).toMatch(/^[0-9a-f]{64}$/);
    expect(requestFingerprint("orders.place", { items: [{ productId: 1, quantity: 3 }] })).not.toBe(fingerprint);
    expect(requestFingerprint("payments.pay", input)).not.toBe(fingerprint);
  });
});
