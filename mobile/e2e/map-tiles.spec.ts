// The map's tile layer (issue 17): with JINSHAO_MAP_TILES_URL set, a second server on the
// same data (serve.py E2E_SERVE_VAR) sends the template; the tiles (answered here by
// page.route with a magenta PNG: this network has no tile server) are asked for over the
// district's extent at a zoom of ~256-px tiles, drawn under the areas, asked for again
// after a drill, a zoom and a pan, and the attribution shows. Without the setting (the
// run's own server) nothing is asked of any other host.
import { expect, test, type Locator, type Page } from "@playwright/test";
import { spawn, type ChildProcess } from "node:child_process";
import { createServer } from "node:net";
import { dirname, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { asUser, info, watchErrors } from "./helpers";
import { decodePng } from "./png";

const root = resolve(dirname(fileURLToPath(import.meta.url)), "../..");
const TILES = "https://tiles.example.test/{z}/{x}/{y}.png";
const ATTRIBUTION = "© 测试瓦片";
// A 4×4 magenta PNG: a colour nothing else on the map has.
const MAGENTA_PNG = Buffer.from("iVBORw0KGgoAAAANSUhEUgAAAAQAAAAECAIAAAAmkwkpAAAAEUlEQVR4nGP4z/AfjhiI4wAAPSEf4dghpuIAAAAASUVORK5CYII=", "base64");

function freePort(): Promise<number> {
  return new Promise((done, fail) => {
    const server = createServer();
    server.once("error", fail);
    server.listen(0, "127.0.0.1", () => {
      const port = (server.address() as { port: number }).port;
      server.close(() => done(port));
    });
  });
}

/** A second server on the run's data with a tile source configured. */
async function tiledServer(port: number): Promise<ChildProcess> {
  const child = spawn(resolve(root, ".venv/bin/python"), [resolve(root, "mobile/e2e/serve.py")], {
    cwd: root,
    env: { ...process.env, E2E_PORT: String(port), E2E_SERVE_VAR: info().var, JINSHAO_MAP_TILES_URL: TILES, JINSHAO_MAP_TILES_ATTRIBUTION: ATTRIBUTION },
    stdio: ["ignore", "ignore", "inherit"],
  });
  for (let i = 0; i < 600; i++) {
    try {
      if ((await fetch(`http://127.0.0.1:${port}/health/live`)).ok) return child;
    } catch {
      // not listening yet
    }
    if (child.exitCode !== null) throw new Error(`the tiled server stopped (${child.exitCode})`);
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error("the tiled server did not start");
}

/** The standard slippy-map tile numbers (OpenStreetMap wiki), written apart from the app's. */
const tileX = (lon: number, z: number) => Math.floor(((lon + 180) / 360) * 2 ** z);
const tileY = (lat: number, z: number) => {
  const r = (lat * Math.PI) / 180;
  return Math.floor(((1 - Math.asinh(Math.tan(r)) / Math.PI) / 2) * 2 ** z);
};

/** The lon/lat extent of every boundary in a GeoJSON FeatureCollection. */
function bbox(collection: { features: { geometry: { coordinates: unknown } | null }[] }) {
  const box = { west: Infinity, south: Infinity, east: -Infinity, north: -Infinity };
  const walk = (c: unknown): void => {
    if (Array.isArray(c) && typeof c[0] === "number") {
      box.west = Math.min(box.west, c[0]);
      box.east = Math.max(box.east, c[0]);
      box.south = Math.min(box.south, c[1]);
      box.north = Math.max(box.north, c[1]);
    } else if (Array.isArray(c)) c.forEach(walk);
  };
  for (const f of collection.features) if (f.geometry) walk(f.geometry.coordinates);
  return box;
}

/** Every tile asked for, as "z/x/y". */
async function routeTiles(page: Page, answer: "png" | "missing" = "png"): Promise<string[]> {
  const asked: string[] = [];
  await page.route("https://tiles.example.test/**", async (route) => {
    asked.push(new URL(route.request().url()).pathname.slice(1).replace(/\.png$/, ""));
    if (answer === "png") await route.fulfill({ status: 200, contentType: "image/png", body: MAGENTA_PNG });
    else await route.fulfill({ status: 404, body: "" });
  });
  return asked;
}

const isMagenta = ([r, g, b]: number[]) => r > 240 && g < 15 && b > 240;

/** The map's top corners (above the areas, which are fitted into the middle) show tiles:
 *  the layer covers the whole view, not a part of it. */
async function expectTilesInCorners(map: Locator): Promise<void> {
  const shot = decodePng(await map.screenshot());
  const corners = [shot.at(3, 3), shot.at(shot.width - 4, 3)];
  expect(corners.every(isMagenta), JSON.stringify(corners)).toBe(true);
}

test.describe("with a tile source", () => {
  test.use({ storageState: asUser("lingdao01"), serviceWorkers: "block" });
  let server: ChildProcess | null = null;
  let base = "";

  test.beforeAll(async () => {
    const port = await freePort();
    server = await tiledServer(port);
    base = `http://127.0.0.1:${port}`;
  });

  test.afterAll(async () => {
    if (!server || server.exitCode !== null) return;
    const gone = new Promise((r) => server!.once("exit", r));
    server.kill("SIGTERM");
    await gone;
  });

  test("the CSP lets the tile host into img-src, and only on the server that names it", async ({ request }) => {
    const tiled = (await request.get(`${base}/`)).headers()["content-security-policy"];
    expect(tiled).toMatch(/img-src [^;]*https:\/\/tiles\.example\.test/);
    const plain = (await request.get(`${info().baseURL}/`)).headers()["content-security-policy"];
    expect(plain).toContain("img-src");
    expect(plain).not.toContain("tiles.example.test");
  });

  test("tiles cover the district under the areas and follow a drill, a zoom and a pan", async ({ page }) => {
    const errors = watchErrors(page);
    const asked = await routeTiles(page);
    await page.goto(`${base}/figures/map`);
    const map = page.getByTestId("area-map");
    await expect(page.getByText("按镇（街道）")).toBeVisible();
    await expect(map).toHaveAttribute("data-tiles", /^[1-9]\d*$/);
    await expect(page.getByTestId("attribution")).toHaveText(ATTRIBUTION);
    await expect(page.getByTestId("attribution")).toBeVisible();

    // Every tile over the district's boundaries was asked for, at the zoom drawn; no more than 64.
    const z = Number(await map.getAttribute("data-tile-zoom"));
    const shapes = await (await page.request.get(`${base}/api/v1/analytics/map/?level=town&indicator=cases`)).json();
    expect(shapes.data.tiles).toEqual({ url: TILES, attribution: ATTRIBUTION });
    const box = bbox(shapes.data);
    const atZ = new Set(asked.filter((t) => t.startsWith(`${z}/`)));
    const expected: string[] = [];
    for (let x = tileX(box.west, z); x <= tileX(box.east, z); x++) for (let y = tileY(box.north, z); y <= tileY(box.south, z); y++) expected.push(`${z}/${x}/${y}`);
    expect(expected.length).toBeGreaterThan(1);
    expect(expected.filter((t) => !atZ.has(t))).toEqual([]);
    expect(atZ.size).toBeLessThanOrEqual(64);
    await expect(map).toHaveAttribute("data-tiles", String(atZ.size)); // every one loaded is drawn
    // Drawn under the areas: magenta where no area is, the areas' colours over it (blended,
    // not hidden: the fills let the tiles show through) in the middle of the district.
    await page.waitForTimeout(500); // the last tiles' images are drawn on the next frame
    const shot = decodePng(await map.screenshot());
    let magenta = 0;
    for (let y = 0; y < shot.height; y += 4) for (let x = 0; x < shot.width; x += 4) if (isMagenta(shot.at(x, y))) magenta++;
    expect(magenta).toBeGreaterThan((shot.width / 4) * (shot.height / 4) * 0.03);
    await expectTilesInCorners(map);
    const middle: number[][] = [];
    for (let dy = -20; dy <= 20; dy += 10) for (let dx = -20; dx <= 20; dx += 10) middle.push(shot.at(shot.width / 2 + dx, (shot.height - 48) / 2 + dy));
    const blended = middle.filter((p) => !isMagenta(p) && p[2] > 60);
    expect(blended.length, JSON.stringify(middle)).toBeGreaterThan(middle.length / 2);

    // A drill into a town: tiles of a closer zoom.
    const before = asked.length;
    const canvas = (await map.boundingBox())!;
    await page.mouse.click(canvas.x + canvas.width / 2, canvas.y + (canvas.height - 48) / 2);
    await expect(page.getByText("按网格")).toBeVisible();
    await expect.poll(async () => Number(await map.getAttribute("data-tile-zoom"))).toBeGreaterThan(z);
    expect(asked.length).toBeGreaterThan(before);
    await page.waitForTimeout(500);
    await expectTilesInCorners(map);
    await expect(page.getByTestId("attribution")).toBeVisible();

    // A zoom by the wheel, then a pan by a drag: each asks for tiles not asked for before.
    const z2 = Number(await map.getAttribute("data-tile-zoom"));
    await page.mouse.move(canvas.x + canvas.width / 2, canvas.y + canvas.height / 3);
    const seen = new Set(asked);
    for (let i = 0; i < 10; i++) await page.mouse.wheel(0, -400); // ECharts zooms ~10 % a notch
    await expect.poll(async () => Number(await map.getAttribute("data-tile-zoom"))).toBeGreaterThan(z2);
    await expect.poll(() => asked.filter((t) => !seen.has(t)).length).toBeGreaterThan(0);
    const seen2 = new Set(asked);
    await page.mouse.move(canvas.x + canvas.width / 2, canvas.y + canvas.height / 3);
    await page.mouse.down();
    await page.mouse.move(canvas.x + canvas.width / 2 - 300, canvas.y + canvas.height / 3 + 200, { steps: 12 });
    await page.mouse.up();
    await expect.poll(() => asked.filter((t) => !seen2.has(t)).length).toBeGreaterThan(0);
    expect(Number(await map.getAttribute("data-tiles"))).toBeLessThanOrEqual(64);
    expect(errors).toEqual([]);
  });

  test("the wall draws the tiles under its map and shows the attribution", async ({ page }) => {
    await page.setViewportSize({ width: 1920, height: 1080 });
    const errors = watchErrors(page);
    const asked = await routeTiles(page);
    await page.goto(`${base}/wall`);
    await expect(page.getByTestId("wall-status")).toHaveText("实时");
    const map = page.getByTestId("area-map");
    await expect(map).toHaveAttribute("data-tiles", /^[1-9]\d*$/);
    expect(asked.length).toBeGreaterThan(0);
    expect(Number(await map.getAttribute("data-tiles"))).toBeLessThanOrEqual(64);
    await expect(page.getByTestId("attribution")).toHaveText(ATTRIBUTION);
    await expect(page.getByTestId("attribution")).toBeVisible();
    expect(errors).toEqual([]);
  });

  test("tiles that fail to load leave the map working", async ({ page }) => {
    const errors = watchErrors(page);
    const asked = await routeTiles(page, "missing");
    await page.goto(`${base}/figures/map`);
    await expect(page.getByText("按镇（街道）")).toBeVisible();
    await expect.poll(() => asked.length).toBeGreaterThan(0);
    await expect(page.getByTestId("area-list").locator("[data-area]").first()).toBeVisible();
    await expect(page.getByTestId("area-map")).toHaveAttribute("data-tiles", "0");
    // Only the browser's own line per missing image: nothing from the app.
    expect(errors.filter((e) => !e.startsWith("Failed to load resource"))).toEqual([]);
  });
});

test.describe("without a tile source", () => {
  test.use({ storageState: asUser("lingdao01"), serviceWorkers: "block" });

  test("no tile is asked for and no attribution shows", async ({ page }) => {
    const errors = watchErrors(page);
    const elsewhere: string[] = [];
    page.on("request", (r) => {
      if (new URL(r.url()).hostname !== "127.0.0.1") elsewhere.push(r.url());
    });
    await page.goto("/figures/map");
    await expect(page.getByText("按镇（街道）")).toBeVisible();
    await expect(page.getByTestId("area-list").locator("[data-area]").first()).toBeVisible();
    await expect(page.getByTestId("area-map").locator("canvas").first()).toBeVisible();
    await page.waitForTimeout(500);
    await expect(page.getByTestId("area-map")).toHaveAttribute("data-tiles", "0");
    await expect(page.getByTestId("attribution")).toHaveCount(0);
    expect(elsewhere).toEqual([]);
    expect(errors).toEqual([]);
  });
});
