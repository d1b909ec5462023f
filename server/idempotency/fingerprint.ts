import { hash } from "node:crypto";

/** JSON with object keys sorted at every depth, so equal inputs have equal text whatever their key order. */
export function canonicalJson(value: unknown): string {
  return JSON.stringify(value, (_key, item) =>
    item && typeof item === "object" && !Array.isArray(item)
      ? Object.fromEntries(Object.entries(item).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)))
      : item,
  );
}

/** SHA-256 (hex) of the procedure path and the canonical input (without the idempotency key). */
export function requestFingerprint(procedurePath: string, input: unknown): string {
  return hash("sha256", `${procedurePath}\n${canonicalJson(input) ?? "null"}`, "hex");
}
