import { describe, expect, it } from "vitest";
import { inTimeOrder, type LabTimelineEvent, layoutSequence } from "./sequence-layout";

const key = "5f0c1e2a-9b7d-4c3e-8a1f-0123456789ab";
let nextId = 1;

/** One event of the protected side, at `ms` milliseconds after a fixed start. */
function event(ms: number, fields: Partial<LabTimelineEvent> & Pick<LabTimelineEvent, "step">): LabTimelineEvent {
  return {
    id: nextId++,
    createdAt: new Date(Date.UTC(2026, 0, 1, 12, 0, 0, ms)).toISOString(),
    run: "run-1",
    attempt: "attempt-1",
    side: "protected",
    tab: "tab-1a2b",
    servedBy: "host-a/4242",
    procedurePath: "orders.place",
    idempotencyKey: key,
    detail: null,
    httpStatus: 0,
    outcome: fields.step,
    ...fields,
  };
}

const answered = (ms: number, attempt: string, httpStatus: number, outcome: string) =>
  event(ms, { step: "answered", attempt, httpStatus, outcome });

/** Two sends with one key: the second waits for the first and replays it. */
function doubleClick(): LabTimelineEvent[] {
  return [
    event(0, { step: "arrived", attempt: "a" }),
    event(1, { step: "arrived", attempt: "b" }),
    event(3, { step: "claimed", attempt: "a", detail: "started" }),
    event(8, { step: "before-commit", attempt: "a" }),
    answered(10, "a", 200, "executed"),
    answered(30, "b", 200, "replayed"),
  ];
}

describe("layoutSequence", () => {
  it("draws a double click: client, process, key store, database, provider, and one replay", () => {
    const layout = layoutSequence(doubleClick(), "protected");
    expect(layout.lanes.map((lane) => lane.kind)).toEqual(["client", "process", "key-store", "database", "provider"]);
    expect(layout.lanes.map((lane) => lane.label)).toEqual([
      "client tab-1a2b",
      "process 4242",
      "key store",
      "database",
      "provider",
    ]);
    expect(layout.marks.map((mark) => mark.name)).toEqual(["replayed"]);
    expect(layout.attempts).toBe(2);
    // Six events and the key-store check drawn before the replayed answer.
    expect(layout.arrows.map((arrow) => [arrow.step, arrow.label])).toEqual([
      ["arrived", `orders.place · ${key.slice(0, 8)}`],
      ["arrived", `orders.place · ${key.slice(0, 8)}`],
      ["claimed", "claim key"],
      ["before-commit", "write + commit"],
      ["answered", "200"],
      ["key-check", "key completed: replay stored answer"],
      ["answered", "200 replayed"],
    ]);
    const check = layout.arrows[5];
    expect(check?.mark?.name).toBe("replayed");
    expect(check?.to).toBe("key-store");
    expect(layout.summary).toMatch(/^2 attempts, 1 order written\./);
    // Lanes left to right, rows top to bottom.
    const xs = layout.lanes.map((lane) => lane.x);
    expect(xs).toEqual([...xs].sort((a, b) => a - b));
    const ys = layout.arrows.map((arrow) => arrow.y);
    expect(new Set(ys).size).toBe(ys.length);
    expect(layout.width).toBeGreaterThan(xs.at(-1) as number);
    expect(layout.height).toBeGreaterThan(ys.at(-1) as number);
  });

  it("marks a 409 from a duplicate that waited for the original", () => {
    const layout = layoutSequence(
      [
        event(0, { step: "arrived", attempt: "a" }),
        event(2, { step: "claimed", attempt: "a", detail: "started" }),
        event(300, { step: "arrived", attempt: "b" }),
        answered(2300, "b", 409, "in flight: retry later (409)"),
      ],
      "protected",
    );
    expect(layout.marks.map((mark) => mark.name)).toEqual(["waited-then-409"]);
    const check = layout.arrows.find((arrow) => arrow.step === "key-check");
    expect(check?.label).toBe("key in flight: waited, then 409");
    expect(layout.arrows.at(-1)?.label).toBe("409");
  });

  it("sends a 409 of an attempt that claimed its own key to the database: the order was held", () => {
    const layout = layoutSequence(
      [
        event(0, { step: "arrived", attempt: "b", procedurePath: "payments.pay" }),
        event(2, { step: "claimed", attempt: "b", detail: "started", procedurePath: "payments.pay" }),
        answered(9, "b", 409, "in flight: retry later (409)"),
      ],
      "protected",
    );
    expect(layout.marks.map((mark) => mark.name)).toEqual(["waited-then-409"]);
    expect(layout.arrows.find((arrow) => arrow.step === "key-check")?.to).toBe("database");
  });

  it("marks a key reused for another request", () => {
    const layout = layoutSequence(
      [
        event(0, { step: "arrived", attempt: "b" }),
        answered(3, "b", 422, "refused: key reused for another request (422)"),
      ],
      "protected",
    );
    expect(layout.marks.map((mark) => mark.name)).toEqual(["key-reused-422"]);
    expect(layout.arrows.find((arrow) => arrow.step === "key-check")?.label).toBe("same key, other request: 422");
  });

  it("marks a claim that resumed at a recovery point", () => {
    const layout = layoutSequence(
      [
        event(0, { step: "arrived", procedurePath: "payments.pay" }),
        event(2, { step: "claimed", detail: "charge_attempted", procedurePath: "payments.pay" }),
        event(40, { step: "charge_attempted", procedurePath: "payments.pay" }),
        answered(60, "attempt-1", 200, "executed"),
      ],
      "protected",
    );
    expect(layout.marks).toEqual([expect.objectContaining({ name: "resumed", label: "resumed at charge_attempted" })]);
    expect(layout.arrows[1]?.label).toBe("resume at charge_attempted");
    expect(layout.arrows[2]).toMatchObject({ kind: "provider", label: "charge, own key", to: "provider" });
  });

  it("draws the unprotected twin without marks and with a greyed key store that nothing reaches", () => {
    const twin = (fields: Partial<LabTimelineEvent> & Pick<LabTimelineEvent, "step">) =>
      event(0, { side: "unprotected", idempotencyKey: null, procedurePath: "lab.placeOrderUnprotected", ...fields });
    const layout = layoutSequence(
      [
        twin({ step: "arrived", attempt: "a" }),
        twin({ step: "twin-order", attempt: "a" }),
        twin({ step: "answered", attempt: "a", httpStatus: 200, outcome: "executed, then the answer was lost" }),
        twin({ step: "arrived", attempt: "b" }),
        twin({ step: "twin-order", attempt: "b" }),
        twin({ step: "answered", attempt: "b", httpStatus: 200, outcome: "replayed" }),
        twin({ step: "answered", attempt: "c", httpStatus: 409, outcome: "in flight: retry later (409)" }),
        // The protected side's events are not this diagram's.
        event(1, { step: "arrived" }),
        event(2, { step: "claimed", detail: "payment_created" }),
      ],
      "unprotected",
    );
    expect(layout.marks).toEqual([]);
    expect(layout.arrows.every((arrow) => arrow.mark === undefined)).toBe(true);
    expect(layout.arrows.some((arrow) => arrow.to === "key-store")).toBe(false);
    expect(layout.lanes.find((lane) => lane.kind === "key-store")).toMatchObject({
      label: "no key store",
      absent: true,
    });
    expect(layout.arrows[0]?.label).toBe("lab.placeOrderUnprotected · no key");
    // Wider than its arrow: it starts at the arrow's left end instead of spilling into the lanes on its left.
    const arrival = layout.arrows[0] as { x1: number; x2: number; labelX: number };
    expect(arrival.labelX).toBeGreaterThan((arrival.x1 + arrival.x2) / 2);
    expect(layout.arrows[1]).toMatchObject({ label: "insert order (no key)", to: "database" });
    expect(layout.summary).toMatch(/^3 attempts, 2 orders written\./);
  });

  it("orders rows by createdAt, then by id", () => {
    const at = "2026-01-01T12:00:00.500Z";
    const shuffled: LabTimelineEvent[] = [
      { ...event(0, { step: "answered", httpStatus: 200, outcome: "executed" }), id: 40, createdAt: at },
      { ...event(0, { step: "before-commit" }), id: 12, createdAt: at },
      { ...event(0, { step: "arrived" }), id: 50, createdAt: "2026-01-01T12:00:00.100Z" },
      { ...event(0, { step: "claimed", detail: "started" }), id: 30, createdAt: "2026-01-01T12:00:00.200Z" },
    ];
    expect(inTimeOrder(shuffled).map((e) => e.id)).toEqual([50, 30, 12, 40]);
    const layout = layoutSequence(shuffled, "protected");
    expect(layout.arrows.map((arrow) => [arrow.eventId, arrow.row])).toEqual([
      [50, 0],
      [30, 1],
      [12, 2],
      [40, 3],
    ]);
    expect(layout.arrows.map((arrow) => arrow.elapsedMs)).toEqual([0, 100, 400, 400]);
  });

  it("ends an answer that never reached the client in a ✕, short of the client", () => {
    const layout = layoutSequence(
      [
        event(0, { step: "arrived" }),
        event(1, { step: "claimed", detail: "started" }),
        event(2, { step: "before-commit" }),
        answered(3, "attempt-1", 200, "executed, then the answer was lost"),
        answered(10, "attempt-2", 0, "request lost before the server: nothing ran"),
        event(20, { step: "arrived", attempt: "attempt-3", procedurePath: "payments.pay" }),
        answered(30, "attempt-3", 0, "process killed at charge_attempted"),
      ],
      "protected",
    );
    const answers = layout.arrows.filter((arrow) => arrow.step === "answered");
    expect(answers.map((arrow) => [arrow.end, arrow.lost, arrow.label])).toEqual([
      ["cross", "answer lost", "200, answer lost"],
      ["cross", "request lost", "request lost"],
      ["cross", "process killed", "process killed"],
    ]);
    const client = layout.lanes[0] as { x: number };
    for (const arrow of answers) {
      expect(arrow.x2).toBeGreaterThan(client.x);
      expect(arrow.x2).toBeLessThan(arrow.x1);
    }
    expect(layout.marks).toEqual([]);
  });

  it("gives each tab and each process its own lane, in order of appearance", () => {
    const layout = layoutSequence(
      [
        event(0, { step: "arrived", tab: "tab-2", servedBy: "host-a/7", attempt: "a" }),
        event(1, { step: "arrived", tab: "tab-1", servedBy: "host-a/9", attempt: "b" }),
        { ...answered(5, "a", 200, "executed"), tab: "tab-2", servedBy: "host-a/7" },
        { ...answered(6, "b", 200, "replayed"), tab: "tab-1", servedBy: "host-b/7" },
      ],
      "protected",
    );
    expect(layout.lanes.map((lane) => lane.label)).toEqual([
      "client tab-2",
      "client tab-1",
      "process 7 (host-a)",
      "process 9",
      "process 7 (host-b)",
      "key store",
      "database",
      "provider",
    ]);
    expect(layout.arrows.at(-1)).toMatchObject({ from: "process:host-b/7", to: "client:tab-1" });
  });

  it("has nothing to draw before the first attempt", () => {
    const layout = layoutSequence([], "protected");
    expect(layout.arrows).toEqual([]);
    expect(layout.attempts).toBe(0);
    expect(layout.summary).toBe("No attempt yet.");
  });
});
