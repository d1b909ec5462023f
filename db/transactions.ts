/**
 * A transaction that lost a race to another one is run again, a few times at most. On one server that is an InnoDB
 * deadlock; on a Galera cluster it is also the everyday way a loser on another node learns of the winner: its
 * writes fail certification and it gets ER_LOCK_DEADLOCK (1213) at any statement or at COMMIT, never a lock wait.
 * The transaction was rolled back whole, so running it again is safe as long as it touches nothing but the
 * database, which is the rule for every transaction here. Run again, it meets the winner's rows: a duplicate key,
 * a held order or a completed idempotency key, and answers as it would have on one server.
 */
import { driverErrorCodes } from "./errors";

/** Runs of one transaction, in all, before its 1213 goes to the caller (as 503, retry). */
export const transactionRuns = 4;

const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

export function isDeadlock(error: unknown): boolean {
  return driverErrorCodes(error).includes("ER_LOCK_DEADLOCK");
}

export async function rerunOnDeadlock<T>(transaction: () => Promise<T>): Promise<T> {
  for (let run = 1; ; run += 1) {
    try {
      return await transaction();
    } catch (error) {
      if (run >= transactionRuns || !isDeadlock(error)) throw error;
      // A few milliseconds, spread, so that racers do not meet again at once.
      await pause(Math.random() * 5 * run);
    }
  }
}
