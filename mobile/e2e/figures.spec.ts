// The leaders' figures (issue 17): the app's /figures screen at a phone's size and at a
// wall's 1920×1080, drilled into a town by a click, a chart's image and its xlsx downloaded;
// and the back office's dashboard drawing the same ECharts at a phone's width.
import { expect, test, type Page } from "@playwright/test";
import { readFileSync } from "node:fs";
import { asUser, expectAccessible, watchErrors } from "./helpers";


async function expectChartsDrawn(page: Page) {
  for (const name of ["trend", "response", "handling", "categories", "departments"]) {
    const chart = page.getByTestId(`chart-${name}`);
    await expect(chart.locator("svg").first()).toBeVisible();
  }
  // values readable without hovering: the labels are text in the drawings
  await expect(page.getByTestId("chart-trend").locator("svg text", { hasText: "案件趋势（发起、办结、超时）" })).toBeVisible();
  await expect(page.getByTestId("chart-response").locator("svg text", { hasText: /^中位数 \d+\.\d 分钟$/ })).toBeVisible();
  await expect(page.getByTestId("chart-response").locator("svg text", { hasText: /^P90 \d+\.\d 分钟$/ })).toBeVisible();
  await expect(page.getByTestId("chart-handling").locator("svg text", { hasText: /^中位数 \d+\.\d 小时$/ })).toBeVisible();
  await expect(page.getByTestId("chart-departments").locator("svg text", { hasText: /%$/ }).first()).toBeVisible();
  await expect(page.getByTestId("chart-trend").locator("svg text", { hasText: "案件数（件）" })).toBeVisible();
}

test.describe("leader", () => {
  test.use({ storageState: asUser("lingdao01") });

  test("reads the figures on a phone, drills into a town, downloads a chart's image and data", async ({ page }) => {
    const errors = watchErrors(page);
    await page.goto("/");
    await page.getByTestId("figures-link").click();
    await expect(page).toHaveURL(/\/figures$/);
    await expect(page.getByTestId("headline")).toContainText("发起案件");
    await expect(page.getByTestId("headline")).toContainText("本期本区域上报的案件数");
    await expect(page.getByTestId("where")).toContainText("奉贤区");
    await expectChartsDrawn(page);
    // nothing wider than the phone
    expect(await page.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(390);
    await expectAccessible(page);

    // the image: a PNG
    const [image] = await Promise.all([page.waitForEvent("download"), page.getByTestId("image-trend").click()]);
    expect(image.suggestedFilename()).toBe("trend.png");
    const png = readFileSync((await image.path())!);
    expect(png.subarray(1, 4).toString()).toBe("PNG");
    // the data: a workbook (a zip; the server's tests read its cells)
    const [xlsx] = await Promise.all([page.waitForEvent("download"), page.getByTestId("xlsx-trend").click()]);
    expect(xlsx.suggestedFilename()).toMatch(/^jinshao-trend-\d{8}-\d{8}\.xlsx$/);
    expect(readFileSync((await xlsx.path())!).subarray(0, 2).toString()).toBe("PK");

    // drill down: a click on the first town's bar shows that town and its grids
    const places = page.getByTestId("chart-places");
    await expect(places.locator("svg text", { hasText: "各镇（街道）案件数" })).toBeVisible();
    const areas = await (await page.request.get("/api/v1/analytics/areas/")).json();
    const town = areas.data.towns[0];
    await places.locator("svg path[fill='#1989fa']").first().click();
    await expect(page).toHaveURL(new RegExp(`area=${town.area}`));
    await expect(page.getByTestId("where")).toContainText(town.name);
    await expect(places.locator("svg text", { hasText: "各网格案件数" })).toBeVisible();
    await expectChartsDrawn(page);
    await page.getByTestId("up").click();
    await expect(page.getByTestId("where")).toContainText("奉贤区");
    expect(errors).toEqual([]);
  });

  test.describe("on a wall screen", () => {
    test.use({ viewport: { width: 1920, height: 1080 }, isMobile: false, hasTouch: false });
    test("the same figures at 1920×1080, larger, side by side", async ({ page }) => {
      const errors = watchErrors(page);
      await page.goto("/figures");
      await expectChartsDrawn(page);
      const trend = await page.getByTestId("chart-trend").boundingBox();
      const response = await page.getByTestId("chart-response").boundingBox();
      expect(trend && response && trend.width < 1000).toBeTruthy(); // two or three columns
      expect(await page.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(1920);
      if (process.env.E2E_SCREENSHOT) await page.screenshot({ path: process.env.E2E_SCREENSHOT, fullPage: true });
      expect(errors).toEqual([]);
    });
  });

  test("the back office's dashboard draws the same charts and fits a phone", async ({ page }) => {
    const errors = watchErrors(page);
    await page.goto("/admin/dashboard/");
    await expect(page.locator("[data-chart=trend] svg")).toBeVisible();
    await expect(page.locator("[data-chart=response] svg text", { hasText: /^中位数 \d+\.\d 分钟$/ })).toBeVisible();
    await expect(page.locator("[data-chart=places] svg text", { hasText: "各镇（街道）案件数" })).toBeVisible();
    await expect(page.locator("[data-xlsx=trend]")).toHaveAttribute("href", /\/api\/v1\/analytics\/trend\/xlsx\/\?from=/);
    const [xlsx] = await Promise.all([page.waitForEvent("download"), page.locator("[data-xlsx=departments]").click()]);
    expect(readFileSync((await xlsx.path())!).subarray(0, 2).toString()).toBe("PK");
    expect(await page.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(390);
    expect(errors).toEqual([]);
  });
});

test.describe("village official", () => {
  test.use({ storageState: asUser("cun001") });
  test("is not offered the figures", async ({ page }) => {
    await page.goto("/");
    await expect(page.getByTestId("home")).toBeVisible();
    await expect(page.getByTestId("figures-link")).toHaveCount(0);
    expect((await page.request.get("/api/v1/analytics/trend/")).status()).toBe(403);
  });
});
