// The back office's dashboard charts (/admin/dashboard/, analytics/admin_views.py): the same
// ECharts option builders as the app's figures screen, drawn from the figures the page
// embeds with json_script (no API call, no inline script: CSP script-src 'self').
// Built as a second Vite entry; the page includes it through the manifest
// (analytics/templatetags/vite.py).
import figures from "./locales/zh-CN/figures";
import { downloadImage, draw, scaleFor, type ECharts } from "./features/figures/echarts";
import { categoriesOption, departmentsOption, histogramOption, placesOption, trendOption, barsHeight, type Msg, type Option } from "./features/figures/options";
import type { Categories, DepartmentRow, Distributions, Place, TrendRow } from "./features/figures/api";

interface Embedded {
  trend: TrendRow[];
  distributions: Distributions;
  categories: Categories;
  departments: DepartmentRow[];
  places: { level: "town" | "grid" | "community" | null; rows: Place[] };
  exports: Record<string, string>; // the chart's data as xlsx, same scope
}

/** The workbook each chart's data is in. */
const WORKBOOK: Record<string, string> = { places: "areas", trend: "trend", response: "distributions", handling: "distributions", categories: "categories", departments: "departments" };

function actions(name: string, chart: ECharts, xlsx: string | undefined): HTMLElement {
  const row = document.createElement("div");
  row.className = "jd-chart-actions";
  const image = document.createElement("button");
  image.type = "button";
  image.className = "button";
  image.textContent = t("figures.downloadImage");
  image.dataset.image = name;
  image.addEventListener("click", () => void downloadImage(chart, `jinshao-${name}`));
  row.append(image);
  if (xlsx) {
    const link = document.createElement("a");
    link.href = xlsx;
    link.textContent = t("figures.downloadXlsx");
    link.dataset.xlsx = name;
    row.append(link);
  }
  return row;
}

export const t: Msg = (key, params = {}) => {
  let node: unknown = { figures };
  for (const part of key.split(".")) node = (node as Record<string, unknown> | undefined)?.[part];
  return String(node ?? key).replace(/\{(\w+)\}/g, (_m, name: string) => String(params[name] ?? ""));
};

function builders(data: Embedded): Record<string, { build: (s: number) => Option; height: (s: number) => number }> {
  const fixed = (h: number) => (s: number) => Math.round(h * s);
  const out: Record<string, { build: (s: number) => Option; height: (s: number) => number }> = {
    trend: { build: (s) => trendOption(data.trend, t, s), height: fixed(320) },
    response: { build: (s) => histogramOption(data.distributions.response, "response", t, s), height: fixed(320) },
    handling: { build: (s) => histogramOption(data.distributions.handling, "handling", t, s), height: fixed(320) },
    categories: { build: (s) => categoriesOption(data.categories, t, s), height: (s) => barsHeight(Math.min(data.categories.totals.length, 10), s) },
    departments: { build: (s) => departmentsOption(data.departments, t, s), height: (s) => barsHeight(Math.min(data.departments.length, 10), s, 80) },
  };
  const level = data.places.level;
  if (level && data.places.rows.length)
    out.places = { build: (s) => placesOption(data.places.rows, level, t, s), height: (s) => barsHeight(Math.min(data.places.rows.length, 20), s) };
  return out;
}

function start() {
  const source = document.getElementById("jd-figures");
  if (!source?.textContent) return;
  const data = JSON.parse(source.textContent) as Embedded;
  const charts = new Map<string, ECharts>();
  for (const [name, spec] of Object.entries(builders(data))) {
    const box = document.querySelector<HTMLElement>(`[data-chart="${name}"]`);
    if (!box) continue;
    const scale = scaleFor(box.clientWidth || window.innerWidth);
    box.style.height = `${spec.height(scale)}px`;
    const chart = draw(box, spec.build(scale));
    charts.set(name, chart);
    if (name === "places" && data.places.level !== "community")
      chart.on("click", (params) => {
        const id = (params.data as { areaId?: number } | undefined)?.areaId;
        if (!id) return;
        const url = new URL(window.location.href);
        url.searchParams.set("area", String(id));
        window.location.assign(url.toString());
      });
    new ResizeObserver(() => chart.resize()).observe(box);
    box.after(actions(name, chart, data.exports[WORKBOOK[name]]));
  }
}

if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
else start();
