import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { isoTimestamp } from "./iso-time";

describe("isoTimestamp", () => {
  it("writes what toISOString writes, for any valid date", () => {
    fc.assert(
      fc.property(fc.date({ noInvalidDate: true }), (date) => {
        expect(isoTimestamp(date)).toBe(date.toISOString());
      }),
      { numRuns: 2000 },
    );
  });

  it("writes what toISOString writes around day boundaries and before 1970", () => {
    for (const time of [0, -1, 86_399_999, 86_400_000, -86_400_000, Date.UTC(2026, 11, 31, 23, 59, 59, 999)]) {
      const date = new Date(time);
      expect(isoTimestamp(date)).toBe(date.toISOString());
    }
  });

  it("throws for an invalid date, as toISOString does", () => {
    expect(() => isoTimestamp(new Date(Number.NaN))).toThrow(RangeError);
  });
});
