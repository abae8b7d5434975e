// The wall's pure logic: its socket address, the state a frame leads to, when to retry.
// Tested in logic.test.ts; the view (WallView.vue) only renders the state.

export interface WallCase {
  id: number;
  number: string;
  title: string;
  state: string;
  state_label: string;
  community: string;
  category: string | null;
  created_at: string;
}

export interface WallEscalation {
  id: number;
  kind: "escalated" | "overdue";
  label: string;
  at: string;
  case: { id: number; number: string; title: string };
  community: string;
}

/** docs/asyncapi.yaml WallFigures. */
export interface WallFigures {
  area: { id: number; name: string; level: number } | null;
  raised: number;
  in_progress: number;
  overdue: number;
  closed: number;
  latest: WallCase[];
  escalations: WallEscalation[];
  map_level: "town" | "grid" | "community";
  map: Record<string, number>;
  at: string;
}

export interface WallState {
  figures: WallFigures | null;
  live: boolean; // the socket is open
  error: string; // a refusal (the socket will not be retried)
  frames: number; // wall frames received (for the people watching the screen: it moves)
}

export const initialWall = (): WallState => ({ figures: null, live: false, error: "", frames: 0 });

export type WallEvent =
  | { kind: "open" }
  | { kind: "close"; code: number }
  | { kind: "frame"; frame: { type?: string; figures?: WallFigures; code?: string; message?: string } };

/** How often an open wall pings (the server forgets an area unwatched for 90 s). */
export const PING_MS = 30_000;

/** Close codes after which retrying cannot help (not logged in, not allowed, no such area). */
export const FINAL_CLOSES = [4401, 4403, 4404];

/** The state after `event` (never mutates `state`). */
export function reduceWall(state: WallState, event: WallEvent): WallState {
  switch (event.kind) {
    case "open":
      return { ...state, live: true, error: "" };
    case "close":
      return { ...state, live: false };
    case "frame": {
      const frame = event.frame;
      if (frame.type === "wall" && frame.figures) return { ...state, figures: frame.figures, frames: state.frames + 1 };
      if (frame.type === "error") return { ...state, error: frame.message ?? frame.code ?? "" };
      return state;
    }
  }
}

/** Whether the screen should reconnect after the socket closed with `code`. */
export function shouldRetry(code: number): boolean {
  return !FINAL_CLOSES.includes(code);
}

/** The wall socket of `area` (null: the asker's own area). */
export function wallSocketUrl(area: number | null, location: { protocol: string; host: string } = window.location): string {
  const scheme = location.protocol === "https:" ? "wss:" : "ws:";
  return `${scheme}//${location.host}/ws/wall/${area ? `?area=${area}` : ""}`;
}

/** The map to fetch for these figures: its level and area; a new key means a new fetch. */
export function mapKey(figures: WallFigures | null): string {
  return figures ? `${figures.map_level}:${figures.area?.id ?? "all"}` : "";
}

/** HH:MM:SS of an ISO moment in Asia/Shanghai. */
export function clock(iso: string): string {
  return new Intl.DateTimeFormat("zh-CN", { timeZone: "Asia/Shanghai", hour: "2-digit", minute: "2-digit", second: "2-digit", hour12: false }).format(new Date(iso));
}

/** When a row happened: the time if today (Asia/Shanghai), else the date and the time. */
export function when(iso: string, today: string): string {
  const moment = new Date(iso);
  const day = new Intl.DateTimeFormat("en-CA", { timeZone: "Asia/Shanghai", year: "numeric", month: "2-digit", day: "2-digit" }).format(moment);
  if (day === today) return clock(iso);
  const time = new Intl.DateTimeFormat("zh-CN", { timeZone: "Asia/Shanghai", hour: "2-digit", minute: "2-digit", hour12: false }).format(moment);
  return `${day.slice(5)} ${time}`;
}

export type Theme = "dark" | "light";
export const THEME_KEY = "jinshao.wall.theme";

export function savedTheme(storage: Pick<Storage, "getItem"> | null): Theme {
  return storage?.getItem(THEME_KEY) === "light" ? "light" : "dark";
}
