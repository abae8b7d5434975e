import { describe, expect, it } from "vitest";
import { clock, when, initialWall, mapKey, reduceWall, savedTheme, shouldRetry, wallSocketUrl, type WallFigures } from "./logic";

const figures = (raised: number): WallFigures => ({
  area: { id: 5, name: "南桥镇", level: 2 },
  raised,
  in_progress: 2,
  overdue: 1,
  closed: 0,
  latest: [],
  escalations: [],
  map_level: "grid",
  map: { "21": raised },
  at: "2026-03-02T01:02:03Z",
});

describe("the wall's state", () => {
  it("takes each pushed frame's figures whole and counts them", () => {
    let state = reduceWall(initialWall(), { kind: "open" });
    expect(state.live).toBe(true);
    state = reduceWall(state, { kind: "frame", frame: { type: "wall", figures: figures(1) } });
    state = reduceWall(state, { kind: "frame", frame: { type: "wall", figures: figures(4) } });
    expect(state.figures!.raised).toBe(4);
    expect(state.frames).toBe(2);
    expect(reduceWall(state, { kind: "frame", frame: { type: "pong" } })).toBe(state);
  });

  it("keeps the last figures when the socket drops, and shows a refusal", () => {
    const before = reduceWall(initialWall(), { kind: "frame", frame: { type: "wall", figures: figures(3) } });
    const dropped = reduceWall(before, { kind: "close", code: 1006 });
    expect(dropped.live).toBe(false);
    expect(dropped.figures!.raised).toBe(3);
    const refused = reduceWall(dropped, { kind: "frame", frame: { type: "error", code: "forbidden", message: "您无权查看" } });
    expect(refused.error).toBe("您无权查看");
  });

  it("retries after a dropped connection or a restart, never after a refusal", () => {
    expect(shouldRetry(1006)).toBe(true);
    expect(shouldRetry(1012)).toBe(true);
    expect([4401, 4403, 4404].map(shouldRetry)).toEqual([false, false, false]);
  });

  it("fetches the map's shapes again only when the area or its level changes", () => {
    expect(mapKey(figures(1))).toBe(mapKey(figures(9)));
    expect(mapKey({ ...figures(1), area: null, map_level: "town" })).toBe("town:all");
    expect(mapKey(null)).toBe("");
  });
});

describe("the wall's socket and screen", () => {
  it("opens the socket of the area asked for, or of the asker's own", () => {
    expect(wallSocketUrl(7, { protocol: "https:", host: "x.cn" })).toBe("wss://x.cn/ws/wall/?area=7");
    expect(wallSocketUrl(null, { protocol: "http:", host: "h:1" })).toBe("ws://h:1/ws/wall/");
  });

  it("shows times in Shanghai and remembers the light theme only when chosen", () => {
    expect(clock("2026-03-02T01:02:03Z")).toBe("09:02:03");
    expect(when("2026-03-02T01:02:03Z", "2026-03-02")).toBe("09:02:03");
    expect(when("2026-03-01T17:02:03Z", "2026-03-02")).toBe("01:02:03"); // already the 2nd in Shanghai
    expect(when("2026-02-27T01:02:03Z", "2026-03-02")).toBe("02-27 09:02");
    expect(savedTheme({ getItem: () => "light" })).toBe("light");
    expect(savedTheme({ getItem: () => null })).toBe("dark");
    expect(savedTheme(null)).toBe("dark");
  });
});
