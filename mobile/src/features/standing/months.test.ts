import { describe, expect, it } from "vitest";
import type { MonthFigures } from "./api";
import { monthRows } from "./months";

const month = (m: number, over: Partial<MonthFigures>): MonthFigures => ({ month: m, published: true, count: 0, withheld: false, overall: null, criteria: [], ...over });

describe("monthRows", () => {
  it("says per month: still open, no ratings, withheld, or its overall mean, in month order", () => {
    const rows = monthRows([
      month(4, { published: false }),
      month(3, { count: 1, withheld: true }),
      month(1, { count: 5, overall: "86.50" }),
      month(2, {}),
    ]);
    expect(rows.map((r) => [r.month, r.state, r.overall])).toEqual([
      [1, "shown", "86.50"],
      [2, "none", null],
      [3, "withheld", null],
      [4, "open", null],
    ]);
  });
  it("never shows a mean the server marks withheld", () => {
    expect(monthRows([month(5, { count: 3, withheld: true, overall: "90.00" })])[0]).toMatchObject({ state: "withheld", overall: null });
  });
});
