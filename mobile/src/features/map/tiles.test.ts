import { describe, expect, it } from "vitest";
import {
  ancestor,
  coveringTiles,
  fitTransform,
  pixelToWorld,
  tileRect,
  viewBbox,
  worldToPixel,
  latToTileY,
  lonToTileX,
  MAX_LATITUDE,
  project,
  subdomains,
  tileAt,
  tileUrl,
  tilesForView,
  tileXToLon,
  tileYToLat,
  unproject,
  WORLD,
  zoomFor,
} from "./tiles";

// Expected tiles computed apart, by the OpenStreetMap wiki's formula in Python:
//   x = int((lon + 180) / 360 * 2**z); y = int((1 - asinh(tan(radians(lat))) / pi) / 2 * 2**z)
describe("tile numbers", () => {
  it("finds the tile containing a known point", () => {
    expect(tileAt(121.4737, 31.2304, 10)).toEqual({ x: 857, y: 418 }); // 上海人民广场
    expect(tileAt(121.4737, 31.2304, 15)).toEqual({ x: 27440, y: 13389 });
    expect(tileAt(-0.1278, 51.5074, 12)).toEqual({ x: 2046, y: 1362 }); // London
    expect(tileAt(13.405, 52.52, 16)).toEqual({ x: 35208, y: 21492 }); // Berlin
    expect(tileAt(0, 0, 0)).toEqual({ x: 0, y: 0 });
    expect(tileAt(-0.1, 0.1, 1)).toEqual({ x: 0, y: 0 });
    expect(tileAt(0.1, -0.1, 1)).toEqual({ x: 1, y: 1 });
  });

  it("wraps longitude and clamps latitude", () => {
    expect(tileAt(181, 0, 2)).toEqual({ x: 0, y: 2 });
    expect(tileAt(-181, 0, 2)).toEqual({ x: 3, y: 2 });
    expect(tileAt(0, 89.9, 3).y).toBe(0);
    expect(tileAt(0, -89.9, 3).y).toBe(7);
  });

  it("goes back from tile edges to degrees", () => {
    expect(tileXToLon(857, 10)).toBeCloseTo(121.2890625, 9);
    expect(tileYToLat(417, 10)).toBeCloseTo(31.653381399664, 9); // north edge of row 417
    expect(tileYToLat(0, 5)).toBeCloseTo(MAX_LATITUDE, 9);
    expect(tileYToLat(32, 5)).toBeCloseTo(-MAX_LATITUDE, 9);
    for (const [lon, lat] of [[121.47, 30.92], [-70, -33], [0, 0]]) {
      expect(tileXToLon(lonToTileX(lon, 12), 12)).toBeCloseTo(lon, 9);
      expect(tileYToLat(latToTileY(lat, 12), 12)).toBeCloseTo(lat, 9);
    }
  });
});

describe("the projection", () => {
  it("is Web Mercator in world units, y down, and unproject inverts it", () => {
    expect(project([-180, MAX_LATITUDE])[0]).toBeCloseTo(0, 9);
    expect(project([-180, MAX_LATITUDE])[1]).toBeCloseTo(0, 6);
    expect(project([0, 0])).toEqual([WORLD / 2, WORLD / 2]);
    expect(project([180, -MAX_LATITUDE])[1]).toBeCloseTo(WORLD, 6);
    // the same place as the tile numbers: world units × 2^z / 256 = the fractional tile
    const [x, y] = project([121.4737, 31.2304]);
    expect((x * 2 ** 10) / WORLD).toBeCloseTo(lonToTileX(121.4737, 10), 9);
    expect((y * 2 ** 10) / WORLD).toBeCloseTo(latToTileY(31.2304, 10), 9);
    const back = unproject(project([121.4737, 31.2304]));
    expect(back[0]).toBeCloseTo(121.4737, 9);
    expect(back[1]).toBeCloseTo(31.2304, 9);
  });
});

describe("covering a view", () => {
  // 奉贤's centre, 121.30–121.72 E, 30.80–31.02 N: at zoom 12 columns 3428–3432, rows 1676–1679.
  const fengxian = { west: 121.3, south: 30.8, east: 121.72, north: 31.02 };

  it("lists every tile of the box's range, row by row", () => {
    const tiles = coveringTiles(fengxian, 12);
    expect(tiles).toHaveLength(5 * 4);
    expect(tiles[0]).toEqual({ z: 12, x: 3428, y: 1676, wrappedX: 3428 });
    expect(tiles.at(-1)).toEqual({ z: 12, x: 3432, y: 1679, wrappedX: 3432 });
    expect(new Set(tiles.map((t) => t.x))).toEqual(new Set([3428, 3429, 3430, 3431, 3432]));
  });

  it("does not add a tile for an edge exactly on a boundary", () => {
    const tiles = coveringTiles({ west: 0, south: tileYToLat(2, 2), east: 90, north: tileYToLat(1, 2) }, 2);
    expect(tiles).toEqual([{ z: 2, x: 2, y: 1, wrappedX: 2 }]);
  });

  it("wraps columns across the antimeridian and clamps rows to the world", () => {
    const tiles = coveringTiles({ west: 170, south: -89, east: 190, north: 89 }, 2);
    expect(tiles.map((t) => [t.x, t.wrappedX])).toEqual([0, 1, 2, 3].flatMap(() => [[3, 3], [4, 0]]));
    expect(tiles.map((t) => t.y)).toEqual([0, 0, 1, 1, 2, 2, 3, 3]);
  });

  it("is empty for an empty box", () => {
    expect(coveringTiles({ west: 1, south: 1, east: 1, north: 2 }, 3)).toEqual([]);
  });

  it("chooses the zoom whose tiles are about 256 px and keeps the count bounded", () => {
    expect(zoomFor(1)).toBe(0); // 1 px per world unit: the world is one 256-px tile
    expect(zoomFor(2 ** 12)).toBe(12);
    expect(zoomFor(2 ** 12 * 1.3)).toBe(12);
    expect(zoomFor(2 ** 12 * 1.5)).toBe(13);
    expect(zoomFor(2 ** 30)).toBe(18);
    expect(zoomFor(0)).toBe(0);
    expect(tilesForView(fengxian, 2 ** 12)).toHaveLength(20);
    const few = tilesForView(fengxian, 2 ** 12, 6);
    expect(few.length).toBeLessThanOrEqual(6);
    expect(few[0].z).toBeLessThan(12);
    expect(tilesForView(fengxian, 2 ** 14).length).toBeLessThanOrEqual(64);
  });
});

describe("tile URLs", () => {
  it("fills z, x, y and a subdomain", () => {
    expect(tileUrl("https://tiles.example.test/{z}/{x}/{y}.png", { z: 12, wrappedX: 3430, y: 1677 })).toBe("https://tiles.example.test/12/3430/1677.png");
    expect(tileUrl("https://{s}.tile.example.test/{z}/{x}/{y}.png", { z: 1, wrappedX: 1, y: 1 })).toBe("https://c.tile.example.test/1/1/1.png");
    expect(tileUrl("https://{s}.tile.example.test/{z}/{x}/{y}.png", { z: 1, wrappedX: 0, y: 0 })).toBe("https://a.tile.example.test/1/0/0.png");
    expect(tileUrl("https://tms.example.test/{z}/{x}/{-y}.png", { z: 2, wrappedX: 1, y: 0 })).toBe("https://tms.example.test/2/1/3.png");
  });

  it("uses 天地图's t0–t7 for its t{s} hosts, every key in its place", () => {
    const tianditu = "https://t{s}.tianditu.gov.cn/vec_w/wmts?SERVICE=WMTS&REQUEST=GetTile&LAYER=vec&TILEMATRIXSET=w&TILEMATRIX={z}&TILEROW={y}&TILECOL={x}&tk=KEY";
    expect(subdomains(tianditu)).toEqual(["0", "1", "2", "3", "4", "5", "6", "7"]);
    expect(tileUrl(tianditu, { z: 12, wrappedX: 3430, y: 1677 })).toBe(
      "https://t3.tianditu.gov.cn/vec_w/wmts?SERVICE=WMTS&REQUEST=GetTile&LAYER=vec&TILEMATRIXSET=w&TILEMATRIX=12&TILEROW=1677&TILECOL=3430&tk=KEY",
    ); // (3430 + 1677) % 8 = 3
    expect(subdomains("https://{s}.tile.openstreetmap.org/{z}/{x}/{y}.png")).toEqual(["a", "b", "c"]);
  });
});

describe("placing tiles on screen", () => {
  // A view of 奉贤 at 2^12 px per world unit (zoom 12: 256-px tiles), its north-west corner at (0, 0).
  const corner = project([121.3, 31.02]);
  const t = fitTransform([0, 0], [-corner[0] * 4096, -corner[1] * 4096], [1, 2], [(1 - corner[0]) * 4096, (2 - corner[1]) * 4096]);

  it("finds the view transform from two points and inverts it", () => {
    expect(t.scaleX).toBeCloseTo(4096, 6);
    expect(t.scaleY).toBeCloseTo(4096, 6);
    const back = pixelToWorld(t, worldToPixel(t, [214.3, 104.7]));
    expect(back[0]).toBeCloseTo(214.3, 9);
    expect(back[1]).toBeCloseTo(104.7, 9);
  });

  it("gives the view's extent in degrees", () => {
    const box = viewBbox(t, 256 * 5, 256 * 3);
    expect(box.west).toBeCloseTo(121.3, 9);
    expect(box.north).toBeCloseTo(31.02, 9);
    expect(box.east).toBeCloseTo(121.3 + (5 * 360) / 4096, 9); // five tiles of 360/2^12 degrees
    expect(box.south).toBeLessThan(31.02);
    expect(coveringTiles(box, 12).length).toBeGreaterThanOrEqual(5 * 3);
  });

  it("puts a tile on whole pixels, 256 px at its own zoom, neighbours touching", () => {
    const a = tileRect(t, { z: 12, x: 3430, y: 1677 });
    const b = tileRect(t, { z: 12, x: 3431, y: 1677 });
    expect(a[2]).toBeGreaterThanOrEqual(255);
    expect(a[2]).toBeLessThanOrEqual(257);
    expect(b[0]).toBe(a[0] + a[2]);
    expect(a.every(Number.isInteger)).toBe(true);
    // the tile containing the view's north-west corner covers pixel (0, 0)
    const { x, y } = tileAt(121.3, 31.02, 12);
    const [x0, y0, w, h] = tileRect(t, { z: 12, x, y });
    expect(x0).toBeLessThanOrEqual(0);
    expect(y0).toBeLessThanOrEqual(0);
    expect(x0 + w).toBeGreaterThan(0);
    expect(y0 + h).toBeGreaterThan(0);
  });
});

describe("a tile's ancestors (drawn while the tile itself loads)", () => {
  it("halves x and y per level, keeping the point inside", () => {
    expect(ancestor({ z: 12, x: 3430, y: 1677, wrappedX: 3430 }, 1)).toEqual({ z: 11, x: 1715, y: 838, wrappedX: 1715 });
    expect(ancestor({ z: 12, x: 3430, y: 1677, wrappedX: 3430 }, 2)).toEqual({ z: 10, x: 857, y: 419, wrappedX: 857 });
    expect(tileAt(121.47, 30.92, 10)).toEqual({ x: 857, y: 419 });
    expect(ancestor({ z: 2, x: 4, y: 1, wrappedX: 0 }, 1)).toEqual({ z: 1, x: 2, y: 0, wrappedX: 0 });
  });
});
