// Pure logic of the map: GeoJSON → ECharts option, units, the drill path, periods.
// No DOM, no ECharts import: tested in logic.test.ts.
import type { AreaCollection, Density, Indicator, Level } from "./api";
import { project, unproject } from "./tiles";

export const INDICATORS: Indicator[] = ["cases", "per_1000", "overdue_share", "mean_response"];

/** The level drawn below an area of `level` (1 district … 4 community); null: the whole district. */
export function levelBelow(level: number | null | undefined): Level {
  if (!level || level <= 1) return "town";
  if (level === 2) return "grid";
  return "community";
}

export interface Crumb {
  id: number | null; // null: the asker's own area (the server's default)
  name: string;
  level: Level; // the level drawn while this crumb is the last
}

/** One step down: clicking an area of the drawn level; null when it has nothing below. */
export function drillInto(path: Crumb[], area: { id: number; name: string; level: number }): Crumb[] | null {
  if (area.level >= 4) return null;
  return [...path, { id: area.id, name: area.name, level: levelBelow(area.level) }];
}

/** Back up to crumb `index` (0: the top). */
export function drillBack(path: Crumb[], index: number): Crumb[] {
  return path.slice(0, Math.max(1, index + 1));
}

/** `value` rounded half up to `digits` decimals. The server sends the map's figures
 *  unrounded, so this is the only rounding they get (rounded once, where shown). */
export function roundTo(value: number, digits: number): number {
  const scale = 10 ** digits;
  return Math.round(value * scale) / scale;
}

/** A value as shown, in the indicator's unit: cases whole, per_1000 to 0.01 件/千人,
 *  overdue_share (0–1) to 0.1 %, mean_response (seconds) to 0.1 minute. */
export function displayValue(indicator: Indicator, value: number | null | undefined): number | null {
  if (value === null || value === undefined || Number.isNaN(value)) return null;
  if (indicator === "overdue_share") return roundTo(value * 100, 1);
  if (indicator === "mean_response") return roundTo(value / 60, 1);
  if (indicator === "per_1000") return roundTo(value, 2);
  return value;
}

export interface Labels {
  unit: Record<Indicator, string>; // 件, 件/千人, %, 分钟
  indicator: Record<Indicator, string>;
  noData: string;
  density: string; // the density layer's name
  casesUnit: string; // 件
}

/** A raw value (as the server sends it) with its unit. */
export function formatValue(indicator: Indicator, value: number | null | undefined, labels: Labels): string {
  return formatShown(indicator, displayValue(indicator, value), labels);
}

/** A value already in display units, with its unit. */
export function formatShown(indicator: Indicator, shown: number | null | undefined, labels: Labels): string {
  return shown === null || shown === undefined || Number.isNaN(shown) ? labels.noData : `${shown} ${labels.unit[indicator]}`;
}

export const MAP_NAME_PREFIX = "jinshao-";

/** A map name for ECharts' registerMap: one per drawn set of areas. */
export function mapName(collection: AreaCollection, areaId: number | null): string {
  return `${MAP_NAME_PREFIX}${collection.level}-${areaId ?? "all"}-${collection.features.map((f) => f.id).join(".")}`;
}

/** The GeoJSON ECharts draws: only areas with a boundary, each named by its id. */
export function drawable(collection: AreaCollection) {
  return {
    type: "FeatureCollection" as const,
    features: collection.features
      .filter((f) => f.geometry)
      .map((f) => ({ type: "Feature" as const, geometry: f.geometry, properties: { key: String(f.id), name: f.properties.name } })),
  };
}

/** The values per area key, in display units (overriding counts with `values` when given: the wall). */
export function areaValues(collection: AreaCollection, values?: Record<string, number>) {
  const indicator = collection.indicator;
  return collection.features.map((f) => {
    const raw = values ? (values[String(f.id)] ?? 0) : f.properties.value;
    return { name: String(f.id), label: f.properties.name, value: displayValue(values ? "cases" : indicator, raw) };
  });
}

export interface OptionInput {
  collection: AreaCollection;
  map: string; // the registered name
  labels: Labels;
  density?: Density | null;
  values?: Record<string, number>; // the wall: live counts per area id
  dark?: boolean;
  large?: boolean; // the wall: bigger labels
  tiles?: boolean; // a tile layer is drawn under the areas: their fill lets it show through
}

/** The areas' fill opacity over a tile layer: the choropleth's colours still read, the
 *  streets and names beneath still show. */
export const FILL_OVER_TILES = 0.7;

/** The ECharts option: the choropleth (geo + map series), its visualMap with the unit, and
 *  the density layer as a scatter on the same geo. */
export function mapOption(input: OptionInput) {
  const { collection, labels } = input;
  const indicator: Indicator = input.values ? "cases" : collection.indicator;
  const data = areaValues(collection, input.values);
  const shown = data.map((d) => d.value).filter((v): v is number => v !== null);
  const max = shown.length ? Math.max(...shown) : 0;
  const min = shown.length ? Math.min(...shown) : 0;
  const names = Object.fromEntries(data.map((d) => [d.name, d.label]));
  const text = input.dark ? "#e8eef7" : "#1f2937";
  const fontSize = input.large ? 18 : 11;
  const cells = input.density?.cells ?? [];
  const most = cells.reduce((m, c) => Math.max(m, c.cases), 0) || 1;
  return {
    backgroundColor: "transparent",
    tooltip: {
      trigger: "item",
      formatter: (p: { seriesType?: string; name: string; value: unknown }) =>
        p.seriesType === "scatter"
          ? `${labels.density}: ${(p.value as number[])[2]} ${labels.casesUnit}`
          : `${escapeHtml(names[p.name] ?? p.name)}<br/>${labels.indicator[indicator]}: ${formatShown(indicator, typeof p.value === "number" ? p.value : null, labels)}`,
    },
    visualMap: {
      type: "continuous",
      seriesIndex: 0,
      min,
      max: max === min ? min + 1 : max,
      calculable: true,
      orient: "horizontal",
      left: "center",
      bottom: 4,
      text: [`${max} ${labels.unit[indicator]}`, `${min}`],
      textStyle: { color: text, fontSize },
      inRange: { color: ["#fff4e5", "#fdb863", "#e66101", "#8c2d04"] },
    },
    geo: {
      map: input.map,
      nameProperty: "key",
      roam: true,
      selectedMode: false,
      // Inside the box on every side, the aspect ratio kept (preserveAspect, ECharts 6: with
      // all four sides given the geo would otherwise stretch to the box, and tiles, square
      // by definition, would not fit the areas): a phone is taller than wide.
      preserveAspect: true,
      left: 8,
      right: 8,
      top: 8,
      bottom: 56,
      label: {
        show: true,
        color: text,
        fontSize,
        // Readable on pale and dark fills alike.
        textBorderColor: input.dark ? "#0b1220" : "#ffffff",
        textBorderWidth: 3,
        formatter: (p: { name: string }) => names[p.name] ?? "",
      },
      // Web Mercator, as slippy-map tiles are drawn (tiles.ts): the areas and the tiles line
      // up, and shapes keep their true proportions (ECharts' default squeezes longitude by a
      // fixed 0.75, right only near 41° N). Used with and without tiles: one look.
      projection: { project, unproject },
      itemStyle: {
        areaColor: input.dark ? "#2a3240" : "#eef1f5",
        borderColor: input.dark ? "#8a97ab" : "#6b7280",
        borderWidth: 1,
        opacity: input.tiles ? FILL_OVER_TILES : 1,
      },
      emphasis: { label: { show: true, color: text }, itemStyle: { areaColor: "#4f8cff" } },
    },
    series: [
      {
        type: "map",
        name: labels.indicator[indicator],
        geoIndex: 0,
        data: data.map((d) => ({ name: d.name, value: d.value ?? NaN })),
      },
      {
        type: "scatter",
        name: labels.density,
        coordinateSystem: "geo",
        geoIndex: 0,
        symbolSize: (v: number[]) => 4 + 16 * Math.sqrt(v[2] / most),
        itemStyle: { color: "rgba(29, 78, 216, 0.7)", borderColor: "#fff", borderWidth: 0.5 },
        data: cells.map((c) => [c.longitude, c.latitude, c.cases]),
        z: 5,
      },
    ],
  };
}

/** The local date (YYYY-MM-DD, Asia/Shanghai) `days` before `today` (a YYYY-MM-DD). */
export function daysBefore(today: string, days: number): string {
  const [y, m, d] = today.split("-").map(Number);
  const moment = new Date(Date.UTC(y, m - 1, d - days));
  return moment.toISOString().slice(0, 10);
}

/** Today in Asia/Shanghai, YYYY-MM-DD (the server's days). */
export function shanghaiToday(now: Date = new Date()): string {
  return new Intl.DateTimeFormat("en-CA", { timeZone: "Asia/Shanghai", year: "numeric", month: "2-digit", day: "2-digit" }).format(now);
}

export type Period = "today" | "7" | "30" | "365";
export const PERIODS: Period[] = ["today", "7", "30", "365"];

/** The `from` parameter of a period (the last day is today: the server's default). */
export function periodFrom(period: Period, today: string): string {
  if (period === "today") return today;
  return daysBefore(today, Number(period) - 1);
}

/** Text safe inside the tooltip's HTML (area names are typed by administrators). */
export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" })[c] as string);
}
