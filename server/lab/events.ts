/**
 * The lab's timeline: one row per step of each attempt, in the database so that every lab process sees every
 * other's. Each process reads new rows with one query per interval, whatever the number of live timelines, and
 * fans them out to its subscribers; a subscriber catches up on its own rows once, when it subscribes.
 */
import { and, asc, eq, gt, max } from "drizzle-orm";
import type { Executor } from "@/db/client";
import { labEvents } from "@/db/schema";

export type LabEvent = typeof labEvents.$inferSelect;
export type NewLabEvent = typeof labEvents.$inferInsert;

export async function recordLabEvents(db: Executor, events: NewLabEvent[]): Promise<void> {
  if (events.length > 0) await db.insert(labEvents).values(events);
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

/** How often a process looks for new rows while anyone is watching. */
const pollMs = 300;
const pageSize = 500;

type Listener = (events: LabEvent[]) => void;

/** One reader per process for every live timeline it serves. */
export class LabEventFeed {
  private readonly listeners = new Map<string, Set<Listener>>();
  private cursor: number | null = null;
  private timer: NodeJS.Timeout | null = null;

  constructor(private readonly db: () => Executor) {}

  /** Calls `listener` with each new batch of the session's events until the returned function is called. */
  subscribe(labSession: string, listener: Listener): () => void {
    const own = this.listeners.get(labSession) ?? new Set<Listener>();
    own.add(listener);
    this.listeners.set(labSession, own);
    this.timer ??= setTimeout(() => void this.poll(), 0);
    return () => {
      own.delete(listener);
      if (own.size === 0) this.listeners.delete(labSession);
    };
  }

  /** A session's events after `afterId`, oldest first (a subscriber's catch-up). */
  backlog(labSession: string, afterId: number, limit = pageSize): Promise<LabEvent[]> {
    return this.db()
      .select()
      .from(labEvents)
      .where(and(eq(labEvents.labSession, labSession), gt(labEvents.id, afterId)))
      .orderBy(asc(labEvents.id))
      .limit(limit);
  }

  private async poll(): Promise<void> {
    try {
      if (this.cursor === null) {
        const [row] = await this.db()
          .select({ last: max(labEvents.id) })
          .from(labEvents);
        this.cursor = row?.last ?? 0;
      }
      for (;;) {
        const rows = await this.db()
          .select()
          .from(labEvents)
          .where(gt(labEvents.id, this.cursor))
          .orderBy(asc(labEvents.id))
          .limit(pageSize);
        if (rows.length === 0) break;
        this.cursor = rows.at(-1)?.id ?? this.cursor;
        this.dispatch(rows);
        if (rows.length < pageSize) break;
      }
    } catch (error) {
      console.error("lab: the timeline could not be read:", error instanceof Error ? error.message : error);
    }
    // Nobody watching: stop reading, and start again from the newest row when someone does.
    if (this.listeners.size === 0) {
      this.timer = null;
      this.cursor = null;
      return;
    }
    this.timer = setTimeout(() => void this.poll(), pollMs);
  }

  private dispatch(rows: LabEvent[]): void {
    const bySession = new Map<string, LabEvent[]>();
    for (const row of rows) {
      if (!this.listeners.has(row.labSession)) continue;
      const batch = bySession.get(row.labSession) ?? [];
      batch.push(row);
      bySession.set(row.labSession, batch);
    }
    for (const [labSession, batch] of bySession) {
      for (const listener of this.listeners.get(labSession) ?? []) listener(batch);
    }
  }
}
