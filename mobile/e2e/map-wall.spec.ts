// The leaders' map and the operations-centre wall (issue 17), at a phone's size and on a
// desktop screen: the map draws the API's areas and drills into a town by a click on it;
// the wall shows today's counts and moves when a case is raised by someone else.
import { expect, request, test, type Page } from "@playwright/test";
import { readFileSync } from "node:fs";
import { asUser, expectAccessible, info, watchErrors } from "./helpers";

const SIZES = [
  { name: "phone", use: { viewport: { width: 390, height: 844 } } },
  { name: "desktop", use: { viewport: { width: 1920, height: 1080 }, isMobile: false, hasTouch: false, deviceScaleFactor: 1 } },
];


/** Raise a case as the village official (another person, through the API). */
async function raiseAsOfficial(title: string): Promise<void> {
  const context = await request.newContext({ baseURL: info().baseURL, storageState: asUser("cun001") });
  try {
    const state = JSON.parse(readFileSync(asUser("cun001"), "utf-8")) as { cookies: { name: string; value: string }[] };
    const csrf = state.cookies.find((c) => c.name === "csrftoken")?.value ?? "";
    const known = await (await context.get(`/api/v1/cases/${info().pending_review}/`)).json();
    const answer = await context.post("/api/v1/cases/", {
      data: { community: known.community.id, category: known.category.id, title, submit: true },
      headers: { "X-CSRFToken": csrf, Referer: info().baseURL },
    });
    expect(answer.ok(), await answer.text()).toBe(true);
  } finally {
    await context.dispose();
  }
}

for (const size of SIZES) {
  test.describe(`leader, ${size.name}`, () => {
    test.use({ storageState: asUser("lingdao01"), ...size.use });

    test(`the map draws the towns and a click on one drills into its grids (${size.name})`, async ({ page }) => {
      const errors = watchErrors(page);
      await page.goto("/");
      await page.getByTestId("figures-map").click();
      await expect(page.getByTestId("here")).toBeVisible();
      const list = page.getByTestId("area-list");
      await expect(list.locator("[data-area]").first()).toBeVisible();
      const towns = await list.locator("[data-area]").count();
      expect(towns).toBeGreaterThan(1);
      await expect(list).toContainText("件"); // values with their unit
      await expectAccessible(page);
      await expect(page.getByText("按镇（街道）")).toBeVisible();
      const canvas = page.getByTestId("area-map").locator("canvas").first();
      await expect(canvas).toBeVisible();
      const top = await page.getByTestId("here").textContent();
      if (process.env.E2E_SHOTS) await page.screenshot({ path: `${process.env.E2E_SHOTS}/map-${size.name}.png`, fullPage: true });

      // A click in the middle of the drawn district lands on one of its towns.
      const box = (await canvas.boundingBox())!;
      await page.mouse.click(box.x + box.width / 2, box.y + (box.height - 48) / 2);
      await expect(page.getByText("按网格")).toBeVisible();
      const town = await page.getByTestId("here").textContent();
      expect(town).not.toBe(top);
      await expect(page.getByTestId("crumbs")).toContainText(top!);
      await expect(list.locator("[data-area]").first()).toBeVisible();

      // Back to the top by its crumb.
      await page.getByTestId("crumbs").getByRole("button").first().click();
      await expect(page.getByText("按镇（街道）")).toBeVisible();

      // Another indicator: the list says its unit and the page its definition.
      await page.getByRole("button", { name: "案件数" }).click();
      await page.getByRole("menuitem", { name: "超时占比" }).click();
      await expect(page.getByText(/^超时占比：/)).toBeVisible();
      await expect(list.locator("[data-area]").first()).toContainText(/%|无数据/);
      expect(errors).toEqual([]);
    });

    test(`the wall shows today's counts and moves when a case is raised (${size.name})`, async ({ page }) => {
      const errors = watchErrors(page);
      await page.goto("/wall");
      await expect(page.getByTestId("wall-status")).toHaveText("实时");
      const raised = page.getByTestId("wall-raised").locator(".value");
      await expect(raised).toHaveText(/^\d+$/);
      for (const tile of ["wall-inProgress", "wall-overdue", "wall-closed"]) await expect(page.getByTestId(tile).locator(".value")).toHaveText(/^\d+$/);
      await expect(page.getByTestId("area-map").locator("canvas").first()).toBeVisible();
      const before = Number(await raised.textContent());

      const title = `大屏测试 ${size.name} ${Date.now()}`;
      await raiseAsOfficial(title);
      await expect(raised).toHaveText(String(before + 1));
      await expect(page.getByTestId("wall-latest")).toContainText(title);
      await expectAccessible(page);
      if (process.env.E2E_SHOTS) await page.screenshot({ path: `${process.env.E2E_SHOTS}/wall-${size.name}.png` });

      // The light theme, for a bright room.
      await page.getByRole("button", { name: "浅色" }).click();
      await expect(page.getByTestId("wall")).toHaveClass(/light/);
      expect(errors).toEqual([]);
    });
  });
}

test.describe("village official", () => {
  test.use({ storageState: asUser("cun001") });
  test("the wall is not theirs: it says so and does not retry", async ({ page }) => {
    await page.goto("/wall");
    await expect(page.getByRole("alert")).toContainText("领导");
    await expect(page.getByTestId("wall-status")).toHaveText("已断开");
  });
});
