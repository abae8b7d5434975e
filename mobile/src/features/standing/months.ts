// What each month's row says: the weighted overall mean, or why there is none.
import type { MonthFigures } from "./api";

export type MonthState = "open" | "none" | "withheld" | "shown";

export interface MonthRow {
  month: number;
  state: MonthState;
  overall: string | null; // shown only when state is "shown"
  count: number;
}

/** One row per month, in calendar order: not yet ended ("open"), no ratings
 *  ("none"), fewer than the minimum group ("withheld"), or its overall mean. */
export function monthRows(months: MonthFigures[]): MonthRow[] {
  return [...months]
    .sort((a, b) => a.month - b.month)
    .map((m) => {
      const state: MonthState = !m.published ? "open" : m.count === 0 ? "none" : m.withheld || m.overall === null ? "withheld" : "shown";
      return { month: m.month, state, overall: state === "shown" ? m.overall : null, count: m.count };
    });
}
