// Slippy-map tile maths (Web Mercator, XYZ tiles as OpenStreetMap and 天地图's *_w layers
// number them): the map's projection, which tiles cover a view, and their URLs.
// Pure: no DOM, no ECharts. Tested in tiles.test.ts.

/** The projected world's size: Web Mercator scaled so the whole world at zoom 0 is one
 *  256-unit tile (x east, y south, both 0–256). The geo component's projection. */
export const WORLD = 256;

/** Web Mercator's latitude limit (degrees): the world square's top and bottom edges. */
export const MAX_LATITUDE = 85.0511287798066;

/** The most tiles drawn at once (a wall-size screen needs ~40 at 256 px). */
export const MAX_TILES = 64;

/** The zoom levels tile servers commonly have (天地图 and OpenStreetMap: 0–18). */
export const MIN_ZOOM = 0;
export const MAX_ZOOM = 18;

const clampLatitude = (lat: number) => Math.max(-MAX_LATITUDE, Math.min(MAX_LATITUDE, lat));

/** [longitude, latitude] (degrees) → [x, y] in world units (0–WORLD, y down). Latitudes
 *  beyond ±MAX_LATITUDE are clamped; longitudes are not wrapped (x may leave 0–WORLD). */
export function project([lon, lat]: number[]): number[] {
  const phi = (clampLatitude(lat) * Math.PI) / 180;
  return [((lon + 180) / 360) * WORLD, (0.5 - Math.log(Math.tan(Math.PI / 4 + phi / 2)) / (2 * Math.PI)) * WORLD];
}

/** [x, y] in world units → [longitude, latitude] (degrees); the inverse of project. */
export function unproject([x, y]: number[]): number[] {
  return [(x / WORLD) * 360 - 180, (Math.atan(Math.sinh(Math.PI * (1 - (2 * y) / WORLD))) * 180) / Math.PI];
}

/** The fractional tile column of `lon` at zoom `z` (floor it for the tile's x). */
export function lonToTileX(lon: number, z: number): number {
  return ((lon + 180) / 360) * 2 ** z;
}

/** The fractional tile row of `lat` at zoom `z` (0 at the top, floor it for the tile's y). */
export function latToTileY(lat: number, z: number): number {
  const phi = (clampLatitude(lat) * Math.PI) / 180;
  return ((1 - Math.log(Math.tan(phi) + 1 / Math.cos(phi)) / Math.PI) / 2) * 2 ** z;
}

/** The longitude of tile column `x`'s west edge at zoom `z`. */
export function tileXToLon(x: number, z: number): number {
  return (x / 2 ** z) * 360 - 180;
}

/** The latitude of tile row `y`'s north edge at zoom `z`. */
export function tileYToLat(y: number, z: number): number {
  return (Math.atan(Math.sinh(Math.PI * (1 - (2 * y) / 2 ** z))) * 180) / Math.PI;
}

/** The tile (x, y) containing a point at zoom `z`, x wrapped into 0…2^z−1, y clamped. */
export function tileAt(lon: number, lat: number, z: number): { x: number; y: number } {
  const n = 2 ** z;
  const x = Math.floor(lonToTileX(lon, z));
  const y = Math.floor(latToTileY(lat, z));
  return { x: ((x % n) + n) % n, y: Math.max(0, Math.min(n - 1, y)) };
}

/** A view's extent in degrees (west may exceed east's wrap: it is not wrapped). */
export interface Bbox {
  west: number;
  south: number;
  east: number;
  north: number;
}

const EDGE = 1e-9; // in tiles

export interface Tile {
  z: number;
  x: number; // the column in the view, not wrapped (where it is drawn)
  y: number; // the row, 0…2^z−1
  wrappedX: number; // x wrapped into 0…2^z−1 (what the server is asked for)
}

/** The tiles covering `bbox` at zoom `z`, row by row from the north-west: columns not
 *  wrapped (a view across the antimeridian draws tiles on both sides, each asked for by
 *  its wrapped column), rows clamped to the world. An edge exactly on a tile boundary does
 *  not add the next tile. Empty for an empty box. */
export function coveringTiles(bbox: Bbox, z: number): Tile[] {
  const n = 2 ** z;
  if (!(bbox.east > bbox.west && bbox.north > bbox.south)) return [];
  // EDGE: a rounding error's width, so an edge on a boundary stays on it
  const x0 = Math.floor(lonToTileX(bbox.west, z) + EDGE);
  const x1 = Math.max(x0, Math.ceil(lonToTileX(bbox.east, z) - EDGE) - 1);
  const y0 = Math.max(0, Math.floor(latToTileY(bbox.north, z) + EDGE));
  const y1 = Math.min(n - 1, Math.max(y0, Math.ceil(latToTileY(bbox.south, z) - EDGE) - 1));
  const tiles: Tile[] = [];
  for (let y = y0; y <= y1; y++) for (let x = x0; x <= x1; x++) tiles.push({ z, x, y, wrappedX: ((x % n) + n) % n });
  return tiles;
}

/** The zoom at which a tile is about 256 px on screen, given the map's scale in screen px
 *  per world unit (at zoom z a tile is WORLD / 2^z units wide): round(log2(scale)), clamped
 *  to MIN_ZOOM…MAX_ZOOM. */
export function zoomFor(pxPerWorldUnit: number): number {
  if (!(pxPerWorldUnit > 0) || !Number.isFinite(pxPerWorldUnit)) return MIN_ZOOM;
  const z = Math.round(Math.log2((pxPerWorldUnit * WORLD) / 256));
  return Math.max(MIN_ZOOM, Math.min(MAX_ZOOM, z));
}

/** The tiles to draw for a view: at zoomFor(scale), or coarser (bigger tiles) until at most
 *  `limit` cover it. */
export function tilesForView(bbox: Bbox, pxPerWorldUnit: number, limit = MAX_TILES): Tile[] {
  for (let z = zoomFor(pxPerWorldUnit); z >= MIN_ZOOM; z--) {
    const tiles = coveringTiles(bbox, z);
    if (tiles.length <= limit) return tiles;
  }
  return [];
}

/** The subdomains `{s}` takes turns over: 0–7 for 天地图's t{s}.tianditu.gov.cn (its
 *  documented t0…t7), else a, b, c (OpenStreetMap's and Leaflet's default). */
export function subdomains(template: string): string[] {
  return /\/\/t\{s\}\./.test(template) ? ["0", "1", "2", "3", "4", "5", "6", "7"] : ["a", "b", "c"];
}

/** A tile's URL from an XYZ template: `{z}`, `{x}`, `{y}` the tile (x wrapped), `{-y}` the
 *  row counted from the south (TMS), `{s}` a subdomain chosen by the tile (the same tile
 *  always on the same host, so the browser's cache serves it again). */
export function tileUrl(template: string, tile: Pick<Tile, "z" | "wrappedX" | "y">): string {
  const hosts = subdomains(template);
  const s = hosts[(tile.wrappedX + tile.y) % hosts.length];
  return template
    .replace(/\{z\}/g, String(tile.z))
    .replace(/\{x\}/g, String(tile.wrappedX))
    .replace(/\{-y\}/g, String(2 ** tile.z - 1 - tile.y))
    .replace(/\{y\}/g, String(tile.y))
    .replace(/\{s\}/g, s);
}

/** How the map places world units on screen: pixel = origin + world × scale (the geo view
 *  is a scale and a shift, no rotation). */
export interface ViewTransform {
  originX: number;
  originY: number;
  scaleX: number; // px per world unit
  scaleY: number;
}

/** The view transform through two points known in world units and in pixels (apart on
 *  both axes). ECharts 6.1's geo convertFromPixel unprojects before undoing the view (the
 *  wrong order: it returns neither degrees nor world units), so the map asks only
 *  convertToPixel, of two points, and inverts the view itself. */
export function fitTransform(worldA: number[], pixelA: number[], worldB: number[], pixelB: number[]): ViewTransform {
  const scaleX = (pixelB[0] - pixelA[0]) / (worldB[0] - worldA[0]);
  const scaleY = (pixelB[1] - pixelA[1]) / (worldB[1] - worldA[1]);
  return { originX: pixelA[0] - worldA[0] * scaleX, originY: pixelA[1] - worldA[1] * scaleY, scaleX, scaleY };
}

export function worldToPixel(t: ViewTransform, [x, y]: number[]): number[] {
  return [t.originX + x * t.scaleX, t.originY + y * t.scaleY];
}

export function pixelToWorld(t: ViewTransform, [px, py]: number[]): number[] {
  return [(px - t.originX) / t.scaleX, (py - t.originY) / t.scaleY];
}

/** The extent in degrees of a `width` × `height` px view. */
export function viewBbox(t: ViewTransform, width: number, height: number): Bbox {
  const [west, north] = unproject(pixelToWorld(t, [0, 0]));
  const [east, south] = unproject(pixelToWorld(t, [width, height]));
  return { west, south, east, north };
}

/** A tile's square on screen, in whole pixels (each tile ending where the next begins:
 *  no hairline seams): [x, y, width, height]. */
export function tileRect(t: ViewTransform, tile: Pick<Tile, "z" | "x" | "y">): number[] {
  const size = WORLD / 2 ** tile.z;
  const [x0, y0] = worldToPixel(t, [tile.x * size, tile.y * size]).map(Math.round);
  const [x1, y1] = worldToPixel(t, [(tile.x + 1) * size, (tile.y + 1) * size]).map(Math.round);
  return [x0, y0, x1 - x0, y1 - y0];
}

/** The tile `levels` zooms up that contains `tile` (its column not wrapped, as `tile`'s). */
export function ancestor(tile: Tile, levels: number): Tile {
  const z = tile.z - levels;
  const n = 2 ** z;
  const x = Math.floor(tile.x / 2 ** levels);
  return { z, x, y: Math.floor(tile.y / 2 ** levels), wrappedX: ((x % n) + n) % n };
}
