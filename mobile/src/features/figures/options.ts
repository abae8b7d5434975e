// Data → ECharts option, as pure functions (no DOM, no ECharts import): the app's figures
// screen and the back office's dashboard (src/dashboard.ts) draw the same charts from them.
// Every value a chart shows is printed on it (labels on bars, marks named), rounded once
// from the exact figure the API gives; axes carry their unit. `scale` grows the type from a
// phone (1) to a wall screen (2).
import type { Categories, DepartmentRow, Distribution, Place, TrendRow } from "./api";

/** Translate a message key of `figures.*` (vue-i18n's `t`, or the dashboard's own). */
export type Msg = (key: string, params?: Record<string, unknown>) => string;

// Plain object types: the option is data (ECharts' own types would pull its code into tests).
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type Option = Record<string, any>;

export const COLORS = { raised: "#1989fa", closed: "#07c160", overdue: "#ee0a24", bar: "#1989fa", mark: "#ff976a", p90: "#ee0a24" };

/** `value` rounded once to `places` decimals ("—" for none). */
export function fixed(value: number | null | undefined, places = 1): string {
  return value === null || value === undefined || !Number.isFinite(value) ? "—" : value.toFixed(places);
}

/** `part / whole` as a percentage rounded once to 0.1 (from the counts, not a rounded ratio). */
export function percent(part: number, whole: number): number | null {
  return whole ? Number(((100 * part) / whole).toFixed(1)) : null;
}

/** Seconds in the distribution's unit, rounded once to 0.1. */
export function inUnit(seconds: number | null, unitSeconds: number): string {
  return seconds === null ? "—" : fixed(seconds / unitSeconds, 1);
}

function text(scale: number) {
  return { fontSize: Math.round(12 * scale) };
}

function title(label: string, scale: number): Option {
  return { text: label, left: 8, top: 4, textStyle: { fontSize: Math.round(15 * scale), fontWeight: "bold" } };
}

/** Cases raised, closed and overdue per period: grouped bars, each labelled with its count. */
export function trendOption(rows: TrendRow[], t: Msg, scale = 1): Option {
  const label = { show: true, position: "top", ...text(scale) };
  const series = (["raised", "closed", "overdue"] as const).map((key) => ({
    name: t(`figures.trend.${key}`),
    type: "bar",
    data: rows.map((r) => r[key]),
    itemStyle: { color: COLORS[key] },
    label,
    labelLayout: { hideOverlap: true },
  }));
  return {
    animation: false,
    title: title(t("figures.trend.title"), scale),
    legend: { top: 30 * scale, textStyle: text(scale) },
    tooltip: { trigger: "axis" },
    grid: { left: 48 * scale, right: 12, top: 64 * scale, bottom: 56 * scale, containLabel: false },
    xAxis: { type: "category", data: rows.map((r) => r.period), axisLabel: { ...text(scale), hideOverlap: true } },
    yAxis: { type: "value", name: t("figures.trend.axis"), nameTextStyle: text(scale), minInterval: 1, axisLabel: text(scale) },
    series,
  };
}

/** Where a time falls on a histogram's category axis: bin i spans [i − ½, i + ½]. */
export function binPosition(seconds: number, width: number, bins: number): number {
  return Math.min(seconds / width - 0.5, bins - 0.5);
}

/** A histogram of one time with its median and 90th percentile marked and named. */
export function histogramOption(d: Distribution, kind: "response" | "handling", t: Msg, scale = 1): Option {
  const per = d.unit_seconds;
  const unit = d.unit === "minute" ? t("figures.headline.minutes", { value: "" }).trim() : t("figures.headline.hours", { value: "" }).trim();
  const edge = (s: number) => fixed(s / per, s % per === 0 ? 0 : 1);
  const names = d.bins.map((b) => (b.end === null ? t("figures.histogram.openBin", { start: edge(b.start) }) : `${edge(b.start)}–${edge(b.end)}`));
  const marks = [];
  if (d.p50 !== null)
    marks.push({
      name: "p50",
      xAxis: binPosition(d.p50, d.width, d.bins.length),
      lineStyle: { color: COLORS.mark, type: "dashed", width: 2 },
      label: { formatter: t("figures.histogram.median", { value: `${inUnit(d.p50, per)} ${unit}` }), position: "end", ...text(scale) },
    });
  if (d.p90 !== null)
    marks.push({
      name: "p90",
      xAxis: binPosition(d.p90, d.width, d.bins.length),
      lineStyle: { color: COLORS.p90, type: "dashed", width: 2 },
      label: { formatter: t("figures.histogram.p90", { value: `${inUnit(d.p90, per)} ${unit}` }), position: "insideEndTop", ...text(scale) },
    });
  return {
    animation: false,
    title: title(t(`figures.histogram.${kind}Title`), scale),
    tooltip: { trigger: "axis" },
    grid: { left: 44 * scale, right: 16, top: 56 * scale, bottom: 64 * scale },
    xAxis: {
      type: "category",
      data: names,
      name: t(d.unit === "minute" ? "figures.histogram.axisMinutes" : "figures.histogram.axisHours"),
      nameLocation: "middle",
      nameGap: 40 * scale,
      nameTextStyle: text(scale),
      axisLabel: { ...text(scale * 0.85), rotate: 30, interval: 0 },
    },
    yAxis: { type: "value", name: t("figures.histogram.axisCases"), nameTextStyle: text(scale), minInterval: 1, axisLabel: text(scale) },
    series: [
      {
        type: "bar",
        data: d.bins.map((b) => b.cases),
        barCategoryGap: "8%",
        itemStyle: { color: COLORS.bar },
        label: { show: true, position: "top", ...text(scale) },
        markLine: { symbol: "none", silent: true, data: marks },
      },
    ],
  };
}

function horizontal(names: string[], scale: number, axisName: string): Option {
  return {
    grid: { left: 8, right: 56 * scale, top: 56 * scale, bottom: 32 * scale, containLabel: true },
    xAxis: { type: "value", name: axisName, nameLocation: "middle", nameGap: 24 * scale, nameTextStyle: text(scale), minInterval: 1, axisLabel: text(scale) },
    yAxis: { type: "category", data: names, inverse: true, axisLabel: { ...text(scale), width: 120 * scale, overflow: "truncate" } },
  };
}

/** Categories by cases, biggest first; rising ones carry "↑+50%" in their label. */
export function categoriesOption(c: Categories, t: Msg, scale = 1, top = 10): Option {
  const rising = new Map(c.rising.map((r) => [r.category, r]));
  const rows = c.totals.slice(0, top);
  return {
    animation: false,
    title: title(t("figures.categories.title"), scale),
    tooltip: { trigger: "axis" },
    ...horizontal(rows.map((r) => r.name), scale, t("figures.categories.axis")),
    series: [
      {
        type: "bar",
        itemStyle: { color: COLORS.bar },
        data: rows.map((r) => {
          const up = rising.get(r.category);
          // from the two halves' counts (the API's growth is already rounded to 0.0001)
          const growth = up ? `+${fixed((100 * (up.second_half - up.first_half)) / Math.max(up.first_half, 1), 0)}%` : "";
          return {
            value: r.cases,
            itemStyle: up ? { color: COLORS.overdue } : undefined,
            label: { show: true, position: "right", ...text(scale), formatter: up ? `${r.cases} ${t("figures.categories.rising", { growth })}` : String(r.cases) },
          };
        }),
      },
    ],
  };
}

export interface DepartmentRates {
  name: string;
  accept: number | null;
  decline: number | null;
  returned: number | null;
  timely: number | null;
  score: number | null;
}

/** Each department's rates in %, from its counts (rounded once), in the ranking's order. */
export function departmentRates(rows: DepartmentRow[]): DepartmentRates[] {
  return [...rows]
    .sort((a, b) => a.rank - b.rank)
    .map((r) => ({
      name: r.name,
      accept: percent(r.accepted, r.invited),
      decline: percent(r.declined, r.invited),
      returned: percent(r.returned, r.invited),
      timely: r.accepted ? percent(r.accepted - Math.min(r.overdue, r.accepted), r.accepted) : null,
      score: r.rating_mean,
    }));
}

/** The departments' cooperation as a ranked chart: four rates per department, score by its name
 *  (the published two-place figure, shown as it is: not rounded a second time). */
export function departmentsOption(rows: DepartmentRow[], t: Msg, scale = 1, top = 10): Option {
  const rates = departmentRates(rows).slice(0, top);
  // Two lines: the name (cut if long) and its score, which is never cut off.
  const names = rates.map((r, i) => `${i + 1}. ${r.name}\n${r.score === null ? t("figures.departments.noScore") : t("figures.departments.score", { score: fixed(r.score, 2) })}`);
  const keys = [
    ["accept", COLORS.closed],
    ["decline", COLORS.mark],
    ["returned", "#7232dd"],
    ["timely", COLORS.raised],
  ] as const;
  return {
    animation: false,
    title: title(t("figures.departments.title"), scale),
    legend: { top: 30 * scale, textStyle: text(scale) },
    tooltip: { trigger: "axis" },
    ...horizontal(names, scale, t("figures.departments.axis")),
    xAxis: { type: "value", max: 100, name: t("figures.departments.axis"), nameLocation: "middle", nameGap: 24 * scale, nameTextStyle: text(scale), axisLabel: text(scale) },
    grid: { left: 8, right: 48 * scale, top: 60 * scale, bottom: 32 * scale, containLabel: true },
    series: keys.map(([key, color]) => ({
      name: t(`figures.departments.${key}`),
      type: "bar",
      itemStyle: { color },
      label: { show: true, position: "right", formatter: "{c}%", ...text(scale * 0.85) },
      data: rates.map((r) => r[key]),
    })),
  };
}

/** The places one level down, biggest first; a bar's `areaId` is where a click drills to. */
export function placesOption(places: Place[], level: "town" | "grid" | "community", t: Msg, scale = 1, top = 20): Option {
  const rows = places.slice(0, top);
  return {
    animation: false,
    title: title(t(`figures.places.${level}`), scale),
    tooltip: { trigger: "axis" },
    ...horizontal(rows.map((r) => r.name), scale, t("figures.places.axis")),
    series: [
      {
        type: "bar",
        itemStyle: { color: COLORS.bar },
        cursor: level === "community" ? "default" : "pointer",
        label: { show: true, position: "right", ...text(scale) },
        data: rows.map((r) => ({ value: r.cases, name: r.name, areaId: r.area })),
      },
    ],
  };
}

/** Height in px a horizontal chart of `rows` bars groups needs (each group `per` px). */
export function barsHeight(rows: number, scale = 1, per = 28): number {
  return Math.round(Math.max(260, 100 + rows * per) * scale);
}
