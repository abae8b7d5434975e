// The screens of two roles the case life does not pass through: the commander's
// intake queue (deliveries from other systems) and a department head's monthly
// ratings; and the refusals they can meet, each read as the server's own words.
import { expect, test } from "@playwright/test";
import { asUser, expectAccessible, info } from "./helpers";

test.describe("commander", () => {
  test.use({ storageState: asUser("zhihui01") });

  test("the intake queue: a delivery dismissed with a reason, another made into a case", async ({ page }) => {
    const [dismissId, resolveId] = info().intake;
    await page.goto("/");
    const entry = page.getByTestId("intake");
    await expect(entry).toBeVisible();
    await entry.click();
    await expect(page).toHaveURL(/\/intake$/);
    const list = page.getByTestId("intake-list");
    const toDismiss = list.locator(`[data-review="${dismissId}"]`);
    const toResolve = list.locator(`[data-review="${resolveId}"]`);
    await expect(toDismiss).toContainText("浏览器测试：井盖缺失");
    // why it waits, in words (the unmapped category code)
    await expect(toDismiss).toContainText("E2E-X");
    await expectAccessible(page);

    // Dismissing without a reason is refused before anything is sent; with one, it goes.
    await toDismiss.locator('[data-action="dismiss"]').click();
    const sheet = page.getByTestId("intake-sheet");
    await sheet.getByTestId("intake-confirm").click();
    await expect(sheet).toContainText("请填写");
    await sheet.getByRole("textbox").fill("与城运平台另一工单重复，已在该工单处理");
    await sheet.getByTestId("intake-confirm").click();
    await expect(toDismiss).toHaveCount(0);

    // Making a case: template and community are asked for, then the new case opens.
    await toResolve.locator('[data-action="resolve"]').click();
    await sheet.getByTestId("intake-confirm").click();
    await expect(sheet.locator(".van-field__error-message").first()).toBeVisible();
    await sheet.getByText("案件模板", { exact: false }).first().click();
    await page.locator(".van-picker__confirm").click();
    const community = sheet.locator(".van-field").nth(1).locator("input");
    if (!(await community.inputValue())) {
      await sheet.locator(".van-field").nth(1).click();
      await page.locator(".van-picker__confirm").click();
    }
    await sheet.getByTestId("intake-confirm").click();
    const kase = page.getByTestId("case");
    await expect(kase).toBeVisible();
    await expect(kase).toContainText("浏览器测试：重复上报");

    // The server agrees: both entries left the pending queue.
    const pending = await page.request.get("/api/v1/intake-reviews/");
    const ids = ((await pending.json()).results as { id: number }[]).map((r) => r.id);
    expect(ids).not.toContain(dismissId);
    expect(ids).not.toContain(resolveId);
  });
});

test.describe("department head", () => {
  test.use({ storageState: asUser("juzhang01") });

  test("the department's ratings by month show what the server publishes, and nothing more", async ({ page }) => {
    await page.goto("/");
    await page.getByTestId("department-ratings").click();
    await expect(page).toHaveURL(/\/departments\/\d+\/ratings$/);
    const department = Number(/departments\/(\d+)/.exec(page.url())![1]);
    const standing = page.getByTestId("standing");
    await expect(standing).toBeVisible();

    const year = new Date().getFullYear();
    const answer = await page.request.get(`/api/v1/departments/${department}/ratings/?year=${year}`);
    expect(answer.ok()).toBeTruthy();
    const figures = await answer.json();
    await expect(standing).toContainText(figures.department.name);
    if (figures.withheld || figures.overall === null) await expect(standing).toContainText("不足");
    else await expect(standing).toContainText(String(figures.overall));
    for (const month of figures.months as { month: number; published: boolean; withheld: boolean; overall: string | null }[]) {
      const row = page.locator(`[data-month="${month.month}"]`);
      await expect(row).toBeVisible();
      if (month.published && !month.withheld && month.overall !== null) await expect(row).toContainText(String(month.overall));
      else await expect(row).not.toContainText(/\d+\.\d/); // no mean shown where the server withholds one
    }
    await expectAccessible(page);

    // Another department's page is refused, in words.
    await page.goto(`/departments/${department + 1}/ratings`);
    await expect(page.locator(".van-empty__description")).toHaveText("您无权查看该部门的评价");
  });
});
