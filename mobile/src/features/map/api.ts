// The map's data (analytics/api/views.py MapView, DensityView; analytics/maps.py):
// GET analytics/map/?level=&indicator=&from=&to=&area=&category= → a GeoJSON
// FeatureCollection with one indicator per area; GET analytics/density/ → case
// locations counted per cell. Both scoped to the asker's area by the server.
import { api } from "../../api/http";

export type Level = "town" | "grid" | "community";
export type Indicator = "cases" | "per_1000" | "overdue_share" | "mean_response";

export interface AreaProperties {
  id: number;
  code: string;
  name: string;
  level: number; // 2 town, 3 grid, 4 community
  parent: number | null;
  population: number | null;
  cases: number;
  overdue: number;
  per_1000: number | null; // cases per 1,000 residents; null when the population is unknown
  overdue_share: number | null; // 0–1, unrounded (rounded once where shown: logic.ts displayValue)
  mean_response: number | null; // seconds, unrounded
  value: number | null; // the chosen indicator
}

export interface AreaFeature {
  type: "Feature";
  id: number;
  geometry: { type: string; coordinates: unknown } | null;
  properties: AreaProperties;
}

export interface AreaCollection {
  type: "FeatureCollection";
  indicator: Indicator;
  level: Level;
  range: [number, number] | null;
  features: AreaFeature[];
  // The production tile source (settings JINSHAO_MAP_TILES_URL/_ATTRIBUTION); url "": none.
  tiles?: { url: string; attribution: string };
}

export interface Scoped<T> {
  from: string;
  to: string;
  area: { id: number; name: string; level: number } | null;
  data: T;
}

export interface DensityCell {
  longitude: number;
  latitude: number;
  cases: number;
}

export interface Density {
  cell: number; // degrees
  cells: DensityCell[];
  located: number;
  unlocated: number;
}

export interface MapQuery {
  level: Level;
  indicator: Indicator;
  area?: number | null;
  from?: string | null;
  category?: number | null;
}

export const areaMap = (q: MapQuery) =>
  api<Scoped<AreaCollection>>("analytics/map/", {
    query: { level: q.level, indicator: q.indicator, area: q.area, from: q.from, category: q.category },
  });

export const density = (q: Omit<MapQuery, "level" | "indicator">) =>
  api<Scoped<Density>>("analytics/density/", { query: { area: q.area, from: q.from, category: q.category } });

interface TemplateRow {
  category: { id: number; name: string } | null;
}

/** The problem categories, from the templates list (there is no list of categories of its own). */
export async function categories(): Promise<{ id: number; name: string }[]> {
  const answer = await api<TemplateRow[] | { results: TemplateRow[] }>("templates/", { query: { page_size: 100 } });
  const rows = Array.isArray(answer) ? answer : answer.results;
  const seen = new Map<number, string>();
  for (const row of rows) if (row.category) seen.set(row.category.id, row.category.name);
  return [...seen].map(([id, name]) => ({ id, name })).sort((a, b) => a.name.localeCompare(b.name, "zh-CN"));
}
