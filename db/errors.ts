/**
 * What the MySQL/MariaDB driver's errors mean: which are worth a retry, and which unique key refused a write.
 * Used by the stores, the services and the tRPC setup alike.
 */
const transientCodes = new Set([
  "ECONNREFUSED",
  "ECONNRESET",
  "ETIMEDOUT",
  "EPIPE",
  "PROTOCOL_CONNECTION_LOST",
  "PROTOCOL_SEQUENCE_TIMEOUT",
  "ER_CON_COUNT_ERROR",
  "ER_LOCK_DEADLOCK",
  "ER_LOCK_WAIT_TIMEOUT",
  "ER_SERVER_SHUTDOWN",
  "POOL_CLOSED",
]);

/** The driver error codes along an error's cause chain (Drizzle wraps mysql2 errors in DrizzleQueryError). */
export function driverErrorCodes(error: unknown): string[] {
  const codes: string[] = [];
  for (let current = error; current instanceof Error || isObject(current); ) {
    const code = (current as { code?: unknown }).code;
    if (typeof code === "string") codes.push(code);
    const next = (current as { cause?: unknown }).cause;
    if (next === current) break;
    current = next;
  }
  return codes;
}

function isObject(value: unknown): value is object {
  return typeof value === "object" && value !== null;
}

/**
 * A database outage, a lost connection or a lock timeout: worth a retry, never a final answer. mysql2 marks an
 * error that ended its connection `fatal`, often without a code (a query sent on a connection that had already
 * died fails with "Can't add new command when connection is in closed state").
 */
export function isTransientInfrastructureError(error: unknown): boolean {
  for (let current = error; current instanceof Error || isObject(current); ) {
    if ((current as { fatal?: unknown }).fatal === true) return true;
    const next = (current as { cause?: unknown }).cause;
    if (next === current) break;
    current = next;
  }
  return driverErrorCodes(error).some((code) => transientCodes.has(code));
}

/** A unique key refused the write; with `keyName`, that key in particular (e.g. "PRIMARY"). */
export function isDuplicateKeyError(error: unknown, keyName?: string): boolean {
  if (!driverErrorCodes(error).includes("ER_DUP_ENTRY")) return false;
  if (keyName === undefined) return true;
  const messages: string[] = [];
  for (let current = error; current instanceof Error; current = current.cause) {
    messages.push((current as { sqlMessage?: string }).sqlMessage ?? current.message);
    if (current.cause === current) break;
  }
  // MariaDB names the key ('PRIMARY'), MySQL 8 the table too ('orders.PRIMARY').
  return messages.some((message) => new RegExp(`for key '(?:[^']*\\.)?${keyName}'$`).test(message));
}
