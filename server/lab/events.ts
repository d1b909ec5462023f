/** The lab's timeline: one row per attempt, read by every server process (it lives in the database). */
import { and, asc, eq, gt } from "drizzle-orm";
import type { Executor } from "@/db/client";
import { labEvents } from "@/db/schema";

export type LabEvent = typeof labEvents.$inferSelect;
export type NewLabEvent = typeof labEvents.$inferInsert;

export async function recordLabEvent(db: Executor, event: NewLabEvent): Promise<void> {
  await db.insert(labEvents).values(event);
}

/** A guest's attempts after `afterId`, oldest first, at most `limit`. */
export function labEventsAfter(db: Executor, labSession: string, afterId: number, limit = 100): Promise<LabEvent[]> {
  return db
    .select()
    .from(labEvents)
    .where(and(eq(labEvents.labSession, labSession), gt(labEvents.id, afterId)))
    .orderBy(asc(labEvents.id))
    .limit(limit);
}

/** How an answer reads on the timeline. */
export function outcomeOfAnswer(status: number, replayed: boolean): string {
  if (status === 200) return replayed ? "replayed" : "executed";
  const named: Record<number, string> = {
    400: "refused: bad request (400)",
    409: "in flight: retry later (409)",
    422: "refused: key reused for another request (422)",
    429: "rate limited (429)",
    503: "unavailable: retry (503)",
    504: "no answer from the provider: retry (504)",
  };
  return named[status] ?? `answered ${status}`;
}
