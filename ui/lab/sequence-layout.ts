/**
 * The lab's sequence diagrams, as data: which lanes, which arrows on which rows, and where the guarantee acted.
 * Pure (no React, no DOM), so the rules are unit-tested; ui/lab/sequence-diagram.tsx only draws what this returns.
 *
 * The server records one event per step of every attempt (server/lab); a scenario card hands the events of its run,
 * both sides mixed, to one diagram per side.
 */

export type LabStep =
  | "arrived" // the request reached a server process (client -> process)
  | "claimed" // the idempotency key was claimed (process -> key store); detail = the recovery point the claim found
  | "before-commit" // the business write is about to commit (process -> database)
  | "payment_created" // a payment row was committed as pending (process -> database)
  | "charge_attempted" // the payment provider was called with the payment's own key (process -> provider)
  | "twin-order" // the unprotected twin inserted an order, no key (process -> database)
  | "twin-charge" // the unprotected twin's provider charged, no key (process -> provider)
  | "answered"; // the process answered (process -> client); httpStatus 0 = no answer reached the client

export interface LabTimelineEvent {
  /** Increasing; ties in createdAt are ordered by id. */
  id: number;
  /** ISO 8601 with milliseconds. */
  createdAt: string;
  /** The scenario run (uuid). */
  run: string | null;
  /** One id per HTTP attempt: all steps of one request share it. */
  attempt: string | null;
  side: "unprotected" | "protected";
  /** Which browser tab / simulated client sent it, e.g. "tab-1a2b". */
  tab: string | null;
  /** "hostname/pid" of the server process. */
  servedBy: string;
  /** E.g. "orders.place", "payments.pay", "lab.placeOrderUnprotected", "lab.payUnprotected". */
  procedurePath: string;
  idempotencyKey: string | null;
  step: LabStep;
  detail: string | null;
  /** Meaningful on "answered"; 0 = no answer reached the client. */
  httpStatus: number;
  /** On "answered", how it ended ("executed", "replayed", "in flight: retry later (409)", …); else a short note. */
  outcome: string;
}

export type LabSide = LabTimelineEvent["side"];

export type LaneKind = "client" | "process" | "key-store" | "database" | "provider";

export interface Lane {
  /** Unique within one diagram: `client:<tab>`, `process:<servedBy>`, `key-store`, `database`, `provider`. */
  id: string;
  kind: LaneKind;
  label: string;
  /** A lane drawn to show what is missing (the unprotected twin's key store): greyed, never reached. */
  absent: boolean;
  /** The lane's centre (its lifeline). */
  x: number;
}

/** What an arrow goes to: the answer to the client, or what the process asked of which part. */
export type ArrowKind = "request" | "key-store" | "database" | "provider" | "answer";

/** What the answer's arrow ends in: an arrowhead, or a ✕ when nothing reached the client. */
export type ArrowEnd = "head" | "cross";

export type LostKind = "answer lost" | "process killed" | "request lost";

/** The named places where the guarantee acted (protected side only); `data-mark` on the drawing. */
export type MarkName = "replayed" | "waited-then-409" | "key-reused-422" | "resumed";

export interface Mark {
  name: MarkName;
  /** What the badge says, e.g. "resumed at charge_attempted". */
  label: string;
  row: number;
  /** The badge sits right of its arrow, centred on the arrow's line: left edge and width. */
  x: number;
  y: number;
  width: number;
}

export interface Arrow {
  row: number;
  /** The arrow's line. */
  y: number;
  /** The event it draws (the answer's event for the key-store check drawn just before an answer). */
  eventId: number;
  /** The event's step, or "key-check" for the process → key store arrow drawn before a replay, 409 or 422. */
  step: LabStep | "key-check";
  /** 1 for the run's first attempt on this side, in the order attempts first appear. */
  attempt: number;
  /** Milliseconds since this side's first event. */
  elapsedMs: number;
  kind: ArrowKind;
  from: string;
  to: string;
  x1: number;
  /** Where the line stops: the target's lifeline, or short of it for a ✕. */
  x2: number;
  label: string;
  /** The label's centre: over the middle of the arrow, or further right when the label is wider than the arrow. */
  labelX: number;
  end: ArrowEnd;
  lost?: LostKind;
  mark?: Mark;
}

export interface SequenceLayout {
  side: LabSide;
  lanes: Lane[];
  arrows: Arrow[];
  marks: Mark[];
  attempts: number;
  width: number;
  height: number;
  /** A one-line account of the diagram, for its `<desc>`: "3 attempts, 1 order written; answers: …". */
  summary: string;
}

/** The drawing's measures, in SVG user units: compact, since two diagrams share a card's width. */
export const sequenceGeometry = {
  /** Room left of the first lane for each row's time and attempt number. */
  gutterLeft: 44,
  laneGap: 120,
  /** Half the width of a lane's label box. */
  laneHalfWidth: 55,
  /** Room right of the last lane's box. */
  marginRight: 8,
  headerHeight: 44,
  rowHeight: 34,
  footerHeight: 12,
  /** How far short of its target a lost answer's line stops, where its ✕ is drawn. */
  crossInset: 24,
  /** A mark's badge starts this far right of its arrow's right end. */
  badgeGap: 10,
  badgeHeight: 22,
  /** Per character of a badge's label (12px bold sans), plus the badge's padding: generous rather than tight. */
  badgeCharWidth: 7.6,
  badgePadding: 20,
  /** Per character of an arrow's label (13px sans, bold when marked), to keep a badge clear of it. */
  labelCharWidth: 7.2,
} as const;

function pidOf(servedBy: string): string {
  return servedBy.split("/").at(-1) || servedBy;
}

function hostOf(servedBy: string): string {
  const slash = servedBy.lastIndexOf("/");
  return slash > 0 ? servedBy.slice(0, slash) : "";
}

const clientLane = (tab: string | null) => `client:${tab ?? ""}`;
const processLane = (servedBy: string) => `process:${servedBy}`;

/** Time order: createdAt, then id. */
export function inTimeOrder(events: readonly LabTimelineEvent[]): LabTimelineEvent[] {
  return events
    .map((event) => ({ event, at: Date.parse(event.createdAt) }))
    .sort((a, b) => (a.at === b.at || Number.isNaN(a.at - b.at) ? a.event.id - b.event.id : a.at - b.at))
    .map(({ event }) => event);
}

/** Whether no answer reached the client, and why. */
export function lostAnswer(event: LabTimelineEvent): LostKind | null {
  if (event.step !== "answered") return null;
  if (event.httpStatus !== 0 && !event.outcome.includes("answer was lost")) return null;
  if (event.outcome.includes("process killed")) return "process killed";
  if (event.outcome.includes("request lost")) return "request lost";
  return "answer lost";
}

function isReplay(event: LabTimelineEvent): boolean {
  return event.outcome.startsWith("replayed");
}

/** The status the client saw: "200", "200 replayed", "409", … ("" when none arrived). */
export function answerLabel(event: LabTimelineEvent): string {
  if (event.httpStatus === 0) return "";
  return `${event.httpStatus}${isReplay(event) ? " replayed" : ""}`;
}

function resumedAt(event: LabTimelineEvent): string | null {
  return event.step === "claimed" && event.detail !== null && event.detail !== "started" ? event.detail : null;
}

function plural(count: number, one: string, many = `${one}s`): string {
  return `${count} ${count === 1 ? one : many}`;
}

interface Draft {
  event: LabTimelineEvent;
  step: Arrow["step"];
  kind: ArrowKind;
  from: string;
  to: string;
  label: string;
  end: ArrowEnd;
  lost?: LostKind;
  mark?: { name: MarkName; label: string };
}

/**
 * The process → key store (or database) arrow drawn just before an answer the guarantee gave: a replay, a 409 or
 * a 422. A 409 from an attempt that did claim its own key came from the business rows, not from the key store (two
 * tabs paying one order, each with its own key): that arrow goes to the database.
 */
function guardBeforeAnswer(event: LabTimelineEvent, claimedOwnKey: boolean): Omit<Draft, "event" | "from"> | null {
  const guard = (to: "key-store" | "database", label: string, name: MarkName, badge: string) =>
    ({ step: "key-check", kind: to, to, label, end: "head", mark: { name, label: badge } }) as const;
  if (isReplay(event)) return guard("key-store", "key completed: replay stored answer", "replayed", "replayed");
  if (event.httpStatus === 409 && claimedOwnKey) {
    return guard("database", "order held by another payment: 409", "waited-then-409", "order held, then 409");
  }
  if (event.httpStatus === 409) {
    return guard("key-store", "key in flight: waited, then 409", "waited-then-409", "waited, then 409");
  }
  if (event.httpStatus === 422) {
    return guard("key-store", "same key, other request: 422", "key-reused-422", "key reused: 422");
  }
  return null;
}

function draftsOf(event: LabTimelineEvent, side: LabSide, claimedOwnKey: boolean): Draft[] {
  const client = clientLane(event.tab);
  const process = processLane(event.servedBy);
  const from = process;
  switch (event.step) {
    case "arrived": {
      const key = event.idempotencyKey ? event.idempotencyKey.slice(0, 8) : "no key";
      return [
        {
          event,
          step: "arrived",
          kind: "request",
          from: client,
          to: process,
          label: `${event.procedurePath} · ${key}`,
          end: "head",
        },
      ];
    }
    case "claimed": {
      const resumed = resumedAt(event);
      const label = resumed ? `resume at ${resumed}` : "claim key";
      const mark =
        resumed && side === "protected" ? ({ name: "resumed", label: `resumed at ${resumed}` } as const) : undefined;
      return [{ event, step: "claimed", kind: "key-store", from, to: "key-store", label, end: "head", mark }];
    }
    case "before-commit":
      return [
        { event, step: event.step, kind: "database", from, to: "database", label: "write + commit", end: "head" },
      ];
    case "payment_created":
      return [
        { event, step: event.step, kind: "database", from, to: "database", label: "payment pending", end: "head" },
      ];
    case "charge_attempted":
      return [
        { event, step: event.step, kind: "provider", from, to: "provider", label: "charge, own key", end: "head" },
      ];
    case "twin-order":
      return [
        {
          event,
          step: event.step,
          kind: "database",
          from,
          to: "database",
          label: "insert order (no key)",
          end: "head",
        },
      ];
    case "twin-charge":
      return [
        { event, step: event.step, kind: "provider", from, to: "provider", label: "charge (no key)", end: "head" },
      ];
    case "answered": {
      const drafts: Draft[] = [];
      // The twin has no key store: its 409s (if any) are not the guarantee's.
      const guard = side === "protected" ? guardBeforeAnswer(event, claimedOwnKey) : null;
      if (guard) drafts.push({ event, from, ...guard });
      const lost = lostAnswer(event);
      const status = answerLabel(event);
      if (lost) {
        const label = status ? `${status}, ${lost}` : lost;
        drafts.push({ event, step: "answered", kind: "answer", from, to: client, label, end: "cross", lost });
      } else {
        drafts.push({ event, step: "answered", kind: "answer", from, to: client, label: status, end: "head" });
      }
      return drafts;
    }
    default:
      // A step this page does not know yet (a newer server): not drawn rather than drawn wrong.
      return [];
  }
}

/** The diagram of one side of a run: `events` may hold both sides; only `side`'s are drawn. */
export function layoutSequence(events: readonly LabTimelineEvent[], side: LabSide): SequenceLayout {
  const g = sequenceGeometry;
  const ordered = inTimeOrder(events.filter((event) => event.side === side));

  const clients: string[] = [];
  const processes: string[] = [];
  const attemptIds: string[] = [];
  const claimedAttempts = new Set<string>();
  const attemptOf = (event: LabTimelineEvent) => event.attempt ?? `event:${event.id}`;
  for (const event of ordered) {
    const tab = event.tab ?? "";
    if (!clients.includes(tab)) clients.push(tab);
    if (!processes.includes(event.servedBy)) processes.push(event.servedBy);
    if (!attemptIds.includes(attemptOf(event))) attemptIds.push(attemptOf(event));
    if (event.step === "claimed") claimedAttempts.add(attemptOf(event));
  }

  const pids = processes.map(pidOf);
  const laneDrafts: Omit<Lane, "x">[] = [
    ...(clients.length > 0 ? clients : [""]).map((tab) => ({
      id: clientLane(tab || null),
      kind: "client" as const,
      label: tab ? `client ${tab}` : "client",
      absent: false,
    })),
    ...processes.map((servedBy) => {
      const pid = pidOf(servedBy);
      // Two hosts may run the same pid: then the host tells them apart.
      const shared = pids.indexOf(pid) !== pids.lastIndexOf(pid);
      const host = hostOf(servedBy);
      return {
        id: processLane(servedBy),
        kind: "process" as const,
        label: shared && host ? `process ${pid} (${host})` : `process ${pid}`,
        absent: false,
      };
    }),
    // The unprotected twin has no key store. Its lane is still drawn, greyed and never reached, labelled "no key
    // store": the missing guard is the lesson, and both diagrams of a card keep the same columns side by side.
    {
      id: "key-store",
      kind: "key-store",
      label: side === "protected" ? "key store" : "no key store",
      absent: side === "unprotected",
    },
    { id: "database", kind: "database", label: "database", absent: false },
    { id: "provider", kind: "provider", label: "provider", absent: false },
  ];
  const lanes: Lane[] = laneDrafts.map((lane, index) => ({
    ...lane,
    x: g.gutterLeft + g.laneHalfWidth + index * g.laneGap,
  }));
  const xOf = new Map(lanes.map((lane) => [lane.id, lane.x]));
  const x = (id: string) => xOf.get(id) ?? 0;

  const start = ordered.length > 0 ? Date.parse((ordered[0] as LabTimelineEvent).createdAt) : 0;
  const arrows: Arrow[] = [];
  const marks: Mark[] = [];
  for (const event of ordered) {
    for (const draft of draftsOf(event, side, claimedAttempts.has(attemptOf(event)))) {
      const row = arrows.length;
      const y = g.headerHeight + g.rowHeight * (row + 0.5) + 6;
      const x1 = x(draft.from);
      const target = x(draft.to);
      const x2 = draft.end === "cross" ? target + Math.sign(x1 - target) * g.crossInset : target;
      // A label wider than its arrow starts at the arrow's left end rather than spilling over the lanes to its left.
      const labelHalf = (draft.label.length * g.labelCharWidth) / 2;
      const labelX = Math.max((x1 + x2) / 2, Math.min(x1, x2) + 4 + labelHalf);
      const mark = draft.mark
        ? {
            ...draft.mark,
            row,
            // Right of the arrow and clear of its label.
            x: Math.max(x1, x2, labelX + labelHalf) + g.badgeGap,
            y,
            width: Math.ceil(draft.mark.label.length * g.badgeCharWidth + g.badgePadding),
          }
        : undefined;
      if (mark) marks.push(mark);
      const elapsed = Date.parse(event.createdAt) - start;
      arrows.push({
        row,
        y,
        eventId: event.id,
        step: draft.step,
        attempt: attemptIds.indexOf(attemptOf(event)) + 1,
        elapsedMs: Number.isNaN(elapsed) ? 0 : elapsed,
        kind: draft.kind,
        from: draft.from,
        to: draft.to,
        x1,
        x2,
        label: draft.label,
        labelX,
        end: draft.end,
        ...(draft.lost ? { lost: draft.lost } : {}),
        ...(mark ? { mark } : {}),
      });
    }
  }

  const lastLaneX = lanes.at(-1)?.x ?? 0;
  const right = Math.max(lastLaneX + g.laneHalfWidth, ...marks.map((mark) => mark.x + mark.width));
  return {
    side,
    lanes,
    arrows,
    marks,
    attempts: attemptIds.length,
    width: right + g.marginRight,
    height: g.headerHeight + g.rowHeight * Math.max(arrows.length, 1) + g.footerHeight,
    summary: summaryOf(ordered, side, attemptIds.length, marks),
  };
}

function summaryOf(events: LabTimelineEvent[], side: LabSide, attempts: number, marks: Mark[]): string {
  if (events.length === 0) return "No attempt yet.";
  const count = (step: LabStep, where: (event: LabTimelineEvent) => boolean = () => true) =>
    events.filter((event) => event.step === step && where(event)).length;
  const orders = count("twin-order") + count("before-commit", (event) => event.procedurePath === "orders.place");
  const paymentRows = count("payment_created");
  const twinCharges = count("twin-charge");
  const charges = events.filter((event) => event.step === "charge_attempted");
  const chargeKeys = new Set(charges.map((event) => event.idempotencyKey ?? `event:${event.id}`)).size;

  const facts = [plural(attempts, "attempt")];
  if (orders > 0 || (paymentRows === 0 && twinCharges === 0 && charges.length === 0)) {
    facts.push(`${plural(orders, "order")} written`);
  }
  if (paymentRows > 0) facts.push(`${plural(paymentRows, "payment")} created`);
  if (twinCharges > 0) facts.push(`${plural(twinCharges, "charge")} without a key`);
  if (charges.length > 0) {
    const keys = chargeKeys > 1 ? ` (${chargeKeys} payments)` : "";
    facts.push(`provider asked ${plural(charges.length, "time")} with the payment's own key${keys}`);
  }
  const answers = events
    .filter((event) => event.step === "answered")
    .map((event) => {
      const lost = lostAnswer(event);
      const status = answerLabel(event);
      return lost ? `${status ? `${status}, ` : ""}${lost}` : status;
    });
  let summary = `${facts.join(", ")}.`;
  if (answers.length > 0) summary += ` Answers: ${answers.join("; ")}.`;
  if (side === "protected" && marks.length > 0) {
    summary += ` The guarantee acted: ${marks.map((mark) => mark.label).join("; ")}.`;
  }
  return summary;
}
