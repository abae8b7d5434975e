// The leaders' figures (analytics/api/views.py): GET analytics/<indicator>/?from=&to=&area=,
// scoped by the server to the asker's own area (leaders, grid leaders, commanders; auditors
// and system administrators see the whole district). Times are in seconds, exact (unrounded).
import { api } from "../../api/http";

export type Bucket = "day" | "week" | "month";

export interface Query {
  from?: string; // YYYY-MM-DD, local days, inclusive
  to?: string;
  area?: number; // an area node; the asker's own by default
  bucket?: Bucket;
}

export interface AreaRef {
  id: number;
  name: string;
  level: number; // 1 district, 2 town, 3 grid, 4 community
}

export interface Envelope<T> {
  from: string;
  to: string;
  area: AreaRef | null; // null: the whole district
  data: T;
  rating_min_group?: number; // departments only: K
}

export interface Overview {
  raised: number;
  closed: number;
  cancelled: number;
  closure_rate: number | null; // 0–1
  response_median: number | null; // seconds
  handling_median: number | null; // seconds
}

export interface TrendRow {
  period: string; // first local day of the bucket
  raised: number;
  closed: number;
  overdue: number;
}

export interface Bin {
  start: number; // seconds, inclusive
  end: number | null; // seconds, exclusive; null: the open last bin
  cases: number;
}

export interface Distribution {
  unit: "minute" | "hour";
  unit_seconds: number;
  n: number;
  mean: number | null;
  p50: number | null;
  p90: number | null;
  width: number; // seconds
  bins: Bin[];
}

export interface Distributions {
  response: Distribution;
  handling: Distribution;
}

export interface Categories {
  totals: { category: number; name: string; cases: number }[];
  rising: { category: number; name: string; first_half: number; second_half: number; growth: number }[];
}

export interface DepartmentRow {
  department: number;
  name: string;
  rank: number;
  invited: number;
  accepted: number;
  declined: number;
  returned: number;
  overdue: number;
  rating_mean: number | null; // 0–100, null below K ratings
}

export interface Place {
  area: number;
  name: string;
  cases: number;
}

export interface Areas {
  towns: Place[];
  grids: Place[];
  communities: Place[];
}

export interface Timeliness {
  overdue: number;
}

function query(q: Query) {
  return { from: q.from, to: q.to, area: q.area, bucket: q.bucket };
}

export const overview = (q: Query) => api<Envelope<Overview>>("analytics/overview/", { query: query(q) });
export const timeliness = (q: Query) => api<Envelope<Timeliness>>("analytics/timeliness/", { query: query(q) });
export const trend = (q: Query) => api<Envelope<TrendRow[]>>("analytics/trend/", { query: query(q) });
export const distributions = (q: Query) => api<Envelope<Distributions>>("analytics/distributions/", { query: query(q) });
export const categories = (q: Query) => api<Envelope<Categories>>("analytics/categories/", { query: query(q) });
export const departments = (q: Query) => api<Envelope<DepartmentRow[]>>("analytics/departments/", { query: query(q) });
export const areas = (q: Query) => api<Envelope<Areas>>("analytics/areas/", { query: query(q) });

/** The chart's data as a workbook (same scope): a plain link the browser downloads. */
export function xlsxUrl(chart: "trend" | "distributions" | "categories" | "departments" | "areas", q: Query): string {
  const params = new URLSearchParams();
  for (const [key, value] of Object.entries(query(q))) if (value !== undefined && value !== "") params.set(key, String(value));
  const text = params.toString();
  return `/api/v1/analytics/${chart}/xlsx/${text ? `?${text}` : ""}`;
}
